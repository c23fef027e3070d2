from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import _common, app
from tests.unit.replay.factories import CREWAI, FIXTURES, OPENLLMETRY, PYDANTIC_AI

runner = CliRunner()
NATIVE = PYDANTIC_AI / "test_openai_native_output.yaml"


@pytest.fixture(autouse=True)
def console_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich reads COLUMNS once, when the shared console is created: set the width on the console itself.
    monkeypatch.setattr(_common.console, "_width", 200)


def test_scan_reports_file_line_kind_and_masked_excerpt() -> None:
    result = runner.invoke(app, ["cassettes", "scan", str(NATIVE), str(CREWAI)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[:4] == [
        f"{NATIVE}:63 organization openai-organization: fi…2x (15 chars)",
        f"{NATIVE}:122 cookie cookie: __cf_bm=SYNT…Dq (170 chars)",
        f"{NATIVE}:123 cookie _cfuvid=SYNT…yO (75 chars)",
        f"{NATIVE}:183 organization openai-organization: fi…2x (15 chars)",
    ]
    assert "4 secret(s) in 1 of 2 cassette(s)" in result.output
    assert "agenteval cassettes scrub" in result.output
    assert "fixture-0rg7q2x" not in result.output


def test_scan_clean_files_exit_zero() -> None:
    result = runner.invoke(app, ["cassettes", "scan", str(CREWAI)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no secrets in 1 cassette(s)."


def test_scan_json() -> None:
    result = runner.invoke(app, ["cassettes", "scan", "--json", str(OPENLLMETRY)])
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert {f["kind"] for f in findings} == {"cookie", "organization", "project"}
    assert findings[0] == {
        "path": str(OPENLLMETRY),
        "line": 18,
        "kind": "cookie",
        "excerpt": "cookie: __cf_bm=SYNT…1N (170 chars)",
    }
    assert json.loads(runner.invoke(app, ["cassettes", "scan", "--json", str(CREWAI)]).output) == []


def test_scan_defaults_to_the_cassettes_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    missing = runner.invoke(app, ["cassettes", "scan"])
    assert missing.exit_code == 2
    assert "cassettes: no such file or directory" in missing.output
    (tmp_path / "cassettes").mkdir()
    shutil.copy(NATIVE, tmp_path / "cassettes" / "case.yaml")
    result = runner.invoke(app, ["cassettes", "scan"])
    assert result.exit_code == 1
    assert result.output.startswith("cassettes/case.yaml:63 organization")


def test_scrub_then_scan_is_clean_and_scrub_is_idempotent(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "cassettes")
    first = runner.invoke(app, ["cassettes", "scrub", str(tmp_path / "cassettes")])
    assert first.exit_code == 0, first.output
    assert "5 of 7 cassette(s) rewritten." in first.output
    assert f"{tmp_path / 'cassettes' / 'crewai' / CREWAI.name}: clean, unchanged (1 interactions)" in first.output
    assert runner.invoke(app, ["cassettes", "scan", str(tmp_path / "cassettes")]).exit_code == 0
    again = runner.invoke(app, ["cassettes", "scrub", "--json", str(tmp_path / "cassettes")])
    assert [item["changed"] for item in json.loads(again.output)] == [False] * 7
    # Scrubbed cassettes still replay.
    assert runner.invoke(app, ["cassettes", "verify", str(tmp_path / "cassettes")]).exit_code == 0


def test_verify_prints_a_table_and_exits_zero() -> None:
    result = runner.invoke(app, ["cassettes", "verify", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if OPENLLMETRY.name in line)
    assert row.split()[-4:] == ["3", "2", "1", "ok"]
    assert "7 of 7 cassette(s) replay." in result.output


def test_verify_failure_exits_one_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(NATIVE.read_text().replace("      object: chat.completion\n", "", 1))
    result = runner.invoke(app, ["cassettes", "verify", str(broken), str(CREWAI)])
    assert result.exit_code == 1
    assert f"{broken}: interaction 1 (POST /v1/chat/completions): the recorded response is not a chat" in result.output
    assert "1 of 2 cassette(s) replay." in result.output
    as_json = json.loads(runner.invoke(app, ["cassettes", "verify", "--json", str(broken)]).output)
    assert as_json[0]["status"] == "failed"
    assert (as_json[0]["interactions"], as_json[0]["replayed"], as_json[0]["skipped"]) == (2, 1, 0)


def test_verify_needs_a_path_and_a_missing_one_is_a_usage_error(tmp_path: Path) -> None:
    assert runner.invoke(app, ["cassettes", "verify"]).exit_code == 2
    result = runner.invoke(app, ["cassettes", "verify", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: no such file or directory" in result.output


def test_help_teaches() -> None:
    group = runner.invoke(app, ["cassettes", "--help"]).output
    for words in ("parsed_body", "scan", "scrub", "verify", "network blocked"):
        assert words in group
    scan = runner.invoke(app, ["cassettes", "scan", "--help"]).output
    for words in ("AUTHORIZATION-XXX", "masked", "exit 1", "gzip"):
        assert words in scan
    verify = runner.invoke(app, ["cassettes", "verify", "--help"]).output
    for words in ("create()", "traces/ingest", "skipped", "Exit 1"):
        assert words in verify
