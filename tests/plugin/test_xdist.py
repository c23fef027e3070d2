"""Eval tests under pytest-xdist: each worker writes its own trace shard, the controller merges them at the end.

Nothing lost, nothing duplicated, no DuckDB lock error, and the merged report is the serial session's report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = """
import pytest

@pytest.mark.agenteval(dataset="support", variant=["v1", "v2"], limit=40)
def test_bundled(agenteval_run):
    agenteval_run(check=False)
"""
VOLATILE = {
    "eval_run_id",
    "run_ids",
    "generated_ns",
    "started_ns",
    "finished_ns",
    "metadata",
    "git_dirty",
    "duration_s",
}


def _store(db: Path) -> dict[str, Any]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT run_id, dataset, case_id, variant, epoch, status FROM runs").fetchall()
        spans = dict(con.execute("SELECT run_id, count(*) FROM spans GROUP BY run_id").fetchall())
        scored = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM scores").fetchall()}
        evals = con.execute("SELECT eval_run_id, planned, status FROM eval_runs").fetchall()
    finally:
        con.close()
    return {"runs": runs, "spans": spans, "scored": scored, "eval_runs": evals}


def _stable(value: Any) -> Any:
    """The report without ids, times and durations (which differ between any two sessions)."""
    if isinstance(value, dict):
        return {
            k: _stable(v) for k, v in value.items() if k not in VOLATILE and not k.endswith("_ms") and k != "baseline"
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _report(db: Path, eval_run_id: str) -> Any:
    from harness import api

    return _stable(json.loads(api.build_report(eval_run_id, db=db).model_dump_json()))


def _session(pytester: pytest.Pytester, db: Path, *args: str) -> dict[str, Any]:
    # From the project root, so that [tool.agenteval] and the committed cassettes under cassettes/support replay.
    result = pytester.runpytest_subprocess(
        "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "--agenteval-db", str(db), *args
    )
    result.assert_outcomes(passed=160)
    return _store(db)


def test_parallel_workers_store_each_case_once_with_its_spans_and_report_like_a_serial_run(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_bundled=BUNDLED)
    parallel = _session(pytester, pytester.path / "parallel.duckdb", "-n", "4")
    keys = [(d, c, v, e) for _, d, c, v, e, _ in parallel["runs"]]
    assert len(keys) == 160
    assert len(set(keys)) == 160  # one run per case × variant: nothing duplicated
    assert {d for d, *_ in keys} == {"support/adversarial", "support/representative"}
    assert {status for *_, status in parallel["runs"]} <= {"completed", "escalated", "awaiting_approval"}
    assert all(parallel["spans"].get(run_id, 0) >= 2 for run_id, *_ in parallel["runs"])  # root + model call(s)
    assert parallel["scored"] == {run_id for run_id, *_ in parallel["runs"]}
    [(eval_run_id, planned, status)] = parallel["eval_runs"]
    assert (planned, status) == (160, "completed")
    assert sorted(p.name for p in pytester.path.glob("parallel*")) == ["parallel.duckdb"]  # shards merged, deleted

    serial = _session(pytester, pytester.path / "serial.duckdb", "-p", "no:xdist")
    [(serial_id, *_)] = serial["eval_runs"]
    assert sorted((d, c, v) for _, d, c, v, *_ in serial["runs"]) == sorted((d, c, v) for d, c, v, _ in keys)
    assert _report(pytester.path / "parallel.duckdb", eval_run_id) == _report(
        pytester.path / "serial.duckdb", serial_id
    )


def test_shards_of_a_small_project_merge_with_every_dataset_and_variant(pytester: pytest.Pytester) -> None:
    (pytester.path / "pyproject.toml").write_text(
        "[tool.agenteval]\nagent = 'support'\nrecord_mode = 'off'\n"
        "[tool.agenteval.variants.v1]\nprompt_version = 'v1'\n[tool.agenteval.variants.v2]\nprompt_version = 'v2'\n"
    )
    (pytester.path / "datasets").mkdir()
    for name, message in (("orders", "Where is my order A1004?"), ("kb", "How long do refunds take?")):
        lines = [
            {"dataset": {"name": name, "agent": "support"}},
            *({"id": f"{name}-{i}", "input": message} for i in range(3)),
        ]
        (pytester.path / "datasets" / f"{name}.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n")
    pytester.makepyfile(
        """
import pytest

@pytest.mark.agenteval(dataset="orders", variant="v1")
def test_orders(agenteval_run):
    agenteval_run()

@pytest.mark.agenteval(dataset="kb", variant="v2")
def test_kb(agenteval_run):
    agenteval_run()
"""
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["eval run *: 6 run(s) stored in *traces.duckdb (merged from 2 worker shards)"])
    from harness import api

    store = _store(pytester.path / ".agenteval" / "traces.duckdb")
    [(eval_run_id, planned, _)] = store["eval_runs"]
    assert planned == 6
    record = api.build_report(eval_run_id, db=pytester.path / ".agenteval" / "traces.duckdb").eval_run
    assert [d.name for d in record.datasets] == ["kb", "orders"]
    assert [v.name for v in record.variants] == ["v1", "v2"]
    assert sorted(record.metadata["merged_shards"]) == ["traces.gw0.duckdb", "traces.gw1.duckdb"]
