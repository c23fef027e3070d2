"""BFCL-style acceptable-answer matching: every argument's value must be one of the acceptable values.

The Berkeley Function Calling Leaderboard lists, per argument, every acceptable value (``possible_answer``); ``""``
among them means the argument may be left out. Rules, as BFCL's AST checker applies them: the function name must
match; every argument without ``""`` must be given; no argument outside the listed ones; strings compare after
removing spaces and ``,./-_*^`` and lower-casing; an int is accepted where a float is listed; lists compare element
by element; inside a dict, each key again lists its acceptable values. Parallel calls match in any order.
"""

from __future__ import annotations

import re
from typing import Any

from harness.models.cases import Case, ExpectedCall
from harness.models.scores import ScoreResult
from harness.scorers._base import BuiltinScorer
from harness.scorers._protocol import ScoreContext, ToolCallMade
from harness.scorers.trajectory import trajectory_result

_NOISE = re.compile(r"[ ,./\-_*^]")


def standardize(text: str) -> str:
    """A string as BFCL compares it: without spaces and ``,./-_*^``, lower-cased."""
    return _NOISE.sub("", text).lower()


def value_matches(value: Any, acceptable: Any) -> bool:
    """Whether one given value equals one acceptable value under BFCL's rules."""
    if isinstance(acceptable, dict):
        if not isinstance(value, dict):
            return False
        return arguments_acceptable(value, acceptable)[0]
    if isinstance(acceptable, str):
        return isinstance(value, str) and standardize(value) == standardize(acceptable)
    if isinstance(acceptable, bool) or isinstance(value, bool):
        return value is acceptable
    if isinstance(acceptable, float) and isinstance(value, int | float):
        return float(value) == acceptable
    if isinstance(acceptable, int) and isinstance(value, int):
        return value == acceptable
    if isinstance(acceptable, list):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(acceptable)
            and all(value_matches(v, a) for v, a in zip(value, acceptable, strict=True))
        )
    return bool(value == acceptable)


def arguments_acceptable(arguments: dict[str, Any], acceptable: dict[str, Any]) -> tuple[bool, str]:
    """Whether a call's arguments are acceptable, and if not, why (the first problem found)."""
    for name in arguments:
        if name not in acceptable:
            return False, f"unexpected argument {name!r}"
    for name, values in acceptable.items():
        options = values if isinstance(values, list) else [values]
        if name not in arguments:
            if "" in options:
                continue
            return False, f"missing required argument {name!r}"
        given = arguments[name]
        if not any(value_matches(given, option) for option in options if option != ""):
            shown = [o for o in options if o != ""][:4]
            return False, f"{name}={given!r} is not acceptable (acceptable: {shown!r})"
    return True, "acceptable"


def call_acceptable(want: ExpectedCall, got: ToolCallMade) -> bool:
    """An actual call satisfies an expected call with acceptable values (or with exact arguments if it has none)."""
    if want.name != got.name:
        return False
    if want.acceptable is None:
        return arguments_acceptable(got.arguments, {k: [v] for k, v in want.arguments.items()})[0]
    return arguments_acceptable(got.arguments, want.acceptable)[0]


class AcceptableAnswers(BuiltinScorer):
    name = "bfcl"
    summary = "BFCL acceptable-answer matching of the tool calls (expected.tool_calls[].acceptable); value = F1"

    def applies_to(self, case: Case) -> bool:
        return any(c.acceptable is not None for c in case.expected.tool_calls)

    def score(self, ctx: ScoreContext) -> ScoreResult:
        expected = ctx.case.expected
        result = trajectory_result(expected, ctx.tool_calls, call_acceptable)
        if result.passed or len(expected.tool_calls) != 1:
            return result
        # One expected call: say what was wrong with the closest call of the same name.
        want = expected.tool_calls[0]
        same = [c for c in ctx.tool_calls if c.name == want.name]
        if same and want.acceptable is not None:
            _, why = arguments_acceptable(same[0].arguments, want.acceptable)
            return result.model_copy(update={"explanation": f"{result.explanation}; {want.name}: {why}"})
        return result
