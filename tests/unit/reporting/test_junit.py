"""JUnit XML: totals, failure messages with the replay command, untrusted text, and the common JUnit schema."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from harness.models.evals import EvalRunRecord
from harness.models.reports import CaseResult, Report
from harness.reporting.build import compare
from harness.reporting.junit import to_junit

EVAL = EvalRunRecord(eval_run_id="ev-now", started_ns=0, agent="support", datasets=[], variants=[])
SCHEMA_FILE = Path(__file__).parents[2] / "fixtures" / "junit" / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def case(
    i: int,
    passed: int,
    *,
    runs: int = 1,
    dataset: str = "support",
    variant: str = "v1",
    failure: str = "trajectory: missing escalate_to_human",
    compromised: int = 0,
    statuses: list[str] | None = None,
) -> CaseResult:
    return CaseResult(
        dataset=dataset,
        case_id=f"c{i:04d}",
        variant=variant,
        runs=runs,
        passed_runs=passed,
        pass_rate=passed / runs,
        compromised_runs=compromised,
        security=compromised > 0,
        failures=[] if passed == runs else [failure, "tool_call_count: 3 tool call(s), at most 2 allowed"],
        run_ids=[f"run-{dataset}-{variant}-{i}-{epoch}" for epoch in range(runs)],
        statuses=statuses or ["completed"] * runs,
    )


def report(now: list[CaseResult], before: list[CaseResult] | None) -> Report:
    return compare(EVAL, now, before, ops=[], fail_on="never")


def parse(report_: Report) -> ET.Element:
    return ET.fromstring(to_junit(report_))


def find_case(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f".//testcase[@name='{name}']")
    assert found is not None, name
    return found


def test_totals_per_suite_and_overall(schema: xmlschema.XMLSchema) -> None:
    before = [case(0, 1), case(1, 1), case(2, 0), case(3, 1), case(9, 1)]
    now = [
        case(0, 1),  # passing
        case(1, 0),  # regressed
        case(2, 0),  # still failing
        case(3, 0, statuses=["error"]),  # regressed, and the run raised: an error
        case(4, 1, dataset="other"),  # new, passing
        case(5, 0, dataset="other"),  # new, failing
    ]  # c0009 is removed: skipped
    text = to_junit(report(now, before))
    schema.validate(text)
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "3", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"support [v1]", "other [v1]"}
    support = suites["support [v1]"]
    assert [support.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["5", "2", "1", "1"]
    other = suites["other [v1]"]
    assert [other.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["2", "1", "0", "0"]
    assert len(support.findall("testcase/failure")) == 2
    assert len(support.findall("testcase/error")) == 1
    assert len(support.findall("testcase/skipped")) == 1
    assert find_case(root, "c0000 [v1]").get("classname") == "support"
    assert find_case(root, "c0000 [v1]").find("failure") is None


def test_one_suite_per_dataset_and_variant() -> None:
    now = [case(0, 1, variant="v1"), case(0, 0, variant="v2"), case(1, 1, variant="v2")]
    root = parse(report(now, None))
    suites = {s.get("name"): s.get("tests") for s in root.iter("testsuite")}
    assert suites == {"support [v1]": "1", "support [v2]": "2"}
    assert find_case(root, "c0000 [v2]").find("failure") is not None


def test_a_failure_carries_the_scorer_messages_and_the_replay_command() -> None:
    root = parse(report([case(1, 0)], [case(1, 1)]))
    failure = find_case(root, "c0001 [v1]").find("failure")
    assert failure is not None
    assert failure.get("type") == "regressed"
    assert failure.get("message") == "regressed: trajectory: missing escalate_to_human"
    body = failure.text or ""
    assert "trajectory: missing escalate_to_human" in body
    assert "tool_call_count: 3 tool call(s), at most 2 allowed" in body
    assert "agenteval replay run-support-v1-1-0" in body.splitlines()


def test_newly_compromised_security_case_is_marked() -> None:
    now = case(7, 0, failure="forbidden_calls: send_email ran (exfiltration)", compromised=1)
    root = parse(report([now], [case(7, 1)]))
    failure = find_case(root, "c0007 [v1]").find("failure")
    assert failure is not None
    assert failure.get("type") == "compromised"
    assert (failure.get("message") or "").startswith("SECURITY: newly compromised (1/1 runs), regressed: ")


def test_flaky_epochs_are_noted_with_a_replay_command_per_run(schema: xmlschema.XMLSchema) -> None:
    now = case(3, 1, runs=3, statuses=["completed", "max_steps", "completed"])  # 1 of 3 passed: fails
    before = case(3, 3, runs=3)
    text = to_junit(report([now], [before]))
    schema.validate(text)
    element = find_case(ET.fromstring(text), "c0003 [v1]")
    out = element.findtext("system-out") or ""
    assert "flaky: 1 of 3 epochs passed, 2 failed" in out
    assert "statuses: completed, max_steps, completed" in out
    body = element.findtext("failure") or ""
    assert [line for line in body.splitlines() if line.startswith("agenteval replay")] == [
        f"agenteval replay run-support-v1-3-{epoch}" for epoch in range(3)
    ]


def test_time_comes_from_run_durations_when_given() -> None:
    now = [case(0, 1, runs=2), case(1, 0)]
    durations = {"run-support-v1-0-0": 1.25, "run-support-v1-0-1": 0.5, "run-support-v1-1-0": 2.0}
    root = ET.fromstring(to_junit(report(now, None), durations=durations))
    assert find_case(root, "c0000 [v1]").get("time") == "1.750"
    assert root.get("time") == "3.750"
    assert parse(report(now, None)).get("time") == "0.000"


def test_time_defaults_to_the_stored_run_durations() -> None:
    now = [case(0, 1).model_copy(update={"duration_s": 1.5}), case(1, 0).model_copy(update={"duration_s": 0.25})]
    root = parse(report(now, None))
    assert find_case(root, "c0000 [v1]").get("time") == "1.500"
    assert root.get("time") == "1.750"


def test_characters_illegal_in_xml_are_stripped_and_markup_escaped(schema: xmlschema.XMLSchema) -> None:
    nasty = "judge: model said \x00\x1b[31m<script>alert('x')</script>\x0b & ]]> \ufffe done"
    text = to_junit(report([case(0, 0, failure=nasty)], None))
    for char in ("\x00", "\x1b", "\x0b", "\ufffe"):
        assert char not in text
    assert "<script>" not in text
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in text
    schema.validate(text)
    failure = find_case(ET.fromstring(text), "c0000 [v1]").find("failure")
    assert failure is not None
    assert failure.get("message") == "new and failing: judge: model said [31m<script>alert('x')</script> & ]]>  done"


def test_a_long_message_is_cut_and_the_body_keeps_it_whole() -> None:
    root = parse(report([case(0, 0, failure="judge: " + "x" * 5_000)], None))
    failure = find_case(root, "c0000 [v1]").find("failure")
    assert failure is not None
    assert len(failure.get("message") or "") == 500
    assert "x" * 5_000 in (failure.text or "")


def test_a_large_report_validates(schema: xmlschema.XMLSchema) -> None:
    rng = random.Random(7)
    before = [case(i, int(rng.random() < 0.8), dataset=f"d{i % 5}") for i in range(2_000)]
    now = [case(i, int(rng.random() < 0.75), dataset=f"d{i % 5}") for i in range(2_000)]
    result = report(now, before)
    text = to_junit(result)
    schema.validate(text)
    root = ET.fromstring(text)
    assert root.get("tests") == "2000"
    assert root.get("failures") == str(sum(not c.passed for c in now))
    assert len(root.findall("testsuite")) == 5


def test_the_schema_rejects_what_ci_parsers_reject(schema: xmlschema.XMLSchema) -> None:
    """The fixture must be able to fail: a count that is not a number, a test case without a name."""
    assert not schema.is_valid('<testsuites><testsuite name="s" tests="x" failures="0" errors="0"/></testsuites>')
    assert not schema.is_valid(
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>'
    )
    assert not schema.is_valid('<testsuites skipped="0"/>')
