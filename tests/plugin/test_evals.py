"""The plugin black-box: a small project of eval tests run by pytest in a subprocess (the plugin blocks the network
and points OPENAI_* at its endpoint while a case runs, so each session gets its own process)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

CASES = [
    {"id": "status-a1004", "input": "Where is my order A1004?", "expected": {"output_contains": ["A1004"]}},
    {"id": "kb-timelines", "input": "How long do refunds take?", "expected": {"output_contains": ["teleport"]}},
]
PYPROJECT = """
[tool.pytest.ini_options]
addopts = "-p no:cacheprovider"

[tool.agenteval]
agent = "support"
scenario = "support"
{extra}
[tool.agenteval.variants.v1]
prompt_version = "v1"

[tool.agenteval.variants.v2]
prompt_version = "v2"
"""
TESTS = """
import pytest

@pytest.mark.agenteval(dataset="mini", variant="v1")
def test_case(agenteval_run, agenteval_case):
    result = agenteval_run()
    assert result.case.id == agenteval_case.id
"""


def _project(pytester: pytest.Pytester, *, extra: str = "", cases: list[dict[str, object]] | None = None) -> Path:
    root = pytester.path
    (root / "pyproject.toml").write_text(PYPROJECT.replace("{extra}", extra))
    (root / "datasets").mkdir(exist_ok=True)
    lines = [json.dumps({"dataset": {"name": "mini", "agent": "support"}}), *map(json.dumps, cases or CASES)]
    (root / "datasets" / "mini.jsonl").write_text("\n".join(lines) + "\n")
    return root


def _runs(db: Path) -> list[tuple[str, str, str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT run_id, case_id, variant, status FROM runs ORDER BY case_id, variant").fetchall()
    finally:
        con.close()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def test_a_marked_test_is_parametrized_over_the_cases_with_case_ids(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(
        TESTS
        + """
@pytest.mark.agenteval("mini", variant=["v1", "v2"], filter="id:status-*")
def test_both(agenteval_case):
    pass

@pytest.mark.agenteval("mini", variant="v2", limit=1, epochs=2)
def test_epochs(agenteval_case):
    pass
"""
    )
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_case[status-a1004]",
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_case[kb-timelines]",
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_both[status-a1004@v1]",
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_both[status-a1004@v2]",
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_epochs[status-a1004#e1]",
            "test_a_marked_test_is_parametrized_over_the_cases_with_case_ids.py::test_epochs[status-a1004#e2]",
            "6 tests collected*",
        ]
    )
    assert not (pytester.path / ".agenteval").exists()  # collecting runs nothing


def test_a_marker_mistake_is_a_usage_error_naming_the_test(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(
        """
import pytest

@pytest.mark.agenteval(dataset="mini", variant="v9")
def test_case(agenteval_run):
    agenteval_run()
"""
    )
    result = pytester.runpytest_subprocess()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*test_case*@pytest.mark.agenteval*Unknown variant(s) v9*Declared: v1, v2*"])


def test_recording_then_replaying_offline_a_passing_and_a_failing_eval(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    pytester.makepyfile(TESTS)
    recorded = pytester.runpytest_subprocess("--agenteval-record-mode", "record")
    recorded.assert_outcomes(passed=1, failed=1)
    assert sorted(p.name for p in (root / "cassettes" / "mini" / "v1").iterdir()) == [
        "kb-timelines.e1.yaml",
        "status-a1004.e1.yaml",
    ]
    # Replay is the default: offline, from the cassettes just recorded, same verdicts.
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=1, failed=1)
    runs = _runs(root / ".agenteval" / "traces.duckdb")
    assert len(runs) == 4
    assert {status for *_, status in runs} == {"completed"}
    # One failing run; pytest repeats the whole message in its short summary when $CI is set.
    [failed_run] = set(re.findall(r"replay:  agenteval replay (\w+)", result.stdout.str()))
    assert (failed_run, "kb-timelines", "v1", "completed") in runs
    result.stdout.fnmatch_lines(
        [
            "*eval FAILED: mini :: kb-timelines [[]v1[]]",
            "*input:   How long do refunds take?",
            "*status completed, * model call(s)*",
            "*failing:",
            "*✗ contains: *teleport*",
            "*trace:",
            "*chat mock-gpt*",
            f"*replay:  agenteval replay {failed_run}",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.fnmatch_lines(["*agenteval*", "eval run *: 2 run(s) stored in *traces.duckdb", "  v1: 1/2 cases*"])


def test_replay_without_a_cassette_fails_and_says_how_to_record(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-k", "status")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*✗ run error: no cassette at *cassettes/mini/v1/status-a1004.e1.yaml: record it with "
            "`pytest --agenteval-record-mode record`*"
        ]
    )


def test_the_config_fixture_overrides_settings_and_the_command_line_beats_it(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    pytester.makepyfile(TESTS)
    # Live against the scripted server, nothing recorded: the conftest's config beats [tool.agenteval] (replay).
    pytester.makeconftest(
        """
import pytest

@pytest.fixture
def agenteval_config():
    return {"record_mode": "off", "variants": {"v1": {"prompt_version": "v2"}}}
