from __future__ import annotations

import pytest

from harness.traces import TraceStore, compute_stats
from tests.unit.traces.factories import T0, make_run, make_trace

S = 1_000_000_000


@pytest.fixture
def known(store: TraceStore) -> TraceStore:
    """Five runs whose figures are easy to work out by hand."""
    store.write_traces(
        [
            make_trace("r1", start_ns=T0, duration_ms=1000, input_tokens=100, output_tokens=50, retries=0, steps=2),
            make_trace(
                "r2",
                start_ns=T0 + S,
                duration_ms=2000,
                input_tokens=300,
                output_tokens=100,
                retries=2,
                steps=4,
                tool_outcomes=("ok", "ok"),
            ),
            make_trace(
                "r3",
                start_ns=T0 + 2 * S,
                status="escalated",
                duration_ms=3000,
                input_tokens=200,
                output_tokens=0,
                retries=1,
                steps=3,
                tool_outcomes=("ok", "denied"),
                agent_name="billing",
            ),
            make_trace(
                "r4",
                start_ns=T0 + 3 * S,
                status="max_steps",
                duration_ms=4000,
                input_tokens=500,
                output_tokens=500,
                retries=0,
                steps=10,
                tool_outcomes=("error", "error"),
            ),
        ]
    )
    store.begin_run(make_run("r5", start_ns=T0 + 4 * S, end_ns=None, input_tokens=0, output_tokens=0))
    return store


def test_stats_on_a_known_dataset(known: TraceStore) -> None:
    stats = compute_stats(known)
    assert stats.runs == 5
    assert stats.finished_runs == 4
    assert stats.status_counts == {"completed": 2, "escalated": 1, "max_steps": 1, "started": 1}
    assert stats.success_rate == pytest.approx(3 / 5)  # completed + escalated, the started run counts against
    assert stats.escalation_rate == pytest.approx(1 / 5)
    # Finished durations 1000, 2000, 3000, 4000 ms; linear interpolation between ranks.
    assert stats.duration_ms_p50 == pytest.approx(2500)
    assert stats.duration_ms_p95 == pytest.approx(3000 + 0.85 * 1000)
    assert stats.duration_ms_p99 == pytest.approx(3000 + 0.97 * 1000)
    # Tokens per finished run: 150, 400, 200, 1000.
    assert stats.tokens_per_run_mean == pytest.approx(437.5)
    assert stats.tokens_per_run_p50 == pytest.approx(300)
    assert stats.retries_per_run_mean == pytest.approx(0.75)  # (0 + 2 + 1 + 0) / 4
    assert stats.steps_per_completion_mean == pytest.approx(3.0)  # (2 + 4 + 3) / 3
    assert (stats.tool_calls, stats.tool_errors) == (8, 4)
    assert stats.tool_error_rate == pytest.approx(0.5)
    by_tool = {t.tool_name: (t.calls, t.errors, t.error_rate) for t in stats.tools}
    assert by_tool == {"issue_refund": (4, 3, 0.75), "lookup_order": (4, 1, 0.25)}
    assert [t.tool_name for t in stats.tools] == ["issue_refund", "lookup_order"]  # most calls, then by name


def test_stats_follow_the_filters(known: TraceStore) -> None:
    billing = compute_stats(known, agent="billing")
    assert (billing.runs, billing.success_rate, billing.escalation_rate) == (1, 1.0, 1.0)
    assert (billing.tool_calls, billing.tool_errors) == (2, 1)
    completed = compute_stats(known, status="completed")
    assert completed.runs == 2
    assert completed.tokens_per_run_mean == pytest.approx((150 + 400) / 2)
    late = compute_stats(known, since_ns=T0 + 3 * S)
    assert late.status_counts == {"max_steps": 1, "started": 1}
    assert late.success_rate == 0.0


def test_stats_of_an_empty_store_are_zeros_and_nones(store: TraceStore) -> None:
    store.begin_run(make_run("only"))
    stats = compute_stats(store, status="completed")
    assert (stats.runs, stats.finished_runs, stats.tool_calls, stats.tool_errors) == (0, 0, 0, 0)
    assert stats.status_counts == {}
    assert stats.tools == []
    assert stats.success_rate is None
    assert stats.duration_ms_p99 is None
    assert stats.tokens_per_run_mean is None
    assert stats.steps_per_completion_mean is None
    assert stats.tool_error_rate is None
    assert stats.model_dump_json()  # serialisable for --json
