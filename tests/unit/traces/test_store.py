from __future__ import annotations

import duckdb
import pytest

from harness.errors import ConfigError, HarnessError
from harness.models.traces import RunTrace
from harness.traces import NoTracesError, RunNotFoundError, TraceStore
from tests.unit.traces.factories import T0, make_run, make_trace

TABLES = ("runs", "spans", "llm_calls", "tool_calls", "messages")
S = 1_000_000_000


def _counts(store: TraceStore) -> dict[str, int]:
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}  # type: ignore[index]
    finally:
        con.close()


def test_begin_run_commits_a_started_row(store: TraceStore) -> None:
    trace = make_trace("run-1")
    store.begin_run(trace.run)  # the record says 'completed'; begin_run records the start
    run = store.get_run("run-1")
    assert run.status == "started"
    assert run.agent_name == "support"
    assert store.get_spans("run-1") == []


def test_write_trace_replaces_the_started_row_and_is_idempotent(store: TraceStore) -> None:
    trace = make_trace("run-1")
    store.begin_run(trace.run)
    store.write_trace(trace)
    assert store.get_run("run-1") == trace.run
    first = _counts(store)
    assert first == {"runs": 1, "spans": 5, "llm_calls": 2, "tool_calls": 2, "messages": 11}
    store.write_trace(trace)
    store.write_traces([trace, make_trace("run-2")])
    assert _counts(store) == {table: 2 * n if table != "runs" else 2 for table, n in first.items()}


def test_rewriting_a_run_with_fewer_spans_drops_the_old_rows(store: TraceStore) -> None:
    trace = make_trace("run-1")
    store.write_trace(trace)
    shorter = RunTrace(run=trace.run, spans=trace.spans[:2])  # root + first chat
    store.write_trace(shorter)
    assert _counts(store) == {"runs": 1, "spans": 2, "llm_calls": 1, "tool_calls": 0, "messages": 4}


def test_spans_round_trip_losslessly(store: TraceStore) -> None:
    trace = make_trace("run-1")
    store.write_trace(trace)
    spans = store.get_spans("run-1")
    assert spans == trace.spans
    # Types survive JSON: ints stay ints, floats floats, nested lists and dicts intact.
    chat = spans[1].attributes
    assert isinstance(chat["gen_ai.usage.input_tokens"], int)
    assert isinstance(chat["gen_ai.request.temperature"], float)
    assert chat["gen_ai.output.messages"][0]["parts"][1]["arguments"] == '{"order_id": "A-1"}'
    assert store.get_trace("run-1") == trace


def test_a_span_of_another_run_is_refused(store: TraceStore) -> None:
    trace = make_trace("run-1")
    foreign = make_trace("run-2").spans[0]
    with pytest.raises(ValueError, match="run_id run-2"):
        store.write_trace(RunTrace(run=trace.run, spans=[*trace.spans, foreign]))
    assert not store.path.exists()  # checked before the file is even opened


def test_a_failed_write_rolls_back_the_whole_batch(store: TraceStore) -> None:
    store.write_trace(make_trace("run-1"))
    bad = make_trace("run-2")
    # Fail late in the transaction, after runs and spans were appended: a typed table that lost a column makes
    # the projection step fail.
    con = duckdb.connect(str(store.path))
    con.execute("ALTER TABLE tool_calls RENAME COLUMN outcome TO outcome_old")
    con.close()
    with pytest.raises(duckdb.Error):
        store.write_trace(bad)
    counts = _counts(store)
    assert counts["runs"] == 1
    assert counts["spans"] == 5


def test_get_run_accepts_a_unique_prefix(store: TraceStore) -> None:
    store.write_traces([make_trace("abc123"), make_trace("abd999"), make_trace("ab")])
    assert store.get_run("abc").run_id == "abc123"
    assert store.get_run("abd999").run_id == "abd999"
    assert store.get_run("ab").run_id == "ab"  # a full id wins over the longer ids it prefixes
    assert store.resolve_run_id("abd") == "abd999"


def test_ambiguous_missing_and_empty_prefixes_explain_what_to_do(store: TraceStore) -> None:
    store.write_traces([make_trace("abc123"), make_trace("abd999")])
    with pytest.raises(RunNotFoundError, match="ambiguous") as ambiguous:
        store.get_run("a")
    assert "abc123" in str(ambiguous.value)
    assert "abd999" in str(ambiguous.value)
    assert "more characters" in str(ambiguous.value)
    with pytest.raises(RunNotFoundError, match="agenteval traces list") as missing:
        store.get_run("zzz")
    assert "'zzz'" in str(missing.value)
    with pytest.raises(RunNotFoundError, match="Give a run id"):
        store.get_run("  ")
    assert isinstance(missing.value, HarnessError)


