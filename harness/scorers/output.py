"""Checks of the final answer: exact, contains, not-contains, regex, and fields of the structured answer."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.models.scores import ScoreResult
from harness.scorers._base import BuiltinScorer, clip, verdict
from harness.scorers._protocol import ScoreContext


class Exact(BuiltinScorer):
    name = "exact"
    fields = ("output_equals",)
    summary = "the final answer equals expected.output_equals (surrounding whitespace ignored)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        want = (ctx.case.expected.output_equals or "").strip()
        got = ctx.output_text.strip()
        if got == want:
            return ScoreResult(passed=True, value=1.0, explanation="the answer is exactly the expected text")
        return ScoreResult(passed=False, value=0.0, explanation=f"expected {clip(want)!r}, got {clip(got)!r}")


class Contains(BuiltinScorer):
    name = "contains"
    fields = ("output_contains",)
    summary = "the final answer contains every expected.output_contains string (case-insensitive)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        wanted = ctx.case.expected.output_contains
        text = ctx.output_text.casefold()
        missing = [w for w in wanted if w.casefold() not in text]
        share = (len(wanted) - len(missing)) / len(wanted)
        return verdict(
            [f"the answer lacks {', '.join(repr(m) for m in missing)}: {clip(ctx.output_text)!r}"] if missing else [],
            f"the answer contains {', '.join(repr(w) for w in wanted)}",
            value=share,
        )


class NotContains(BuiltinScorer):
    name = "not_contains"
    fields = ("output_not_contains",)
    summary = "the final answer contains none of expected.output_not_contains (case-insensitive)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        text = ctx.output_text.casefold()
        found = [w for w in ctx.case.expected.output_not_contains if w.casefold() in text]
        return verdict(
            [f"the answer contains {', '.join(repr(f) for f in found)}"] if found else [],
            "the answer contains none of the forbidden strings",
        )


class Regex(BuiltinScorer):
    name = "regex"
    fields = ("output_regex",)
    summary = "the final answer matches expected.output_regex"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        pattern = ctx.case.expected.output_regex or ""
        match = re.search(pattern, ctx.output_text)
        if match:
            return ScoreResult(passed=True, explanation=f"matches /{pattern}/ at {clip(match.group(0), 60)!r}")
        return ScoreResult(passed=False, explanation=f"no match for /{pattern}/ in {clip(ctx.output_text)!r}")


class OutputFields(BuiltinScorer):
    name = "output_fields"
    fields = ("output_fields",)
    summary = "the structured answer has expected.output_fields with these values"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        data = ctx.output_data
        if not isinstance(data, dict):
            return ScoreResult(passed=False, value=0.0, explanation="the answer is not a JSON object")
        wanted = ctx.case.expected.output_fields
        wrong = [
            f"{key}={_show(data.get(key, _MISSING))} (expected {_show(value)})"
            for key, value in wanted.items()
            if not values_equal(data.get(key, _MISSING), value)
        ]
        return verdict(
            wrong,
            f"fields match: {', '.join(f'{k}={_show(v)}' for k, v in wanted.items())}",
            value=(len(wanted) - len(wrong)) / len(wanted),
        )


_MISSING = object()


def values_equal(actual: Any, expected: Any, *, fold_case: bool = True) -> bool:
    """JSON equality: ints equal the same floats, strings compare stripped (and case-insensitively by default)."""
    if isinstance(expected, str) and isinstance(actual, str):
        if fold_case:
            return actual.strip().casefold() == expected.strip().casefold()
        return actual.strip() == expected.strip()
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            values_equal(actual[k], v, fold_case=fold_case) for k, v in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            values_equal(a, e, fold_case=fold_case) for a, e in zip(actual, expected, strict=True)
        )
    return bool(actual == expected)


def _show(value: Any) -> str:
    return clip(json.dumps(value, default=str) if value is not _MISSING else "<missing>", 60)
