"""The agenteval pytest plugin.

Import-light by design: only pytest is imported here, so a project that has the plugin installed but runs no evals
pays nothing. For now the plugin registers its option group; fixtures and markers arrive with the plugin issue.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agenteval", "agenteval: evaluate and replay LLM agents")
    group.addoption(
        "--agenteval-record-mode",
        action="store",
        default=None,
        choices=("replay", "record", "rerecord"),
        help="Cassette mode for agenteval evals: replay (default; offline), record (missing only), rerecord.",
    )
    group.addoption(
        "--agenteval-db",
        action="store",
        default=None,
        metavar="PATH",
        help="Trace store for agenteval evals (default: .agenteval/traces.duckdb).",
    )
    parser.addini("agenteval_record_mode", "Default cassette mode for agenteval evals.", default="replay")
    parser.addini("agenteval_db", "Default trace store for agenteval evals.", default=".agenteval/traces.duckdb")
