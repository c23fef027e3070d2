"""`agenteval replay RUN_ID`: a stored run re-executed offline from its trace, divergence diffs, and forks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from harness.agent.support.shop import Shop
from harness.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _agent_run(db: Path, message: str, *extra: str) -> str:
    result = runner.invoke(app, ["agent", "run", message, "--db", str(db), "--json", *extra])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["run_id"])


def _replay(db: Path, run_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["replay", run_id[:12], "--db", str(db), "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _tools(trace: dict[str, Any]) -> list[str]:
    return [s["attributes"]["gen_ai.tool.name"] for s in trace["spans"] if s["operation"] == "execute_tool"]


def test_replay_matches_and_never_runs_a_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.duckdb"
    run_id = _agent_run(db, "I'd like a refund for order A1001")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a replay issued a refund")

    monkeypatch.setattr(Shop, "refund", refuse)  # replaying a refund must not refund
    code, report = _replay(db, run_id)
    assert code == 0
    assert report["matched"] is True
    assert _tools(report["replay"]) == _tools(report["original"]) == ["lookup_order", "issue_refund"]
    assert report["replay"]["run"]["output_text"] == report["original"]["run"]["output_text"]


def test_a_changed_recording_shows_where_the_replay_diverged(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    run_id = _agent_run(db, "How long do refunds take?")
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE spans SET attributes = replace(attributes::VARCHAR, 'How long do refunds take?', "
        "'How long do refunds last?')::JSON WHERE operation = 'chat' AND seq = 1"
    )
    con.close()
    result = runner.invoke(app, ["replay", run_id[:12], "--db", str(db)])
    assert result.exit_code == 1
    text = result.output.replace("\n", " ")
    assert "replay diverged" in text
    assert "model call 1" in text
    assert "How long do refunds last?" in text
    assert "How long do refunds take?" in text


def test_a_failed_adversarial_run_replays_and_a_v2_fork_shows_the_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    db = tmp_path / "t.duckdb"
    result = runner.invoke(
        app,
        [
            "run",
            "support/adversarial",
            "-v",
            "v1",
            "-f",
            "tag:injection/indirect",
            "--limit",
            "3",
            "--json",
            "--db",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    hijacked = con.execute(
        "SELECT DISTINCT run_id FROM tool_calls WHERE tool_name = 'send_email' ORDER BY run_id LIMIT 1"
    ).fetchone()
    con.close()
    assert hijacked is not None, "no injected case hijacked v1: the simulation changed"
    run_id = hijacked[0]
    code, report = _replay(db, run_id)
    assert code == 0
    assert report["matched"] is True
    assert "send_email" in _tools(report["replay"])  # replayed from the trace: nothing was actually sent
    code, fork = _replay(db, run_id, "--prompt-version", "v2")
    assert fork["fork"] == {"prompt_version": "v2"}
    assert fork["replay"]["run"]["prompt_version"] == "v2"
    assert "send_email" in _tools(fork["original"])
    assert "send_email" not in _tools(fork["replay"])
    assert "depart from the recording at model call 1" in fork["divergence"]
    side_by_side = runner.invoke(app, ["replay", run_id[:12], "--db", str(db), "-p", "v2"])
    assert side_by_side.exit_code == 0
    assert "original (v1, mock-gpt)" in side_by_side.output
    assert "fork (v2, mock-gpt)" in side_by_side.output


def test_replay_of_an_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    _agent_run(db, "hello")
    result = runner.invoke(app, ["replay", "nope", "--db", str(db)])
    assert result.exit_code == 2
    assert "No run id starts with 'nope'" in result.output
