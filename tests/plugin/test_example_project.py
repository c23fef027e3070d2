"""examples/pytest_project, the way a team runs it: `pytest` in the project, offline from its committed cassettes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest_project"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_example_project_replays_offline(tmp_path: Path, workers: list[str]) -> None:
    project = tmp_path / "pytest_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".agenteval", "reports", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AGENTEVAL_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *workers],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout
    assert "default: 6/6 cases passed (100.0%)" in result.stdout
    assert sorted(p.name for p in (project / "reports").iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
    ]
    # Replay recorded nothing new.
    assert sorted(p.name for p in (project / "cassettes").rglob("*.yaml")) == sorted(
        p.name for p in (EXAMPLE / "cassettes").rglob("*.yaml")
    )
