"""The agenteval pytest plugin: evals as ordinary tests (registered through the ``pytest11`` entry point).

Import-light by design: this module and the modules it imports load only pytest and the standard library, so a
project with the plugin installed but no eval tests pays nothing; ``harness`` (and with it duckdb, pandas, openai)
is imported when a test marked ``@pytest.mark.agenteval`` is collected or a fixture of the plugin is used.

Under pytest-xdist the controller makes the eval run id and hands it to the workers; each worker writes its own
trace shard, and the controller merges the shards and builds the session report at the end.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pytest_agenteval._fixtures import (
    _agenteval_item,
    agenteval_agent,
    agenteval_case,
    agenteval_config,
    agenteval_judge,
    agenteval_run,
    agenteval_session,
)
from pytest_agenteval._markers import MARKER_HELP, parametrize
from pytest_agenteval._session import STATE, SessionState, finish, terminal_lines

__all__ = [
    "_agenteval_item",
    "agenteval_agent",
    "agenteval_case",
    "agenteval_config",
    "agenteval_judge",
    "agenteval_run",
    "agenteval_session",
]

RECORD_MODES = ("replay", "record", "rerecord", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agenteval", "agenteval: evaluate and replay LLM agents")
    group.addoption(
        "--agenteval-record-mode",
        action="store",
        default=None,
        choices=RECORD_MODES,
        help="Cassettes of eval tests: replay (default; offline), record (missing only), rerecord, off (live).",
    )
    group.addoption(
        "--agenteval-db",
        action="store",
        default=None,
        metavar="PATH",
        help="Trace store of eval tests (default: [tool.agenteval] db, else .agenteval/traces.duckdb).",
    )
    group.addoption(
        "--agenteval-report",
        action="store",
        default=None,
        metavar="DIR",
        help="Write the session's report.md, junit.xml, report.html and report.json into DIR.",
    )
    group.addoption(
        "--agenteval-baseline",
        action="store",
        default=None,
        metavar="FILE",
        help="Compare the session's eval run with a baseline file (agenteval baseline save).",
    )
    group.addoption(
        "--agenteval-fail-on",
        action="store",
        default=None,
        choices=("regression", "never"),
        help="regression: the session fails (exit 1) when the gate fails against the baseline; never (default).",
    )
    parser.addini("agenteval_record_mode", "Default cassette mode of eval tests (default: [tool.agenteval]).")
    parser.addini("agenteval_db", "Trace store of eval tests, relative to the rootdir (default: [tool.agenteval]).")
    parser.addini("agenteval_report", "Folder for the session's reports (as --agenteval-report).")
    parser.addini("agenteval_baseline", "Baseline file for the session's gate (as --agenteval-baseline).")
    parser.addini("agenteval_fail_on", "regression or never (as --agenteval-fail-on).", default="never")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    state = SessionState.from_config(config, RECORD_MODES)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        state.eval_run_id = str(workerinput.get("agenteval_eval_run_id") or uuid.uuid4().hex)
        state.worker = str(workerinput["workerid"])
    else:
        state.eval_run_id = uuid.uuid4().hex
    config.stash[STATE] = state


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist (controller): every worker shares the controller's eval run id."""
    state = node.config.stash[STATE]
    node.workerinput["agenteval_eval_run_id"] = state.eval_run_id
    state.workers.append(str(node.workerinput["workerid"]))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist (controller): a worker finished; count the eval runs it made."""
    output = getattr(node, "workeroutput", {}) or {}
    node.config.stash[STATE].worker_runs += int(output.get("agenteval_runs", 0))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    finish(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines = terminal_lines(config)
    if lines:
        terminalreporter.write_sep("-", "agenteval")
        for line in lines:
            terminalreporter.write_line(line)
