"""Build the reference support agent: the support tools, a prompt version, the ``SupportReply`` answer type."""

from __future__ import annotations

from harness.agent.guards import ApprovalPolicy, Limits
from harness.agent.prompts import Prompt, available_versions
from harness.agent.redaction import Redactor
from harness.agent.runtime import Agent, ModelSettings, TraceSink
from harness.agent.support import AGENT_NAME, PROMPT_VARIABLES, Shop, SupportReply, make_support_tools


def support_agent(
    prompt_version: str = "v1",
    *,
    model: ModelSettings | None = None,
    limits: Limits | None = None,
    approval: ApprovalPolicy = None,
    trace_sink: TraceSink | None = None,
    api_key: str | None = None,
    redactor: Redactor | None = None,
    shop: Shop | None = None,
) -> Agent:
    """The reference support agent.

    Args:
        prompt_version: a file in ``harness/agent/prompts/support/`` (``v1``; ``v2`` is hardened against prompt
            injection through tool output).
        model: endpoint and model; the scripted server's ``support`` scenario plays this agent's model offline.
        limits: guard settings.
        approval: what happens to refunds above the approval limit (``None``: the run stops ``awaiting_approval``).
        trace_sink: where runs are recorded (a ``TraceStore``).
        api_key: for real endpoints (``OPENAI_API_KEY`` otherwise).
        redactor: PII redaction for stored traces (on by default).
        shop: one shop for every run (by default each run gets a fresh copy of the fixture shop).
    """
    return Agent(
        AGENT_NAME,
        Prompt.load(AGENT_NAME, prompt_version),
        make_support_tools(shop),
        model=model,
        limits=limits,
        output_type=SupportReply,
        prompt_variables=dict(PROMPT_VARIABLES),
        approval=approval,
        trace_sink=trace_sink,
        api_key=api_key,
        redactor=redactor,
    )


def support_prompt_versions() -> list[str]:
    """Prompt versions of the support agent that exist on disk."""
    return available_versions(AGENT_NAME)
