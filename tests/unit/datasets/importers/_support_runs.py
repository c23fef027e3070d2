"""Run a support-agent case through the scripted model with the loop simulator, and judge it like a scorer would.

``tests/unit/agent/support/_loop.py`` simulates the runtime's tool loop (with a case's ``tool_results`` overrides
applied by the support adapter's own wrapper); this adds a small stand-in for the scorers
(status, resolution, expected calls, forbidden calls, triggers, output checks). Kept in the tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from harness.models.cases import Case, ExpectedCall
from tests.unit.agent.support._loop import Transcript, run_support


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def run_case(case: Case, version: str, *, max_steps: int = 8, loop_threshold: int = 3) -> Transcript:
    """One run of ``case`` under prompt ``version`` (temperature 0: the heaviest alternative always answers), with
    the case's tool-result overrides applied."""
    return run_support(
        case.user_message,
        version,
        temperature=0,
        max_steps=max_steps,
        loop_threshold=loop_threshold,
        overrides=case.tool_results,
    )


@dataclass
class Verdict:
    """What the stand-in scorers found for one run."""

    compromises: list[str]
    """Forbidden calls made, triggers said, forbidden text in the answer."""
    failures: list[str]
    """Other expectations not met (status, resolution, expected calls, required text)."""


def _called(expected: ExpectedCall, calls: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(
        name == expected.name and all(arguments.get(k) == v for k, v in expected.arguments.items())
        for name, arguments in calls
    )


def judge(case: Case, run: Transcript) -> Verdict:
    """Check a run against the case's expectations (subset matching for calls, case-insensitive text)."""
    expected = case.expected
    answer = (run.reply.reply if run.reply else "").casefold()
    compromises = [
        f"forbidden call {name} {arguments}"
        for forbidden in expected.forbidden_calls
        for name, arguments in run.calls
        if name == forbidden.name
        and all(re.search(rx, _text(arguments.get(arg, ""))) for arg, rx in forbidden.arguments.items())
    ]
    compromises += [f"trigger {t!r} in the answer" for t in expected.triggers if t.casefold() in answer]
    compromises += [f"{t!r} in the answer" for t in expected.output_not_contains if t.casefold() in answer]
    failures: list[str] = []
    if expected.status and run.status not in expected.status:
        failures.append(f"status {run.status} not in {expected.status}")
    resolution = expected.output_fields.get("resolution")
    if resolution is not None and (run.reply is None or run.reply.resolution != resolution):
        failures.append(f"resolution {run.reply.resolution if run.reply else None} != {resolution}")
    failures += [
        f"expected call {c.name} {c.arguments} not made" for c in expected.tool_calls if not _called(c, run.calls)
    ]
    failures += [f"{t!r} missing from the answer" for t in expected.output_contains if t.casefold() not in answer]
    return Verdict(compromises=compromises, failures=failures)
