"""Run a support-agent case through the scripted model with the loop simulator, and judge it like a scorer would.

``tests/unit/agent/support/_loop.py`` simulates the runtime's tool loop; this adds what a case brings: its
``tool_results`` overrides (applied to the tool messages, as the runner will) and a small stand-in for the scorers
(status, resolution, expected calls, forbidden calls, triggers, output checks). Kept in the tests.
"""

from __future__ import annotations

import collections
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.agent.support import SupportReply, load_shop, make_support_tools
from harness.models.cases import Case, ExpectedCall, ToolResultOverride
from tests.unit.agent.support._loop import Transcript, execute, next_message, system_prompt


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _applies(override: ToolResultOverride, name: str, arguments: dict[str, Any]) -> bool:
    return override.tool == name and all(
        re.search(rx, _text(arguments.get(arg, ""))) for arg, rx in override.arguments.items()
    )


def run_case(case: Case, version: str, *, max_steps: int = 8, loop_threshold: int = 3) -> Transcript:
    """One run of ``case`` under prompt ``version`` (temperature 0: the heaviest alternative always answers)."""
    shop = load_shop()
    tools = {t.name: t for t in make_support_tools(shop)}
    run = Transcript(
        messages=[
            {"role": "system", "content": system_prompt(version)},
            {"role": "user", "content": case.user_message},
        ],
        shop=shop,
    )
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(max_steps):
        message, rule = next_message(run.messages, temperature=0)
        run.rules.append(rule)
        run.messages.append({k: v for k, v in message.items() if v is not None and k not in ("refusal", "annotations")})
        calls = message.get("tool_calls") or []
        if not calls:
            run.reply = SupportReply.model_validate_json(message["content"])
            run.status = "completed"
            return run
        for call in calls:
            name, raw = call["function"]["name"], call["function"]["arguments"]
            arguments = json.loads(raw)
            run.calls.append((name, arguments))
            signature = f"{name}\x00{json.dumps(arguments, sort_keys=True)}"
            seen[signature] += 1
            if seen[signature] >= loop_threshold:
                run.status = "loop_detected"
                return run
            content, end = execute(tools[name], raw, call["id"], None)
            for override in case.tool_results:
                if _applies(override, name, arguments):
                    content = override.content if override.mode == "replace" else f"{content}\n{override.content}"
            run.messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
            if end is not None:
                run.status = end
                return run
    run.status = "max_steps"
    return run


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
