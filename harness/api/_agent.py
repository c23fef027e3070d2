"""The reference agent: what ``agenteval agent run`` calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.api._traces import DEFAULT_TRACE_DB
from harness.mockllm import MockLLMServer

if TYPE_CHECKING:
    from harness.models.traces import RunRecord

# -----------------------------------------------------------------------------------------------------------------
# The reference agent: what `agenteval agent run` calls.
# -----------------------------------------------------------------------------------------------------------------


def run_agent(
    message: str,
    *,
    prompt_version: str = "v1",
    base_url: str | None = None,
    model: str = "mock-gpt",
    seed: int | None = None,
    approval: Literal["approve", "deny"] | None = None,
    db: str | Path = DEFAULT_TRACE_DB,
) -> RunRecord:
    """Run the reference support agent once and record the run in the trace store.

    Args:
        message: The customer's message.
        prompt_version: Prompt file under ``harness/agent/prompts/support/``.
        base_url: OpenAI-compatible endpoint; ``None`` starts the scripted model (scenario ``support``) in-process,
            so no key and no network are needed.
        model: Model name.
        seed: Sampling seed for every model call.
        approval: Refunds above the approval limit: ``None`` stops the run ``awaiting_approval``.
        db: Trace store file.

    Returns:
        The stored run record (PII redacted), with status, usage and the answer.
    """
    from harness.agent import ModelSettings
    from harness.agent.reference import support_agent
    from harness.traces import TraceStore

    store = TraceStore(db)

    def run(url: str) -> RunRecord:
        agent = support_agent(
            prompt_version,
            model=ModelSettings(model=model, base_url=url, seed=seed),
            approval=approval,
            trace_sink=store,
        )
        return agent.run(message).run

    if base_url is not None:
        return run(base_url)
    with MockLLMServer("support") as server:
        return run(server.base_url)
