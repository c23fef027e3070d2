from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import _common, app
from harness.traces import TraceStore
from tests.otlp import parse_otlp_json
from tests.unit.traces.factories import T0, make_run, make_trace

runner = CliRunner()
S = 1_000_000_000
WIDE = {"COLUMNS": "200"}


@pytest.fixture(autouse=True)
def console_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich reads COLUMNS once when the shared console is created (at import, possibly in another test's
    # environment), so set the width on the console itself.
    monkeypatch.setattr(_common.console, "_width", 200)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "traces.duckdb"
    store = TraceStore(path)
    store.write_traces(
        [
            make_trace("a1b2c3d4e5f6a7b8", start_ns=T0),
            make_trace("a1ff00000000", start_ns=T0 + S, status="escalated", tool_outcomes=("ok", "ok")),
            make_trace("bbbb00000000", start_ns=T0 + 2 * S, status="max_steps", prompt_version="v1"),
        ]
    )
    store.begin_run(make_run("cccc00000000", start_ns=T0 + 3 * S, end_ns=None))
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["traces", *args], env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_a_table_newest_first(db: Path) -> None:
    code, out, _ = _invoke("list", "--db", str(db))
    assert code == 0, out
    for header in ("run id", "started", "agent", "prompt", "model", "status", "steps", "tokens", "duration"):
        assert header in out
    lines = [line for line in out.splitlines() if "support" in line]
    assert [line.split()[0] for line in lines] == ["cccc00000000", "bbbb00000000", "a1ff00000000", "a1b2c3d4e5f6"]
    assert "max_steps" in out
    assert "1.50 s" in out
    assert "390" in out  # tokens


def test_list_json_and_filters(db: Path) -> None:
    code, out, _ = _invoke("list", "--db", str(db), "--json", "--status", "escalated")
    assert code == 0
    [run] = json.loads(out)
    assert (run["run_id"], run["status"], run["input_tokens"]) == ("a1ff00000000", "escalated", 320)
    code, out, _ = _invoke("list", "--db", str(db), "--json", "--prompt-version", "v1", "--limit", "5")
    assert [r["run_id"] for r in json.loads(out)] == ["bbbb00000000"]
    code, out, _ = _invoke("list", "--db", str(db), "--agent", "nobody")
    assert code == 0
    assert "No runs" in out


def test_list_reads_the_db_from_the_environment(db: Path) -> None:
    result = runner.invoke(app, ["traces", "list", "--json"], env={**WIDE, "AGENTEVAL_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 4


def test_show_renders_the_span_tree(db: Path) -> None:
    code, out, _ = _invoke("show", "a1b2", "--db", str(db))
    assert code == 0, out
    assert "run a1b2c3d4e5f6a7b8" in out
    assert "completed" in out
    assert "prompt support v2 (sha aa99d3b6)" in out
    assert "model mock-gpt" in out
    assert "tokens 120 → 30" in out  # first chat span
    assert "attempts 2" in out
    assert "agenteval.retry" in out
    assert "error.type=rate_limit" in out
    assert 'lookup_order({"order_id": "A-1"}) → shipped  [ok]' in out
    assert "issue_refund(" in out
    assert "[error]" in out
    assert "error: refund service unavailable (503)" in out
    # Children are nested under the root span, in seq order.
    lines = out.splitlines()
    root = next(i for i, line in enumerate(lines) if "invoke_agent support" in line)
    chats = [i for i, line in enumerate(lines) if "chat mock-gpt" in line]
    tool = next(i for i, line in enumerate(lines) if "execute_tool lookup_order" in line)
    assert root < chats[0] < tool < chats[1]
    assert lines[chats[0]].index("chat") > lines[root].index("invoke_agent")


def test_show_wraps_instead_of_cropping_on_a_narrow_terminal(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common.console, "_width", 80)
    code, out, _ = _invoke("show", "a1b2", "--db", str(db))
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    flat = " ".join(out.replace("│", " ").split())  # undo the wrapping, and the tree guides it indents with
    assert "attempts 2" in flat
    assert "exception.message=refund service unavailable" in flat
    code, out, _ = _invoke("list", "--db", str(db))
    assert "a1b2c3d4e5f6" in out  # ids are never cut


def test_show_json(db: Path) -> None:
    code, out, _ = _invoke("show", "bbbb", "--db", str(db), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["run"]["run_id"] == "bbbb00000000"
    assert [s["seq"] for s in doc["spans"]] == [0, 1, 2, 3, 4]
    assert doc["spans"][1]["events"][0]["name"] == "agenteval.retry"


def test_show_a_started_run_without_spans(db: Path) -> None:
    code, out, _ = _invoke("show", "cccc", "--db", str(db))
    assert code == 0
    assert "started" in out
    assert "no spans recorded" in out


def test_stats_json_numbers(db: Path) -> None:
    code, out, _ = _invoke("stats", "--db", str(db), "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["runs"] == 4
    assert stats["finished_runs"] == 3
    assert stats["success_rate"] == pytest.approx(2 / 4)
    assert stats["escalation_rate"] == pytest.approx(1 / 4)
    assert stats["tool_calls"] == 6
    assert stats["tool_errors"] == 2  # the refunds of the completed and the max_steps runs
    assert {t["tool_name"]: t["errors"] for t in stats["tools"]} == {"issue_refund": 2, "lookup_order": 0}
    code, out, _ = _invoke("stats", "--db", str(db), "--json", "--prompt-version", "v1")
    assert json.loads(out)["runs"] == 1


def test_stats_table(db: Path) -> None:
    code, out, _ = _invoke("stats", "--db", str(db))
    assert code == 0
    assert "success rate" in out
    assert "50.0%" in out
    assert "issue_refund" in out


def test_export_writes_otlp_json(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "run.json"
    code, out, _ = _invoke("export", "a1b2", "--db", str(db), "--format", "otlp-json", "--out", str(target))
    assert code == 0, out
    assert f"Wrote 5 span(s) as otlp-json to {target}" in out
    request = parse_otlp_json(json.loads(target.read_text()))
    spans = request.resource_spans[0].scope_spans[0].spans
    assert [span.name for span in spans][:2] == ["invoke_agent support", "chat mock-gpt"]
    code, out, _ = _invoke("export", "a1b2", "--db", str(db))
    assert json.loads(out) == json.loads(target.read_text())  # stdout without --out


def test_export_rejects_an_unknown_format(db: Path) -> None:
    code, _, err = _invoke("export", "a1b2", "--db", str(db), "--format", "zipkin")
    assert code == 2
    assert "Unknown export format 'zipkin'. Valid formats: otlp-json." in err


def test_unknown_and_ambiguous_run_ids_exit_2_with_a_hint(db: Path) -> None:
    code, _, err = _invoke("show", "zzzz", "--db", str(db))
    assert code == 2
    assert "No run id starts with 'zzzz'" in err
    assert "agenteval traces list" in err
    assert "Traceback" not in err
    code, _, err = _invoke("show", "a1", "--db", str(db))
    assert code == 2
    assert "ambiguous" in err
    assert "a1ff00000000" in err


def test_a_missing_db_says_how_to_record_traces(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    for command in (["list"], ["stats"], ["show", "abc"], ["export", "abc"]):
        code, _, err = _invoke(*command, "--db", str(missing))
        assert code == 2, command
        assert "No traces yet" in err
        assert 'agenteval agent run "..."' in err
    assert not missing.exists()


def test_an_empty_db_lists_nothing_helpfully(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with TraceStore(path).session():  # creates and migrates the file, writes no run
        pass
    code, out, _ = _invoke("list", "--db", str(path))
    assert code == 0
    assert f"No runs in {path} yet" in out
    assert 'agenteval agent run "..."' in out
    code, out, _ = _invoke("stats", "--db", str(path), "--json")
    assert code == 0
    assert json.loads(out)["runs"] == 0


def test_bad_filters_exit_2(db: Path) -> None:
    code, _, err = _invoke("list", "--db", str(db), "--since", "yesterday")
    assert code == 2
    assert "Cannot read the time 'yesterday'" in err
    code, _, err = _invoke("list", "--db", str(db), "--status", "complete")
    assert code == 2
    assert "did you mean 'completed'" in err


def test_help_explains_the_columns() -> None:
    result = runner.invoke(app, ["traces", "list", "--help"], env=WIDE)
    assert result.exit_code == 0
    for word in ("run id", "unique prefix", "tokens", "AGENTEVAL_DB"):
        assert word in result.stdout
