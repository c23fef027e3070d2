"""The console-script entry point (``harness.cli.main``) skips interpreter teardown: what it must still do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PRELUDE = """
import atexit, pathlib, sys, threading, time
from harness.cli import main
"""


ROOT = Path(__file__).resolve().parents[2]


def _main(cwd: Path, setup: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = PRELUDE + setup + f"\nsys.argv = ['agenteval', *{list(args)!r}]\nmain()\n"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_exit_handlers_run_and_output_is_complete(tmp_path: Path) -> None:
    result = _main(tmp_path, "atexit.register(lambda: pathlib.Path('handler-ran').write_text('yes'))", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("agenteval ")
    assert (tmp_path / "handler-ran").read_text() == "yes"


def test_a_live_non_daemon_thread_is_waited_for(tmp_path: Path) -> None:
    setup = (
        "def late():\n    time.sleep(0.5)\n    pathlib.Path('thread-done').write_text('yes')\n"
        "threading.Thread(target=late).start()"
    )
    result = _main(tmp_path, setup, "--version")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "thread-done").read_text() == "yes"


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["datasets", "validate", "missing.yaml"], 2, "missing.yaml"),  # a usage error keeps its status
        (["no-such-command"], 2, "No such command"),
    ],
)
def test_exit_status_and_messages_are_kept(tmp_path: Path, args: list[str], code: int, text: str) -> None:
    result = _main(tmp_path, "", *args)
    assert result.returncode == code
    assert text in result.stdout + result.stderr


def test_a_large_output_reaches_the_pipe_whole() -> None:
    # About 260 KB of JSON through a pipe: nothing buffered may be lost to the fast exit.
    result = _main(ROOT, "", "datasets", "show", "support/adversarial", "--json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 100_000
    assert len(json.loads(result.stdout)["cases"]) >= 60


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        # `agenteval --help` and every command's start: no model client, no store, no data frames.
        ("import harness.cli", ("openai", "duckdb", "pandas", "jinja2", "harness.models.calibration")),
        # An eval run of a model or a user's agent: the support agent's runtime, prompts and tools stay unloaded.
        (
            "import harness.cli, harness.api._run, harness.agent.adapters.tool_calling, harness.runner",
            ("harness.agent.runtime", "harness.agent.prompts", "jinja2", "pandas"),
        ),
    ],
)
def test_what_a_command_does_not_import(code: str, absent: tuple[str, ...]) -> None:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {absent!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
