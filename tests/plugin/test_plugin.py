from __future__ import annotations

import subprocess
import sys

import pytest


def test_option_group_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        ["agenteval: evaluate and replay LLM agents:", "*--agenteval-record-mode*", "*--agenteval-db*"]
    )


def test_options_are_accepted_by_a_test_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_reads_option(pytestconfig):
            assert pytestconfig.getoption("agenteval_record_mode") == "rerecord"
            assert pytestconfig.getini("agenteval_db") == ""  # unset: [tool.agenteval] db decides
        """
    )
    result = pytester.runpytest("--agenteval-record-mode", "rerecord")
    result.assert_outcomes(passed=1)


def test_bad_record_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--agenteval-record-mode", "sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'sometimes'*"])


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, pytest_agenteval.plugin\n"
        "heavy = [m for m in ('duckdb', 'pandas', 'openai', 'vcr', 'harness') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
