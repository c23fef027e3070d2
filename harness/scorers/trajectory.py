"""Trajectory: the tool calls the agent made against the calls the case expects, with partial credit as F1.

Sequence modes (``expected.tool_call_match``): ``strict`` (the same calls in the same order), ``unordered`` (the
same multiset), ``subset`` (every expected call is among the actual ones), ``superset`` (every actual call is among
the expected ones). Argument modes (``expected.argument_match``, per tool ``argument_match_by_tool``): ``exact``,
``ignore``, ``subset`` (expected arguments ⊆ actual), ``superset`` (actual ⊆ expected). Calls pair up one to one
(a maximum bipartite matching; for ``strict``, the longest common subsequence), and
F1 = 2·matched / (expected + actual) is the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from harness.models.cases import Case, Expected, ExpectedCall
from harness.models.scores import ScoreResult
from harness.scorers._base import BuiltinScorer, clip
from harness.scorers._protocol import ScoreContext, ToolCallMade
from harness.scorers.output import values_equal

Match = Callable[[ExpectedCall, ToolCallMade], bool]


def arguments_match(actual: dict[str, Any], expected: dict[str, Any], mode: str) -> bool:
    """Whether actual arguments match expected ones under ``mode`` (exact, ignore, subset, superset)."""
    if mode == "ignore":
        return True
    if mode == "exact":
        return values_equal(actual, expected, fold_case=False)
    if mode == "subset":  # expected ⊆ actual
        return all(k in actual and values_equal(actual[k], v, fold_case=False) for k, v in expected.items())
    if mode == "superset":  # actual ⊆ expected
        return all(k in expected and values_equal(v, expected[k], fold_case=False) for k, v in actual.items())
    raise ValueError(f"unknown argument match mode {mode!r}")


def call_matcher(expected: Expected) -> Match:
    """A predicate telling whether an actual call satisfies an expected one, under the case's argument modes."""

    def matches(want: ExpectedCall, got: ToolCallMade) -> bool:
        if want.name != got.name:
            return False
        mode = expected.argument_match_by_tool.get(want.name, expected.argument_match)
        return arguments_match(got.arguments, want.arguments, mode)

    return matches


def match_count(
    expected: Sequence[ExpectedCall], actual: Sequence[ToolCallMade], matches: Match, *, ordered: bool
) -> tuple[int, list[int | None]]:
    """How many calls pair up, and for each expected call the index of its actual call (or None).

    Ordered: the longest common subsequence. Unordered: a maximum bipartite matching (augmenting paths; call
    lists are short).
    """
    if ordered:
        n, m = len(expected), len(actual)
        table = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                if matches(expected[i], actual[j]):
                    table[i][j] = table[i + 1][j + 1] + 1
                else:
                    table[i][j] = max(table[i + 1][j], table[i][j + 1])
        pairs: list[int | None] = [None] * n
        i = j = 0
        while i < n and j < m:
            if matches(expected[i], actual[j]) and table[i][j] == table[i + 1][j + 1] + 1:
                pairs[i] = j
                i, j = i + 1, j + 1
            elif table[i + 1][j] >= table[i][j + 1]:
                i += 1
            else:
                j += 1
        return table[0][0], pairs
    owner: dict[int, int] = {}  # actual index -> expected index

    def assign(e: int, seen: set[int]) -> bool:
        for a, call in enumerate(actual):
            if a in seen or not matches(expected[e], call):
                continue
            seen.add(a)
            if a not in owner or assign(owner[a], seen):
                owner[a] = e
                return True
        return False

    count = sum(assign(e, set()) for e in range(len(expected)))
    pairs = [None] * len(expected)
    for a, e in owner.items():
        pairs[e] = a
    return count, pairs


def trajectory_result(
    expected: Expected, actual: Sequence[ToolCallMade], matches: Match, what: str = "tool calls"
) -> ScoreResult:
    """Compare the calls under ``expected.tool_call_match``; value = F1; explanation names missing/extra calls."""
    wanted = expected.tool_calls
    mode = expected.tool_call_match
    matched, pairs = match_count(wanted, actual, matches, ordered=mode == "strict")
    used = {p for p in pairs if p is not None}
    missing = [want for want, p in zip(wanted, pairs, strict=True) if p is None]
    extra = [call for index, call in enumerate(actual) if index not in used]
    total = len(wanted) + len(actual)
    f1 = 1.0 if total == 0 else 2 * matched / total
    if mode == "strict" or mode == "unordered":
        passed = matched == len(wanted) == len(actual)
    elif mode == "subset":
        passed = matched == len(wanted)
    else:  # superset: every actual call is expected
        passed = matched == len(actual)
    problems = []
    if missing and mode != "superset":
        problems.append("missing " + ", ".join(_show(c.name, c.arguments) for c in missing))
    if extra and mode in ("strict", "unordered", "superset"):
        problems.append("unexpected " + ", ".join(_show(c.name, c.arguments) for c in extra))
    if not passed and not problems:
        problems.append("calls out of order")
    detail = f"{matched}/{len(wanted)} expected {what} matched ({mode}), {len(actual)} made"
    explanation = detail if passed else f"{detail}: {'; '.join(problems)}"
    return ScoreResult(
        passed=passed,
        value=round(f1, 6),
        explanation=explanation,
        metadata={"matched": matched, "expected": len(wanted), "actual": len(actual), "mode": mode},
    )


def _show(name: str, arguments: dict[str, Any]) -> str:
    return f"{name}({clip(json.dumps(arguments, default=str, ensure_ascii=False), 80)})"


class Trajectory(BuiltinScorer):
    name = "trajectory"
    fields = ("tool_calls",)
    summary = "the tool calls made match expected.tool_calls (modes strict/unordered/subset/superset); value = F1"

    def applies_to(self, case: Case) -> bool:
        calls = case.expected.tool_calls
        return bool(calls) and not any(c.acceptable is not None for c in calls)

    def score(self, ctx: ScoreContext) -> ScoreResult:
        expected = ctx.case.expected
        return trajectory_result(expected, ctx.tool_calls, call_matcher(expected))


class NoToolCalls(BuiltinScorer):
    name = "no_tool_calls"
    fields = ("no_tool_calls",)
    summary = "no tool was called (expected.no_tool_calls; BFCL irrelevance)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        calls = ctx.tool_calls
        if not calls:
            return ScoreResult(passed=True, explanation="no tool was called")
        shown = ", ".join(_show(c.name, c.arguments) for c in calls[:3])
        return ScoreResult(passed=False, explanation=f"{len(calls)} tool call(s) made: {shown}")
