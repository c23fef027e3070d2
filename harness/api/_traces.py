"""Trace store queries: what ``agenteval traces`` calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.models.traces import RunRecord, RunTrace
    from harness.traces import TraceStats

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
