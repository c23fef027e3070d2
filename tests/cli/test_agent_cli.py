from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def test_agent_run_records_a_traced_run_offline(tmp_path: Path) -> None:
    db = tmp_path / "traces.duckdb"
    result = runner.invoke(app, ["agent", "run", "I'd like a refund for order A1001", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["status"] == "completed"
    assert record["output_data"]["resolution"] == "refunded"
    assert record["prompt_version"] == "v1"
    shown = runner.invoke(app, ["traces", "show", record["run_id"][:10], "--db", str(db), "--json"])
    assert shown.exit_code == 0, shown.output
    spans = json.loads(shown.output)["spans"]
    assert [s["name"] for s in spans] == [
        "invoke_agent support",
        "chat mock-gpt",
        "execute_tool lookup_order",
        "chat mock-gpt",
        "execute_tool issue_refund",
        "chat mock-gpt",
    ]


def test_agent_run_prints_answer_status_and_run_id(tmp_path: Path) -> None:
    result = runner.invoke(app, ["agent", "run", "Refund order A1002 please", "--db", str(tmp_path / "t.duckdb")])
    assert result.exit_code == 0, result.output
    assert "status: awaiting_approval" in result.output
    assert "Waiting for approval: issue_refund" in result.output
    assert "run id: " in result.output
    approved = runner.invoke(
        app, ["agent", "run", "Refund order A1002 please", "--approval", "approve", "--db", str(tmp_path / "t.duckdb")]
    )
    assert "status: completed" in approved.output


def test_agent_run_rejects_unknown_prompt_version_and_approval(tmp_path: Path) -> None:
    result = runner.invoke(app, ["agent", "run", "hi", "-p", "v9", "--db", str(tmp_path / "t.duckdb")])
    assert result.exit_code == 2
    assert "Available versions of 'support': v1, v2" in result.output
    assert not (tmp_path / "t.duckdb").exists()  # nothing recorded for a run that never started
    result = runner.invoke(app, ["agent", "run", "hi", "--approval", "maybe"])
    assert result.exit_code == 2