"""
    )
    result = pytester.runpytest_subprocess("-k", "status")
    result.assert_outcomes(passed=1, deselected=1)
    assert not (root / "cassettes").exists()
    con = duckdb.connect(str(root / ".agenteval" / "traces.duckdb"), read_only=True)
    assert con.execute("SELECT prompt_version FROM runs").fetchall() == [("v2",)]
    con.close()
    # --agenteval-record-mode wins over the fixture: replay, and there is no cassette.
    result = pytester.runpytest_subprocess("-k", "status", "--agenteval-record-mode", "replay")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*no cassette at*"])


def test_an_unknown_config_key_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(TESTS)
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture\ndef agenteval_config():\n    return {'recordmode': 'off'}\n"
    )
    result = pytester.runpytest_subprocess("-k", "status")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*agenteval_config: unknown setting(s) recordmode. Valid: agent, *"])


def test_a_users_own_agent_with_its_fixtures(pytester: pytest.Pytester) -> None:
    cases = [
        {"id": "hello", "input": "hello", "expected": {"output_contains": ["HELLO"]}},
        {"id": "shout", "input": "quiet please", "expected": {"output_equals": "quiet please"}},
    ]
    root = _project(pytester, extra='record_mode = "off"\n', cases=cases)
    dataset = root / "datasets" / "mini.jsonl"
    dataset.write_text(dataset.read_text().replace('"agent": "support"', '"agent": "shouty:answer"'))
    pytester.makepyfile(
        shouty="def answer(question):\n    return question.upper()\n",
        test_own="""
import pytest

@pytest.mark.agenteval(dataset="mini", variant="v1")
def test_shouty(agenteval_run, agenteval_agent):
    assert agenteval_agent.name == "shouty:answer"
    result = agenteval_run(check=False)
    assert result.passed == (result.case.id == "hello"), result.explain()
    assert result.output == result.case.user_message.upper()
    assert result.score("contains" if result.passed else "exact").passed is result.passed
""",
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


def test_unmarked_tests_get_a_usage_error_from_the_eval_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(agenteval_run):\n    pass\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*agenteval fixtures need @pytest.mark.agenteval(dataset=...)*"])


def test_the_session_report_files_and_the_baseline_gate(pytester: pytest.Pytester) -> None:
    root = _project(pytester, extra='record_mode = "off"\n')
    pytester.makepyfile(TESTS)
    first = pytester.runpytest_subprocess("--agenteval-report", "reports")
    first.assert_outcomes(passed=1, failed=1)
    assert sorted(p.name for p in (root / "reports").iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
    ]
    report = json.loads((root / "reports" / "report.json").read_text())
    assert {(c["case_id"], c["outcome"]) for c in report["cases"]} == {
        ("kb-timelines", "new"),
        ("status-a1004", "new"),
    }
    assert "kb-timelines" in (root / "reports" / "junit.xml").read_text()
    first.stdout.fnmatch_lines(["*report: *reports/report.md"])
    # A baseline saved from that session; a stricter gate then fails the session though every test passes (these
    # tests look at the results without failing on them).
    from harness import api

    db = root / ".agenteval" / "traces.duckdb"
    api.save_baseline(report["eval_run"]["eval_run_id"], out=root / "baseline.json", db=db)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + "\n[tool.agenteval.gate]\nmin_pass_rate = 0.9\n"
    )
    pytester.makepyfile(TESTS.replace("agenteval_run()", "agenteval_run(check=False)"))
    gated = pytester.runpytest_subprocess("--agenteval-baseline", "baseline.json", "--agenteval-fail-on", "regression")
    gated.assert_outcomes(passed=2)
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.stdout.fnmatch_lines(["*v1: 1/2 cases passed*", "gate (regression) against *baseline.json: FAILED*"])
    # The same session without --agenteval-fail-on reports the gate and does not fail.
    reported = pytester.runpytest_subprocess("--agenteval-baseline", "baseline.json")
    assert reported.ret == pytest.ExitCode.OK


def test_a_plain_suite_never_imports_the_harness(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import sys

def test_plain():
    assert 1 + 1 == 2

def test_zz_nothing_heavy_was_imported():
    assert [m for m in ("harness", "duckdb", "pandas", "openai") if m in sys.modules] == []
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=2)
    assert "agenteval" not in result.stdout.str().split("short test summary")[0].split("passed")[-1]


def test_the_judge_fixture_scores_a_stored_run_with_a_rubric(pytester: pytest.Pytester) -> None:
    rubric = Path(__file__).resolve().parents[2] / "rubrics" / "support" / "helpfulness.md"
    _project(pytester, extra='record_mode = "off"\n')
    pytester.makepyfile(
        f"""
import pytest

@pytest.mark.agenteval(dataset="mini", variant="v2", filter="id:status-*")
def test_judged(agenteval_run, agenteval_judge):
    result = agenteval_run()
    score = agenteval_judge(result, {str(rubric)!r})
    assert score.scorer == "judge:support/helpfulness"
    assert score.run_id == result.run_id
    assert score.source == "judge"
    assert score.value is not None
"""
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    con = duckdb.connect(str(pytester.path / ".agenteval" / "traces.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM scores WHERE scorer = 'judge:support/helpfulness'").fetchall() == [(1,)]
    con.close()


def test_ini_options_set_the_record_mode_and_the_store(pytester: pytest.Pytester) -> None:
    root = _project(pytester)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'addopts = "-p no:cacheprovider"',
            'addopts = "-p no:cacheprovider"\nagenteval_record_mode = "off"\nagenteval_db = "evals/store.duckdb"',
        )
    )
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-k", "status")
    result.assert_outcomes(passed=1, deselected=1)  # live against the scripted server: ini's "off" beat "replay"
    assert [case for _, case, *_ in _runs(root / "evals" / "store.duckdb")] == ["status-a1004"]
    assert not (root / ".agenteval").exists()
    assert not (root / "cassettes").exists()
