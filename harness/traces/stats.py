"""Summary statistics over stored runs, computed with pandas from the store alone.

Rates are over all matching runs (a run still ``started`` counts as not successful: a crashed run must not look
like a success); per-run figures are over finished runs (any status but ``started``). Percentiles interpolate
linearly between closest ranks (pandas' and numpy's default). Undefined figures (no runs) are ``None``.
"""

from __future__ import annotations

from typing import Unpack

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs

from harness.models._base import Record
from harness.models.traces import FINISHED_OK
from harness.traces.store import RunFilterArgs, TraceStore


class ToolErrorStats(Record):
    """How often one tool failed."""

    tool_name: str
    """Tool name (``(unknown)`` for a tool span without ``gen_ai.tool.name``)."""
    calls: int
    """Tool calls (``execute_tool`` spans) of this tool."""
    errors: int
    """Calls whose outcome was not ``ok``."""
    error_rate: float
    """``errors / calls``."""


class TraceStats(Record):
    """Figures over the runs that match a filter (what ``agenteval traces stats`` shows)."""

    runs: int
    """Runs that match."""
    finished_runs: int
    """Runs that ended (any status but ``started``): the denominator of the per-run figures."""
    status_counts: dict[str, int]
    """Runs per status, most frequent first."""
    success_rate: float | None
    """Share of runs with status ``completed`` or ``escalated`` (escalating to a human is a legitimate outcome)."""
    escalation_rate: float | None
    """Share of runs with status ``escalated``."""
    duration_ms_p50: float | None
    """Median wall-clock duration of finished runs, milliseconds."""
    duration_ms_p95: float | None
    """95th percentile duration, milliseconds."""
    duration_ms_p99: float | None
    """99th percentile duration, milliseconds."""
    tokens_per_run_mean: float | None
    """Mean of input + output tokens per finished run."""
    tokens_per_run_p50: float | None
    """Median of input + output tokens per finished run."""
    retries_per_run_mean: float | None
    """Mean model-call retries per finished run."""
    steps_per_completion_mean: float | None
    """Mean steps (answered model calls) of runs that finished their job (``completed`` or ``escalated``)."""
    tool_calls: int
    """Tool calls over all matching runs."""
    tool_errors: int
    """Tool calls whose outcome was not ``ok``."""
    tool_error_rate: float | None
    """``tool_errors / tool_calls``."""
    tools: list[ToolErrorStats]
    """Per tool, most calls first."""


def compute_stats(store: TraceStore, **filters: Unpack[RunFilterArgs]) -> TraceStats:
    """Compute :class:`TraceStats` over the runs that match ``filters``.

    Args:
        store: Where the runs are.
        **filters: ``status``, ``agent``, ``prompt_version``, ``since_ns``, ``until_ns``.
    """
    runs = store.runs_frame(**filters)
    tools = store.tool_calls_frame(**filters)
    total = len(runs)
    finished = runs[runs["status"] != "started"]
    done = runs[runs["status"].isin(sorted(FINISHED_OK))]
    durations = (finished["end_ns"] - finished["start_ns"]).dropna().astype("float64") / 1e6
    tokens = (finished["input_tokens"] + finished["output_tokens"]).astype("float64")
    counts = runs["status"].value_counts()
    tool_calls = len(tools)
    tool_errors = int(tools["is_error"].sum()) if tool_calls else 0
    return TraceStats(
        runs=total,
        finished_runs=len(finished),
        status_counts={str(status): int(n) for status, n in counts.items()},
        success_rate=_share(len(done), total),
        escalation_rate=_share(int((runs["status"] == "escalated").sum()), total),
        duration_ms_p50=_quantile(durations, 0.50),
        duration_ms_p95=_quantile(durations, 0.95),
        duration_ms_p99=_quantile(durations, 0.99),
        tokens_per_run_mean=_mean(tokens),
        tokens_per_run_p50=_quantile(tokens, 0.50),
        retries_per_run_mean=_mean(finished["retries"].astype("float64")),
        steps_per_completion_mean=_mean(done["steps"].astype("float64")),
        tool_calls=tool_calls,
        tool_errors=tool_errors,
        tool_error_rate=_share(tool_errors, tool_calls),
        tools=_per_tool(tools),
    )


def _per_tool(tools: pd.DataFrame) -> list[ToolErrorStats]:
    if tools.empty:
        return []
    names = tools["tool_name"].astype("object").where(tools["tool_name"].notna(), "(unknown)")
    grouped = tools.assign(tool_name=names, is_error=tools["is_error"].astype("int64")).groupby("tool_name")
    table = grouped["is_error"].agg(calls="count", errors="sum").reset_index()
    table = table.sort_values(["calls", "tool_name"], ascending=[False, True])
    return [
        ToolErrorStats(tool_name=str(name), calls=int(calls), errors=int(errors), error_rate=errors / calls)
        for name, calls, errors in table[["tool_name", "calls", "errors"]].itertuples(index=False)
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None


def _quantile(values: pd.Series, q: float) -> float | None:
    return float(values.quantile(q)) if len(values) else None
