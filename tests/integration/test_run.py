"""`agenteval run` end to end: stored runs, resume after SIGKILL, shards and merge, refusing broken datasets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.mockllm import MockLLMServer, scenario_from_text
from tests.unit.datasets.test_broken_inputs import BROKEN, Broken

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "harness.cli"]
runner = CliRunner()


def _project(tmp_path: Path, cases: int, delay_ms: int = 0) -> Path:
    """A project with a one-call dataset, a slow scripted model and two variants."""
    (tmp_path / "pyproject.toml").write_text(
        "[tool.agenteval]\nagent = 'tool-calling'\ndatasets = ['datasets']\nscenario = 'scenario.yaml'\n"
        "record_mode = 'off'\n"
        "concurrency = 4\n[tool.agenteval.variants.a]\nmodel = 'mock-gpt'\n"
        "[tool.agenteval.variants.b]\nmodel = 'mock-gpt-mini'\n"
    )
    (tmp_path / "scenario.yaml").write_text(
        f"rules:\n  - text: 'answer to {{{{ last_user }}}}'\n    delay_ms: {delay_ms}\n"
    )
    (tmp_path / "datasets").mkdir()
    lines = [json.dumps({"dataset": {"name": "calls", "agent": "tool-calling"}})]
    lines += [
        json.dumps({"id": f"q{i:03d}", "input": f"question {i}", "tags": ["even" if i % 2 == 0 else "odd"]})
        for i in range(cases)
    ]
    (tmp_path / "datasets" / "calls.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def _runs(db: Path) -> list[tuple[str, str, str, int, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT case_id, variant, run_id, epoch, status FROM runs ORDER BY 1, 2").fetchall()
    finally:
        con.close()


def test_run_stores_one_run_per_case_variant_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_project(tmp_path, cases=6))
    result = runner.invoke(app, ["run", "--epochs", "2", "--json", "--db", "t.duckdb"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["executed"] == 6 * 2 * 2
    assert summary["eval_run"]["planned"] == 24
    assert {(row["variant"], row["runs"]) for row in summary["rows"]} == {("a", 12), ("b", 12)}
    runs = _runs(tmp_path / "t.duckdb")
    assert len(runs) == 24
    assert len({(c, v, e) for c, v, _, e, _ in runs}) == 24
    assert {status for *_, status in runs} == {"completed"}


def test_filters_and_limit_select_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_project(tmp_path, cases=10))
    result = runner.invoke(app, ["run", "-f", "tag:even", "--limit", "3", "-v", "a", "--json", "--db", "t.duckdb"])
    assert result.exit_code == 0, result.output
    assert sorted(c for c, *_ in _runs(tmp_path / "t.duckdb")) == ["q000", "q002", "q004"]


def test_sigkill_then_resume_gives_exactly_one_run_per_key(tmp_path: Path) -> None:
    project = _project(tmp_path, cases=30)
    db = project / "t.duckdb"
    slow = scenario_from_text("rules:\n  - text: 'answer to {{ last_user }}'\n    delay_ms: 100\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with MockLLMServer(slow) as server:
        base = ["--db", str(db), "--base-url", server.base_url]
        command = [*CLI, "run", *base, "--eval-run-id", "killed-run", "--concurrency", "2"]
        process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The model server lives in this process, so its request count says how far the eval run got: kill it
        # past half way (60 runs, one model call each, ~1.8 s in: after at least one flush of the writer).
        deadline = time.monotonic() + 60
        while server.engine.requests_total < 36 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, "the eval run ended before it could be interrupted"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        before = _runs(db)
        finished_before = [r for r in before if r[4] != "started"]
        assert 0 < len(finished_before) < 60

        resumed = subprocess.run(
            [*CLI, "run", *base, "--resume", "killed-run", "--json"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == len(finished_before)
    assert summary["executed"] == 60 - len(finished_before)
    after = _runs(db)
    assert len(after) == 60
    assert len({(c, v, e) for c, v, _, e, _ in after}) == 60
    assert {status for *_, status in after} == {"completed"}
    # Runs finished before the kill were kept, not redone.
    kept = {r[2] for r in finished_before}
    assert kept <= {r[2] for r in after}


def test_shards_cover_the_run_and_merge_into_one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_project(tmp_path, cases=12))
    ids = []
    for index in (1, 2, 3):
        result = runner.invoke(app, ["run", "--shard", f"{index}/3", "--json", "--db", f"shard{index}.duckdb"])
        assert result.exit_code == 0, result.output
        ids.append(json.loads(result.output)["eval_run"]["eval_run_id"])
    assert len(set(ids)) == 1  # every shard job derives the same eval run id
    merged = runner.invoke(app, ["merge", "shard1.duckdb", "shard2.duckdb", "shard3.duckdb", "--into", "all.duckdb"])
    assert merged.exit_code == 0, merged.output
    runs = _runs(tmp_path / "all.duckdb")
    assert len(runs) == 24
    assert len({(c, v) for c, v, *_ in runs}) == 24
    # Every run arrives with all its spans and projections, exactly as each shard stored them.
    counts = {}
    for name in ["shard1.duckdb", "shard2.duckdb", "shard3.duckdb", "all.duckdb"]:
        con = duckdb.connect(str(tmp_path / name), read_only=True)
        counts[name] = [
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("spans", "llm_calls", "messages")
        ]
        con.close()
    shards = [sum(counts[f"shard{i}.duckdb"][k] for i in (1, 2, 3)) for k in range(3)]
    assert counts["all.duckdb"] == shards
    assert shards[0] >= 2 * 24  # a root and a chat span per run
    again = runner.invoke(app, ["merge", "shard1.duckdb", "--into", "all.duckdb"])
    assert again.exit_code == 0
    assert len(_runs(tmp_path / "all.duckdb")) == 24  # merging twice duplicates nothing
    con = duckdb.connect(str(tmp_path / "all.duckdb"), read_only=True)
    planned, shard = con.execute("SELECT planned, shard FROM eval_runs").fetchone()  # type: ignore[misc]
    con.close()
    assert (planned, shard) == (24, None)


def test_datasets_for_different_agents_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, cases=2)
    (project / "datasets" / "other.yaml").write_text("name: other\nagent: support\ncases:\n  - {id: a, input: hi}\n")
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["run", "--db", "t.duckdb"])
    assert result.exit_code == 2
    assert "other.yaml is for 'support'" in result.output.replace("\n", "")
    assert "calls.jsonl is for 'tool-calling'" in result.output.replace("\n", "")


def test_a_broken_dataset_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, cases=3)
    (project / "datasets" / "broken.yaml").write_text("name: broken\nagent: tool-calling\ncases:\n  - id: x\n")
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["run", "--db", "t.duckdb"])
    assert result.exit_code == 2
    assert "broken.yaml:4" in result.output
    assert not (project / "t.duckdb").exists()


def test_unknown_variant_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_project(tmp_path, cases=2))
    result = runner.invoke(app, ["run", "-v", "nope", "--db", "t.duckdb"])
    assert result.exit_code == 2
    assert "Unknown variant(s) nope" in result.output


@pytest.mark.parametrize(
    "broken",
    # A .txt file is not a dataset file, and the support-tool check needs a support project: both are covered by
    # `agenteval datasets validate` in tests/unit/datasets/test_broken_inputs.py.
    [b for b in BROKEN if not b.filename.endswith(".txt") and "support agent" not in b.kind],
    ids=lambda b: b.kind.replace(" ", "-"),
)
def test_every_kind_of_broken_dataset_stops_agenteval_run_before_anything_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: Broken
) -> None:
    project = _project(tmp_path, cases=2)
    path = project / "datasets" / broken.filename
    if isinstance(broken.content, bytes):
        path.write_bytes(broken.content)
    else:
        path.write_text(broken.content)
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["run", "--db", "t.duckdb"])
    assert result.exit_code == 2, result.output
    assert f"{broken.filename}:{broken.line}" in result.output.replace("\n", "")
    assert not (project / "t.duckdb").exists()