def test_reading_a_missing_store_says_how_to_create_one(store: TraceStore) -> None:
    with pytest.raises(NoTracesError, match="No traces yet") as error:
        store.list_runs()
    assert "agenteval agent run" in str(error.value)
    assert str(store.path) in str(error.value)
    assert not store.path.exists()  # reading never creates the file
    assert not store.path.parent.exists()


def test_list_runs_filters_and_orders_newest_first(store: TraceStore) -> None:
    store.write_traces(
        [
            make_trace("r1", start_ns=T0, status="completed"),
            make_trace("r2", start_ns=T0 + 10 * S, status="max_steps", prompt_version="v1"),
            make_trace("r3", start_ns=T0 + 20 * S, status="completed", agent_name="billing"),
            make_trace("r4", start_ns=T0 + 30 * S, status="escalated"),
        ]
    )
    ids = lambda runs: [run.run_id for run in runs]  # noqa: E731
    assert ids(store.list_runs()) == ["r4", "r3", "r2", "r1"]
    assert ids(store.list_runs(limit=2)) == ["r4", "r3"]
    assert ids(store.list_runs(status="completed")) == ["r3", "r1"]
    assert ids(store.list_runs(agent="billing")) == ["r3"]
    assert ids(store.list_runs(prompt_version="v1")) == ["r2"]
    assert ids(store.list_runs(since_ns=T0 + 10 * S, until_ns=T0 + 30 * S)) == ["r3", "r2"]
    assert ids(store.list_runs(status="completed", agent="support")) == ["r1"]
    with pytest.raises(ConfigError, match="did you mean 'escalated'"):
        store.list_runs(status="escalate")


def test_frames_follow_the_filters(store: TraceStore) -> None:
    store.write_traces([make_trace("r1"), make_trace("r2", status="error", start_ns=T0 + S)])
    assert list(store.runs_frame()["run_id"]) == ["r1", "r2"]  # oldest first
    assert list(store.runs_frame(status="error")["run_id"]) == ["r2"]
    assert len(store.llm_calls_frame()) == 4
    assert set(store.tool_calls_frame(status="error")["run_id"]) == {"r2"}
    assert list(store.llm_calls_frame("r1")["seq"]) == [1, 4]
    assert len(store.messages_frame("r2")) == 11


def test_session_holds_one_connection_for_many_operations(store: TraceStore) -> None:
    with store.session() as session:
        for index in range(3):
            session.begin_run(make_run(f"r{index}"))
            session.write_trace(make_trace(f"r{index}"))
        with store.session():  # nested sessions share the outer connection
            assert len(store.list_runs()) == 3
        assert store._con is not None
    assert store._con is None
    # Closed after the block: an independent connection can open the file.
    duckdb.connect(str(store.path)).close()


def test_started_runs_without_end_are_listed(store: TraceStore) -> None:
    store.begin_run(make_run("crashed", end_ns=None, status="started"))
    [run] = store.list_runs()
    assert run.status == "started"
    assert run.end_ns is None
    assert run.duration_ms is None


def test_a_large_batch_round_trips_like_a_small_one(store: TraceStore) -> None:
    # Past a few runs the runs rows go in as one DataFrame instead of single INSERTs; both must store the same.
    traces = [make_trace(f"r{i:02d}", start_ns=T0 + i * S, tags=[f"t{i}"], epoch=i) for i in range(12)]
    store.write_traces(traces)
    assert sorted(store.list_runs(limit=None), key=lambda r: r.run_id) == [t.run for t in traces]
    assert store.get_trace("r07") == traces[7]
    assert _counts(store) == {"runs": 12, "spans": 60, "llm_calls": 24, "tool_calls": 24, "messages": 132}


def test_kept_open_lets_other_connections_and_threads_attach_and_checkpoints_once_at_the_end(
    store: TraceStore,
) -> None:
    import threading

    wal = store.path.with_name(store.path.name + ".wal")
    with store.kept_open():
        store.write_trace(make_trace("run-1"))  # its own connection, attached to the open database
        other = TraceStore(store.path)  # another store object on the same file: reads what was written
        assert other.get_run("run-1").status == "completed"
        errors: list[BaseException] = []

        def write_from_a_thread() -> None:
            try:
                with store.session():
                    store.write_trace(make_trace("run-2"))
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        thread = threading.Thread(target=write_from_a_thread)
        thread.start()
        thread.join()
        assert errors == []
        assert wal.exists()  # the writes are in the write-ahead log: nothing has checkpointed them yet
    assert not wal.exists()  # the last connection closed: checkpointed into the file
    assert _counts(store)["runs"] == 2
    assert {r.run_id for r in TraceStore(store.path).list_runs()} == {"run-1", "run-2"}
