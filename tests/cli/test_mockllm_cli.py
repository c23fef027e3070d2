from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()
CLI = [sys.executable, "-m", "harness.cli"]


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("name: cli-test\nrules:\n  - when: {last_user: ping}\n    text: pong\n")
    process = subprocess.Popen(
        [*CLI, "mockllm", "serve", "--port", "0", "--scenario", str(scenario), "--faults", "503@first 1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_prints_base_url_serves_and_stops_on_interrupt(serve_process: subprocess.Popen[str]) -> None:
    assert serve_process.stdout is not None
    first = serve_process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", first)
    assert match, first
    client = openai.OpenAI(base_url=match.group(1), api_key="any", max_retries=1)
    reply = client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=[{"role": "user", "content": "ping"}]
    )
    assert reply.parse().choices[0].message.content == "pong"
    assert reply.retries_taken == 1  # the scheduled 503 hit the first request
    serve_process.send_signal(signal.SIGINT)
    serve_process.wait(timeout=10)
    # Read through the same text wrappers as readline() above: communicate() would skip what they buffered.
    assert serve_process.stderr is not None
    out, err = serve_process.stdout.read(), serve_process.stderr.read()
    assert serve_process.returncode == 0
    banner = first + out
    assert "scenario: cli-test (1 rules)" in banner
    assert "fault: unavailable on the first 1 requests" in banner
    assert "POST /v1/chat/completions -> 503" in banner
    assert "rule=rules[0]" in banner
    assert "mockllm stopped" in err


def test_serve_rejects_a_bad_scenario_at_startup(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("rules:\n  - text: hi\n    when: {last_role: robot}\n")
    result = subprocess.run(
        [*CLI, "mockllm", "serve", "--port", "0", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{scenario}:3:" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_rejects_a_bad_fault_spec_at_startup() -> None:
    result = subprocess.run(
        [*CLI, "mockllm", "serve", "--port", "0", "--faults", "429@sometimes"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown schedule 'sometimes'" in result.stderr
    assert "every N | first N" in result.stderr


def test_serve_reads_settings_from_environment(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "mockllm", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "AGENTEVAL_MOCKLLM_FAULTS": "nonsense-kind"},
    )
    assert result.returncode == 2
    assert "unknown fault kind 'nonsense-kind'" in result.stderr


def test_serve_reports_a_busy_port() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*CLI, "mockllm", "serve", "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr


def test_check_validates_scenarios(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: g\nrules:\n  - text: hi\n")
    result = runner.invoke(app, ["mockllm", "check", str(good), "--faults", "429@every 2"])
    assert result.exit_code == 0, result.output
    assert "scenario 'g' is valid: 1 rules" in result.output
    assert "rate_limit on every 2nd request" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - txt: hi\n")
    result = runner.invoke(app, ["mockllm", "check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.output
    assert "did you mean 'text'" in result.output


def test_selfcheck_passes_offline_and_speaks_json() -> None:
    result = runner.invoke(app, ["selfcheck", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    names = [c["name"] for c in report["checks"]]
    assert names == [
        "models list",
        "plain answer",
        "streaming",
        "tool calls",
        "structured output",
        "fault + client retry",
        "determinism",
    ]
    assert all(c["passed"] for c in report["checks"])


def test_selfcheck_fails_loudly_on_a_scenario_that_breaks_it(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("rules:\n  - text: always the same\n")  # no tool calls: the tool check must fail
    result = runner.invoke(app, ["selfcheck", "--scenario", str(scenario)])
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "some checks failed" in result.output


def test_version_and_help() -> None:
    import importlib.metadata

    # The CLI's version is the installed distribution's (pyproject.toml reads it from harness/__init__.py).
    assert runner.invoke(app, ["--version"]).output == f"agenteval {importlib.metadata.version('agenteval')}\n"
    result = runner.invoke(app, ["mockllm", "serve", "--help"])
    assert result.exit_code == 0
    assert "x-mockllm-fault" in result.output


def test_error_messages_are_printed_verbatim_not_as_markup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - text: '[bold]x[/bold]'\n    when: {last_role: robot}\n")
    result = runner.invoke(app, ["mockllm", "check", str(bad)])
    assert result.exit_code == 2
    assert "'system', 'developer', 'user'" in result.output
    missing = runner.invoke(app, ["mockllm", "check", str(tmp_path / "[tool.x].yaml")])
    assert missing.exit_code == 2
    assert f"{tmp_path}/[tool.x].yaml does not exist" in missing.output.replace("\n", "")  # not eaten as markup
