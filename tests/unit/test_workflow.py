"""The GitHub Actions workflow (.github/workflows/agenteval.yml): it parses, installs exactly as the README says, only
uses options the CLI has, and gates on the committed baseline."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from harness.api import load_baseline
from harness.cli import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "agenteval.yml"
# The quick start installs and then runs the demo; CI runs the suites in a step of its own (with --json).
DEMO_RUN = " && .venv/bin/agenteval run"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    steps = workflow["jobs"][job]["steps"]
    assert isinstance(steps, list)
    return steps


def _commands(workflow: dict[str, Any]) -> list[str]:
    """Every `agenteval ...` command line of every `run` step (folded and multi-line scripts split per command)."""
    found = []
    for job in workflow["jobs"]:
        for step in _steps(workflow, job):
            for line in str(step.get("run", "")).splitlines():
                if line.strip().startswith(".venv/bin/agenteval "):
                    found.append(line.strip())
    return found


def _readme_install() -> str:
    """The command line of the README's <!-- ci:install --> block (as .ci/run reads it)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- ci:install -->")
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    return lines[fence + 1].strip()


def test_workflow_runs_on_pull_requests_and_pushes_to_main(workflow: dict[str, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert isinstance(triggers, dict)
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    assert set(workflow["jobs"]) == {"eval", "shard", "merge"}


def test_every_job_installs_exactly_as_the_readme_says(workflow: dict[str, Any]) -> None:
    readme = _readme_install()
    assert readme.endswith(DEMO_RUN), readme
    for job in workflow["jobs"]:
        installs = [s["run"] for s in _steps(workflow, job) if "pip install" in str(s.get("run", ""))]
        assert installs == [readme.removesuffix(DEMO_RUN)], job
        python = [s for s in _steps(workflow, job) if str(s.get("uses", "")).startswith("actions/setup-python@")]
        assert python[0]["with"]["python-version"] == "3.11"


def test_every_agenteval_option_in_the_workflow_exists(workflow: dict[str, Any]) -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for line in _commands(workflow):
        words = shlex.split(line.split(" > ")[0])
        command = commands[words[1]]
        known = {opt for param in command.params for opt in param.opts}
        used = {w for w in words[2:] if w.startswith("--")}
        assert used <= known, f"{line}: {sorted(used - known)} not options of `agenteval {words[1]}`"


def test_the_gate_reports_against_the_committed_baseline_and_keeps_its_artifacts(workflow: dict[str, Any]) -> None:
    for job in ("eval", "merge"):
        steps = _steps(workflow, job)
        report = " ".join(str(s.get("run", "")) for s in steps if "agenteval report" in str(s.get("run", "")))
        assert "--baseline-file reports/baseline.json --fail-on regression" in report
        assert '--markdown "$GITHUB_STEP_SUMMARY"' in report
        uploads = [s for s in steps if s.get("uses") == "actions/upload-artifact@v4"]
        assert uploads, job
        assert all(s.get("if") == "always()" for s in uploads), job
        assert "report.html" in uploads[0]["with"]["path"]
    assert load_baseline(ROOT / "reports" / "baseline.json").cases


def test_shards_cover_the_matrix_and_share_one_eval_run(workflow: dict[str, Any]) -> None:
    shard_job = workflow["jobs"]["shard"]
    shards = shard_job["strategy"]["matrix"]["shard"]
    run = next(s["run"] for s in shard_job["steps"] if "--shard" in str(s.get("run", "")))
    total = re.search(r"--shard \$\{\{ matrix\.shard \}\}/(\d+)", run)
    assert total is not None
    assert shards == list(range(1, int(total.group(1)) + 1))
    eval_run = re.search(r"--eval-run-id (.+?) >", run)
    assert eval_run is not None
    merge = " ".join(str(s.get("run", "")) for s in _steps(workflow, "merge"))
    assert f"agenteval report {eval_run.group(1)} --db all.duckdb" in merge
    assert "agenteval merge shard-*.duckdb --into all.duckdb" in merge
    assert workflow["jobs"]["merge"]["needs"] == "shard"
