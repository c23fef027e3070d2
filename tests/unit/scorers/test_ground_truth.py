"""The trajectory, forbidden-call and acceptable-answer scorers against real upstream ground truth.

AgentDojo: every user task's ground-truth calls pass its trajectory; the same calls with an injection task's
malicious calls appended fail the forbidden-call scorer (built by our importer from the rendered payloads) and a
strict trajectory. BFCL: for every possible answer, a call made of acceptable values passes; an unacceptable value,
a missing required argument or an unknown argument fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.datasets.importers.agentdojo import forbidden_calls, load_payloads, load_tools
from harness.datasets.importers.bfcl import expected_calls, first_value, safe_name
from harness.models.cases import Case, Expected, ExpectedCall
from harness.scorers import BUILTIN_SCORERS
from tests.unit.scorers._traces import context

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "scorers"
AGENTDOJO = DATA / "agentdojo"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


USER_TASKS = _jsonl(AGENTDOJO / "user_tasks.jsonl")
PAYLOADS = [p for p in load_payloads(AGENTDOJO) if p.attack == "important_instructions"]
INJECTION_CALLS = {
    (task["suite"], task["id"]): task["ground_truth_calls"] for task in _jsonl(AGENTDOJO / "injection_tasks.jsonl")
}


def _calls(truth: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(c["function"], c.get("args") or {}) for c in truth]


def test_the_fixture_is_the_whole_upstream_set() -> None:
    assert len(USER_TASKS) >= 50
    assert len(PAYLOADS) >= 10
    assert {t["suite"] for t in USER_TASKS} == {"workspace", "banking"}


@pytest.mark.parametrize("task", USER_TASKS, ids=lambda t: f"{t['suite']}/{t['id']}")
def test_ground_truth_calls_pass_their_trajectory_in_every_mode(task: dict[str, Any]) -> None:
    truth = _calls(task["ground_truth_calls"])
    expected = [ExpectedCall(name=n, arguments=a) for n, a in truth]
    for mode in ("strict", "unordered", "subset", "superset"):
        case = Case(
            id="t", input="x", expected=Expected(tool_calls=expected, tool_call_match=mode, argument_match="exact")
        )
        if not expected:
            continue
        result = BUILTIN_SCORERS["trajectory"].score(context(case, calls=truth))
        assert result.passed is True, (mode, result.explanation)
        assert result.value == 1.0


@pytest.mark.parametrize("task", USER_TASKS, ids=lambda t: f"{t['suite']}/{t['id']}")
def test_injected_calls_appended_to_the_ground_truth_fail(task: dict[str, Any]) -> None:
    suite = task["suite"]
    tools = {tool.name for tool in load_tools(AGENTDOJO, suite)}
    truth = _calls(task["ground_truth_calls"])
    checked = 0
    for payload in [p for p in PAYLOADS if p.suite == suite]:
        forbidden = forbidden_calls(payload, tools)
        if not forbidden:
            continue
        # The injection task's own ground truth: the calls its attacker wants made.
        truth_of_attack = INJECTION_CALLS[(suite, payload.injection_task_id)]
        if not truth_of_attack:
            continue  # upstream gives no calls for goals that depend on the environment's state
        malicious = [(c["function"], c.get("placeholder_args") or c.get("args") or {}) for c in truth_of_attack]
        expected = Expected(
            tool_calls=[ExpectedCall(name=n, arguments=a) for n, a in truth],
            tool_call_match="strict",
            forbidden_calls=forbidden,
        )
        case = Case(id="t", input="x", expected=expected)
        clean = context(case, calls=truth)
        hijacked = context(case, calls=truth + malicious)
        assert BUILTIN_SCORERS["forbidden_calls"].score(clean).passed is True, payload.id
        verdict = BUILTIN_SCORERS["forbidden_calls"].score(hijacked)
        assert (verdict.passed, verdict.label) == (False, "compromised"), payload.id
        if truth:
            assert BUILTIN_SCORERS["trajectory"].score(hijacked).passed is False
        checked += 1
    assert checked > 0


BFCL_FILES = sorted((DATA / "bfcl" / "possible_answer").glob("*.json"))
ANSWERS = [(path.stem, json.loads(line)) for path in BFCL_FILES for line in path.read_text().splitlines()]


def _bfcl_case(item: dict[str, Any]) -> Case:
    names = {name: safe_name(name) for entry in item["ground_truth"] for name in entry}
    return Case(
        id="b",
        input="x",
        expected=Expected(tool_calls=expected_calls(item["ground_truth"], names), tool_call_match="unordered"),
    )


def _made(case: Case) -> list[tuple[str, dict[str, Any]]]:
    made = []
    for call in case.expected.tool_calls:
        assert call.acceptable is not None
        made.append((call.name, {a: first_value(v) for a, v in call.acceptable.items() if v != [""] and "" not in v}))
    return list(reversed(made))  # parallel calls match in any order


def test_the_bfcl_fixture_covers_every_single_turn_category() -> None:
    assert {stem for stem, _ in ANSWERS} == {
        "BFCL_v4_multiple",
        "BFCL_v4_parallel",
        "BFCL_v4_parallel_multiple",
        "BFCL_v4_simple_python",
    }
    assert len(ANSWERS) >= 990


def test_acceptable_values_pass_and_wrong_ones_fail_on_every_possible_answer() -> None:
    scorer = BUILTIN_SCORERS["bfcl"]
    passed = failed_wrong = failed_missing = failed_unknown = 0
    for stem, item in ANSWERS:
        case = _bfcl_case(item)
        assert scorer.applies_to(case)
        made = _made(case)
        result = scorer.score(context(case, calls=made))
        assert result.passed is True, (stem, item["id"], result.explanation)
        passed += 1
        # Change the first argument of the first call to a value no acceptable list holds.
        name, arguments = made[-1]
        if arguments:
            key = next(iter(arguments))
            wrong = [*made[:-1], (name, {**arguments, key: "agenteval-not-acceptable-§"})]
            assert scorer.score(context(case, calls=wrong)).passed is False, (stem, item["id"], key)
            failed_wrong += 1
            required = [k for k, v in case.expected.tool_calls[0].acceptable.items() if "" not in v]  # type: ignore[union-attr]
            if required:
                dropped = [*made[:-1], (name, {k: v for k, v in arguments.items() if k != required[0]})]
                assert scorer.score(context(case, calls=dropped)).passed is False
                failed_missing += 1
        extra = [*made[:-1], (name, {**arguments, "agenteval_unknown_argument": 1})]
        assert scorer.score(context(case, calls=extra)).passed is False
        failed_unknown += 1
        assert scorer.score(context(case, calls=[])).passed is False
    assert passed == len(ANSWERS)
    assert failed_wrong > 900
    assert failed_missing > 900
    assert failed_unknown == len(ANSWERS)


@pytest.mark.parametrize(
    ("given", "acceptable", "ok"),
    [
        ("New York, NY", ["new york ny", "NYC"], True),  # BFCL strips spaces and ,./-_*^ and lower-cases
        ("Boston", ["new york ny"], False),
        (5, [5.0], True),  # an int where a float is listed
        (5.5, [5], False),
        ([3, 5], [[3, 5]], True),
        ([5, 3], [[3, 5]], False),
        ({"min": 300000, "max": 400000}, [{"min": [300000], "max": [400000, 500000]}], True),
        ({"min": 1}, [{"min": [300000], "max": [400000]}], False),
        (True, [1], False),
    ],
)
def test_bfcl_value_rules(given: Any, acceptable: list[Any], ok: bool) -> None:
    case = Case(id="b", input="x", expected=Expected(tool_calls=[ExpectedCall(name="f", acceptable={"p": acceptable})]))
    assert BUILTIN_SCORERS["bfcl"].score(context(case, calls=[("f", {"p": given})])).passed is ok
