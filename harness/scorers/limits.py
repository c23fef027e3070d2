"""Run-level checks: the status the run must end in, tool-call count bounds, and budgets (steps, tokens, cost,
latency)."""

from __future__ import annotations

from harness.models.scores import ScoreResult
from harness.scorers._base import BuiltinScorer, verdict
from harness.scorers._protocol import ScoreContext


class Status(BuiltinScorer):
    name = "status"
    fields = ("status",)
    summary = "the run ended in one of expected.status (e.g. escalated, awaiting_approval)"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        allowed = ctx.case.expected.status
        status = ctx.run.status
        detail = f" ({ctx.run.status_detail})" if ctx.run.status_detail else ""
        if status in allowed:
            return ScoreResult(passed=True, label=status, explanation=f"ended {status}")
        return ScoreResult(
            passed=False, label=status, explanation=f"ended {status}{detail}, expected {' or '.join(allowed)}"
        )


class ToolCallCount(BuiltinScorer):
    name = "tool_call_count"
    fields = ("min_tool_calls", "max_tool_calls")
    summary = "the number of tool calls is within expected.min_tool_calls..max_tool_calls"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        expected = ctx.case.expected
        count = len(ctx.tool_calls)
        failures = []
        if expected.min_tool_calls is not None and count < expected.min_tool_calls:
            failures.append(f"{count} tool call(s), at least {expected.min_tool_calls} expected")
        if expected.max_tool_calls is not None and count > expected.max_tool_calls:
            failures.append(f"{count} tool call(s), at most {expected.max_tool_calls} allowed")
        return verdict(failures, f"{count} tool call(s), within bounds", value=float(count))


class Budget(BuiltinScorer):
    name = "budget"
    fields = ("max_steps", "max_tokens", "max_cost_usd", "max_latency_ms")
    summary = "steps, tokens, cost and latency within expected.max_steps/max_tokens/max_cost_usd/max_latency_ms"

    def score(self, ctx: ScoreContext) -> ScoreResult:
        expected = ctx.case.expected
        run = ctx.run
        failures: list[str] = []
        held: list[str] = []

        def check(what: str, actual: float | None, limit: float | None, unit: str = "") -> None:
            if limit is None:
                return
            if actual is None:
                failures.append(f"{what} unknown (limit {limit:g}{unit})")
            elif actual > limit:
                failures.append(f"{what} {actual:g}{unit} over the limit {limit:g}{unit}")
            else:
                held.append(f"{what} {actual:g}{unit} ≤ {limit:g}{unit}")

        check("steps", run.steps, expected.max_steps)
        check("tokens", run.total_tokens, expected.max_tokens)
        cost = ctx.cost_usd
        check("cost", None if cost is None else round(cost, 6), expected.max_cost_usd, " USD")
        latency = ctx.duration_ms
        check("latency", None if latency is None else round(latency, 1), expected.max_latency_ms, " ms")
        return verdict(failures, "; ".join(held))
