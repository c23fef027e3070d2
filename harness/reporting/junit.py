"""The report as JUnit XML, the format every CI shows as a test list (GitLab, Jenkins, Azure DevOps, GitHub actions).

One ``<testsuite>`` per dataset × variant, one ``<testcase>`` per case × variant (``classname`` the dataset, ``name``
``case_id [variant]``). A failing case carries a ``<failure>`` with its scorers' messages and the exact
``agenteval replay RUN_ID`` command; a case whose every run raised (the agent, a tool or the provider)
carries an ``<error>`` instead; a case only in the baseline is ``<skipped>``. The output keeps to the common
structure of JUnit XML (the Jenkins xUnit plugin's ``junit-10.xsd``), checked by tests/unit/reporting/test_junit.py.

Model output is untrusted: ElementTree escapes markup, and characters that XML 1.0 cannot hold at all (NUL, ANSI
escapes) are removed, because one of them makes the whole file unreadable to a CI's parser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping

from harness.models.reports import CaseChange, Report

# XML 1.0 §2.2 Char: tab, LF, CR and the ranges below; everything else (C0 controls, lone surrogates, U+FFFE/FFFF)
# may not appear in a document, even escaped.
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CRASHED = frozenset({"error", "model_error"})
"""Run statuses that are exceptions (in the agent, a tool or the provider) rather than behaviour: a case whose every
run ended in one is a JUnit ``<error>``; a loop, a timeout or too many steps is the agent's ``<failure>``."""
MESSAGE_LIMIT = 500
"""Longest ``message`` attribute: CIs show it on one line; the full text is in the element's body."""


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _ILLEGAL.sub("", text)


def to_junit(report: Report, *, durations: Mapping[str, float] | None = None) -> str:
    """Render the report as a JUnit XML document.

    Args:
        report: The report.
        durations: Seconds per run id, overriding the report's own run durations (a test case's ``time`` is the
            sum over its runs).
    """
    seconds = durations or {}
    suites: dict[tuple[str, str], list[CaseChange]] = defaultdict(list)
    for change in report.cases:
        suites[(change.dataset, change.variant)].append(change)
    root = ET.Element("testsuites", name=clean(f"agenteval {report.eval_run.eval_run_id}"))
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    total_time = 0.0
    for (dataset, variant), changes in sorted(suites.items()):
        suite = ET.SubElement(root, "testsuite", name=clean(f"{dataset} [{variant}]"))
        _properties(suite, report, variant)
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        suite_time = 0.0
        for change in sorted(changes, key=lambda c: c.case_id):
            runs = change.current.run_ids if change.current is not None else []
            stored = change.current.duration_s if change.current is not None else 0.0
            case_time = sum(seconds[run_id] for run_id in runs) if runs and all(r in seconds for r in runs) else stored
            kind = _testcase(suite, change, case_time)
            counts["tests"] += 1
            if kind is not None:
                counts[kind] += 1
            suite_time += case_time
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", str(counts["errors"]))
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", _time(suite_time))
        for key, value in counts.items():
            totals[key] += value
        total_time += suite_time
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", _time(total_time))  # no "skipped" here: junit-10.xsd does not allow it on the root
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _properties(suite: ET.Element, report: Report, variant: str) -> None:
    found = {
        "eval_run_id": report.eval_run.eval_run_id,
        "git_commit": report.eval_run.git_commit,
        "variant": variant,
        "baseline": report.baseline,
        "gate": report.gate.reason,
    }
    properties = ET.SubElement(suite, "properties")
    for name, value in found.items():
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=clean(value))


def _testcase(suite: ET.Element, change: CaseChange, seconds: float) -> str | None:
    """Add the case; return what it counts as besides a test (``failures``, ``errors``, ``skipped`` or ``None``)."""
    element = ET.SubElement(
        suite,
        "testcase",
        classname=clean(change.dataset),
        name=clean(f"{change.case_id} [{change.variant}]"),
        time=_time(seconds),
    )
    now = change.current
    if now is None:
        ET.SubElement(element, "skipped", message="removed: in the baseline, not in this eval run")
        return "skipped"
    notes = [
        f"outcome: {change.outcome}",
        f"runs: {now.passed_runs}/{now.runs} passed"
        + (f" (statuses: {', '.join(now.statuses)})" if now.statuses else ""),
    ]
    if now.flaky:
        notes.append(f"flaky: {now.passed_runs} of {now.runs} epochs passed, {now.runs - now.passed_runs} failed")
    if change.baseline is not None:
        notes.append(
            f"baseline ({change.baseline.variant}): {change.baseline.passed_runs}/{change.baseline.runs} passed"
        )
    if now.passed and not change.newly_compromised:
        ET.SubElement(element, "system-out").text = clean("\n".join(notes))
        return None
    crashed = bool(now.statuses) and all(status in CRASHED for status in now.statuses)
    headline = now.failures[0] if now.failures else f"{now.runs - now.passed_runs} of {now.runs} runs failed"
    prefix = {"regressed": "regressed", "still_failing": "still failing", "new": "new and failing"}.get(
        change.outcome, change.outcome
    )
    if change.newly_compromised:
        prefix = f"SECURITY: newly compromised ({now.compromised_runs}/{now.runs} runs), {prefix}"
    message = clean(f"{prefix}: {headline}")
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    body = [*now.failures, "", "Replay:", *(f"agenteval replay {run_id}" for run_id in now.run_ids)]
    failure = ET.SubElement(
        element,
        "error" if crashed else "failure",
        message=message,
        type="compromised" if change.newly_compromised else change.outcome,
    )
    failure.text = clean("\n".join(body))
    ET.SubElement(element, "system-out").text = clean("\n".join(notes))
    return "errors" if crashed else "failures"


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"
