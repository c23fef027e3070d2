"""`agenteval replay RUN_ID` for runs of a team's own agent (module:function) and of the tool-calling agent.

The weather example is copied to a temporary project, its module renamed (so that no other test's ``agent`` module is
reused) and its tools made to log every real call: a replay must answer the model from the trace and the tools from
the trace, so the log must not grow.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.agent import instrument
from harness.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "weather_agent"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The weather example as a project under ``tmp_path``, its tools logging real calls to ``tool-calls.log``."""
    root = tmp_path / "weather"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".agenteval", "__pycache__"))
    module = f"wx_{tmp_path.name.replace('-', '_')}"
    source = (root / "agent.py").read_text()
    source = source.replace(
        "def _station(city: str) -> tuple[float, str, list[str]]:\n",
        "def _station(city: str) -> tuple[float, str, list[str]]:\n"
        "    with open('tool-calls.log', 'a') as log:\n"
        "        log.write(city + '\\n')\n",
    )
    (root / f"{module}.py").write_text(source)
    (root / "agent.py").unlink()
    for path in (root / "pyproject.toml", root / "datasets" / "weather.yaml"):
        path.write_text(path.read_text().replace("agent:answer", f"{module}:answer"))
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield root
    sys.modules.pop(module, None)
    instrument.uninstall()


def _run(*extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["run", "--json", "--no-score", *extra])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def _runs(db: str = ".agenteval/traces.duckdb") -> dict[str, str]:
    result = runner.invoke(app, ["traces", "list", "--db", db, "--json", "--limit", "100"])
    assert result.exit_code == 0, result.output
    return {row["case_id"]: row["run_id"] for row in json.loads(result.output)}


def _replay(run_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["replay", run_id, "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _tool_spans(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["attributes"] for s in trace["spans"] if s["operation"] == "execute_tool"]


def test_every_run_of_a_user_agent_replays_from_its_trace_without_running_a_tool(project: Path) -> None:
    _run()
    runs = _runs()
    assert len(runs) == 6
    logged = (project / "tool-calls.log").read_text()
    assert logged  # the eval run called the tools for real
    for case_id, run_id in runs.items():
        code, report = _replay(run_id)
        assert (code, report["matched"], report["divergence"]) == (0, True, None), case_id
        assert report["replay"]["run"]["output_text"] == report["original"]["run"]["output_text"]
        replayed, original = _tool_spans(report["replay"]), _tool_spans(report["original"])
        assert [t["gen_ai.tool.call.result"] for t in replayed] == [t["gen_ai.tool.call.result"] for t in original]
    assert (project / "tool-calls.log").read_text() == logged  # no replay ran a tool
    # The failing tool call comes back as the same exception, which the agent handles as it did.
    _, report = _replay(runs["unknown-city"])
    (failed,) = _tool_spans(report["replay"])
    assert (failed["agenteval.tool.outcome"], failed["error.type"]) == ("error", "UnknownCityError")


def test_a_changed_agent_shows_where_its_replay_diverged(project: Path) -> None:
    _run("--filter", "id:current-paris")
    run_id = _runs()["current-paris"]
    module = next(project.glob("wx_*.py"))
    module.write_text(module.read_text().replace("never guess.", "never, ever guess."))
    sys.modules.pop(module.stem)  # a later `agenteval replay` is a new process: it imports the code as it is now
    code, report = _replay(run_id)
    assert code == 1
    assert report["matched"] is False
    assert report["divergence"].startswith("model call 1:")
    assert "$.messages[0].content: …about the weather; never[ → , ever] guess." in report["divergence"]


def test_a_fork_with_another_model_continues_live(project: Path) -> None:
    _run("--filter", "id:current-paris")
    run_id = _runs()["current-paris"]
    before = (project / "tool-calls.log").read_text()
    code, report = _replay(run_id, "--model", "mock-gpt-mini")
    assert code == 0
    assert report["fork"] == {"model": "mock-gpt-mini"}
    assert (
        report["divergence"] == "the fork's requests depart from the recording at model call 1; it went live from there"
    )
    chats = [s for s in report["replay"]["spans"] if s["operation"] == "chat"]
    assert {c["attributes"]["gen_ai.request.model"] for c in chats} == {"mock-gpt-mini"}
    assert report["replay"]["run"]["status"] == "completed"
    assert "Paris" in report["replay"]["run"]["output_text"]
    # As for the support agent, the tools answer from the recording while it has calls of theirs.
    assert (project / "tool-calls.log").read_text() == before


def test_a_run_of_the_tool_calling_agent_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    header = {"dataset": {"name": "calls", "agent": "tool-calling", "description": "one call per case"}}
    cases = [{"id": f"q{i}", "input": f"Question {i}: what is {i} + {i}?"} for i in range(3)]
    (tmp_path / "calls.jsonl").write_text("\n".join(json.dumps(x) for x in [header, *cases]) + "\n")
    _run("calls.jsonl", "--record-mode", "off")
    runs = _runs()
    assert len(runs) == 3
    for run_id in runs.values():
        code, report = _replay(run_id)
        assert (code, report["matched"]) == (0, True)


def test_a_run_whose_dataset_is_gone_says_what_replay_needs(project: Path) -> None:
    _run("--filter", "id:current-paris")
    run_id = _runs()["current-paris"]
    (project / "datasets" / "weather.yaml").unlink()
    result = runner.invoke(app, ["replay", run_id])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "The dataset 'weather' of eval run" in text
    assert "Run agenteval from the project the eval ran in" in text


def test_replay_reads_the_run_s_own_agent_and_works_from_a_subfolder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    _run("--filter", "id:forecast-london")
    run_id = _runs()["forecast-london"]
    # A pytest session that used two agents records both on its eval run; the run knows its own.
    con = duckdb.connect(".agenteval/traces.duckdb")
    con.execute("UPDATE eval_runs SET agent = agent || ', tool-calling'")
    con.close()
    monkeypatch.chdir(project / "datasets")  # the project root is found upwards, as for every command
    code, report = _replay(run_id, "--db", str(project / ".agenteval" / "traces.duckdb"))
    assert (code, report["matched"]) == (0, True)
