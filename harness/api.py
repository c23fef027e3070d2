"""The composition root: what the CLI and the pytest plugin call. Returns values or raises; never prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import ConfigError
from harness.mockllm import MockLLMServer
from harness.mockllm.selfcheck import SelfCheckReport, run_selfcheck

if TYPE_CHECKING:
    from harness.models.traces import RunRecord, RunTrace
    from harness.traces import TraceStats


def selfcheck(scenario: str | None = None) -> SelfCheckReport:
    """Start the scripted model server in the background and check it with the official openai client."""
    with MockLLMServer(scenario) as server:
        return run_selfcheck(server)


__all__ = ["SelfCheckReport", "selfcheck"]


# -----------------------------------------------------------------------------------------------------------------
# Trace store: what `agenteval traces` calls. harness.traces (duckdb, pandas) is imported on use, so that commands
# which never touch the store start fast.
# -----------------------------------------------------------------------------------------------------------------

DEFAULT_TRACE_DB = Path(".agenteval/traces.duckdb")
"""The trace store used unless ``--db`` or ``AGENTEVAL_DB`` name another (same as ``harness.traces``)."""

EXPORT_FORMATS = ("otlp-json",)
"""Formats ``export_trace`` writes."""


def list_traces(
    db: str | Path = DEFAULT_TRACE_DB,
    *,
    status: str | None = None,
    agent: str | None = None,
    prompt_version: str | None = None,
    since: str | None = None,
    limit: int | None = 50,
) -> list[RunRecord]:
    """Stored runs, newest first.

    Args:
        db: The trace store file.
        status: Only runs with this status (``completed``, ``escalated``, ``max_steps``, ...).
        agent: Only runs of this agent.
        prompt_version: Only runs with this prompt version.
        since: Only runs started since then: a duration back from now (``1h``, ``2d``) or an ISO date/time.
        limit: At most this many runs (``None``: all).

    Raises:
        HarnessError: The store does not exist or is locked, or a filter is invalid.
    """
    from harness.traces import TraceStore, parse_since

    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {limit}.")
    since_ns = parse_since(since) if since else None
    return TraceStore(db).list_runs(
        status=status, agent=agent, prompt_version=prompt_version, since_ns=since_ns, limit=limit
    )


def get_trace(db: str | Path, run_id: str) -> RunTrace:
    """One stored run (by id or unique id prefix) with all its spans, in ``seq`` order."""
    from harness.traces import TraceStore

    return TraceStore(db).get_trace(run_id)


def trace_stats(
    db: str | Path = DEFAULT_TRACE_DB,
    *,
    status: str | None = None,
    agent: str | None = None,
    prompt_version: str | None = None,
    since: str | None = None,
) -> TraceStats:
    """Success rate, durations, tokens, retries and tool error rates over the stored runs that match."""
    from harness.traces import TraceStore, compute_stats, parse_since

    since_ns = parse_since(since) if since else None
    return compute_stats(TraceStore(db), status=status, agent=agent, prompt_version=prompt_version, since_ns=since_ns)


def export_trace(db: str | Path, run_id: str, format: str = "otlp-json") -> dict[str, Any]:
    """One stored run as an OTLP/JSON ``ExportTraceServiceRequest`` (the only format so far).

    Raises:
        ConfigError: ``format`` is not one of :data:`EXPORT_FORMATS`.
    """
    from harness.traces import TraceStore, to_otlp_json

    if format not in EXPORT_FORMATS:
        raise ConfigError(f"Unknown export format '{format}'. Valid formats: {', '.join(EXPORT_FORMATS)}.")
    trace = TraceStore(db).get_trace(run_id)
    return to_otlp_json(trace.run, trace.spans)


__all__ += ["export_trace", "get_trace", "list_traces", "trace_stats"]


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


__all__ += ["run_agent"]
