"""Pairwise judging: two runs of the same case, judged in both orders; a preference counts only when both agree.

LLM judges favour a position (often the first answer). So each pair is judged twice, once with run ``a`` shown as
response A and once with it shown as response B; the second verdict is mapped back. When the two agree, that is the
verdict (a preference, or a tie); when they disagree the pair is a tie flagged ``position_inconsistent``. The share
of consistent pairs is the judge's position consistency, reported with every comparison.

The win rate of ``b`` over ``a`` is ``b``'s share of the decided pairs (ties left out), with a 95% Wilson score
interval over those pairs; ``win_rate_with_ties`` counts a tie as half a win, over all judged pairs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from harness.config import safe_name
from harness.models._base import Record
from harness.scorers._protocol import ScoreContext
from harness.scorers.judges._call import JudgeEndpoint, JudgeError, JudgeOutcome, judge_samples
from harness.scorers.judges._pointwise import build_prompt
from harness.scorers.judges._render import PAIRWISE_SCHEMA_NAME, Candidate, render_context, summarize_tool_calls
from harness.scorers.judges._rubric import Rubric
from harness.scorers.judges._verdict import aggregate

Winner = Literal["a", "b", "tie"]
_ORDERS: tuple[Literal["ab", "ba"], ...] = ("ab", "ba")
_BACK: dict[str, dict[str, Winner]] = {
    "ab": {"A": "a", "B": "b", "tie": "tie"},  # first order: run a shown as response A
    "ba": {"A": "b", "B": "a", "tie": "tie"},  # second order: run b shown as response A
}


class OrderVerdict(Record):
    """The verdict of one order, mapped back to the runs."""

    order: Literal["ab", "ba"]
    """``ab``: run ``a`` was shown as response A; ``ba``: run ``b`` was."""
    label: Literal["A", "B", "tie"] | None = None
    """What the judge answered (positions); ``None`` when it gave no valid verdict."""
    winner: Winner | None = None
    """The answer mapped back to the runs."""
    agreement: float | None = None
    """Share of this order's samples that agree with its majority."""
    reasoning: str = ""
    """The judge's reasoning (of a majority sample)."""
    input_tokens: int = 0
    """Prompt tokens spent on this order."""
    output_tokens: int = 0
    """Completion tokens spent on this order."""


class PairwiseResult(Record):
    """Two runs of one case compared in both orders."""

    case_id: str
    """The case."""
    dataset: str | None = None
    """Its dataset."""
    epoch: int | None = None
    """The epoch both runs belong to."""
    variant_a: str | None = None
    """Variant of run ``a``."""
    variant_b: str | None = None
    """Variant of run ``b``."""
    run_a: str
    """Run id of ``a``."""
    run_b: str
    """Run id of ``b``."""
    winner: Winner | None = None
    """``a`` or ``b`` when both orders prefer it, else ``tie``; ``None`` when the judge failed."""
    consistent: bool = False
    """Both orders gave the same verdict (a tie in both orders is consistent)."""
    orders: list[OrderVerdict] = []
    """The two orders' verdicts (``ab`` then ``ba``)."""
    error: str | None = None
    """Why there is no verdict (invalid verdicts after the repair retry, a failed call, a missing cassette)."""

    @property
    def position_inconsistent(self) -> bool:
        """The orders disagreed: the pair counts as a tie."""
        return self.error is None and not self.consistent


class PairwiseSummary(Record):
    """Many pairs: wins, ties, the win rate of ``b`` over ``a`` with its confidence interval, consistency."""

    pairs: int
    """Pairs compared."""
    wins_a: int
    """Pairs both orders gave to ``a``."""
    wins_b: int
    """Pairs both orders gave to ``b``."""
    ties: int
    """Ties, position-inconsistent pairs included."""
    inconsistent: int
    """Pairs whose two orders disagreed (counted as ties)."""
    errors: int
    """Pairs without a verdict."""
    position_consistency: float | None
    """Share of judged pairs whose two orders agreed."""
    win_rate_b: float | None
    """``wins_b / (wins_a + wins_b)``: ``b``'s share of the decided pairs."""
    ci_low: float | None
    """Lower end of the 95% Wilson score interval of ``win_rate_b``."""
    ci_high: float | None
    """Upper end of the 95% Wilson score interval of ``win_rate_b``."""
    win_rate_with_ties: float | None
    """``(wins_b + ties / 2) / judged pairs``."""


def pairwise_cassette_path(directory: Path, ctx_a: ScoreContext, ctx_b: ScoreContext, rubric: str) -> Path:
    """``<dir>/<dataset>/pairwise/<a>-vs-<b>/<case>.e<epoch>.<rubric>.yaml``."""
    run_a, run_b = ctx_a.run, ctx_b.run
    pair = f"{safe_name(run_a.variant or run_a.run_id)}-vs-{safe_name(run_b.variant or run_b.run_id)}"
    case = safe_name(run_a.case_id or ctx_a.case.id)
    return (
        directory
        / (run_a.dataset or "_runs")
        / "pairwise"
        / pair
        / f"{case}.e{run_a.epoch or 1}.{safe_name(rubric)}.yaml"
    )


class PairwiseJudge:
    """Compares two runs of the same case with a pairwise rubric (labels ``A``/``B``/``tie``), in both orders."""

    def __init__(self, rubric: Rubric, endpoint: JudgeEndpoint | None = None) -> None:
        if rubric.kind != "pairwise":
            raise ValueError(f"{rubric.path}: {rubric.name} is not a pairwise rubric (kind: pairwise)")
        self.rubric = rubric
        self.endpoint = endpoint or JudgeEndpoint()
        self.version = f"{rubric.name}@{rubric.version}"

    async def judge(self, ctx_a: ScoreContext, ctx_b: ScoreContext) -> PairwiseResult:
        """Judge ``a`` against ``b``. Never raises for a judge failure: the result carries ``error`` instead."""
        if ctx_a.case.id != ctx_b.case.id:
            raise ValueError(f"pairwise judging needs two runs of one case, not {ctx_a.case.id} and {ctx_b.case.id}")
        run_a, run_b = ctx_a.run, ctx_b.run
        result = PairwiseResult(
            case_id=ctx_a.case.id,
            dataset=run_a.dataset,
            epoch=run_a.epoch,
            variant_a=run_a.variant,
            variant_b=run_b.variant,
            run_a=run_a.run_id,
            run_b=run_b.run_id,
        )
        directory = self.endpoint.cassette_dir
        cassette = pairwise_cassette_path(directory, ctx_a, ctx_b, self.rubric.name) if directory else None
        first, second = _candidate(ctx_a), _candidate(ctx_b)
        user_input = run_a.input or ctx_a.case.user_message
        prompts = []
        for shown_a, shown_b in ((first, second), (second, first)):
            rendering = render_context(
                self.version, ctx_a.case, user_input, {"a": shown_a, "b": shown_b}, pairwise=True
            )
            prompts.append(build_prompt(self.rubric, rendering.context, rendering.nonce, PAIRWISE_SCHEMA_NAME))
        try:
            # One cassette per pair holds both orders (their requests differ, so each matches its own recording).
            outcomes = await judge_samples(
                self.rubric, prompts, self.endpoint, cassette, f"{run_a.run_id} vs {run_b.run_id}"
            )
        except JudgeError as exc:
            return result.model_copy(update={"error": str(exc)})
        orders = [_order_verdict(self.rubric, o, order) for o, order in zip(outcomes, _ORDERS, strict=True)]
        failed = [o for o, v in zip(outcomes, orders, strict=True) if v.winner is None]
        if failed:
            error = next((s.error for s in failed[0].samples if s.error), "no verdict")
            return result.model_copy(update={"orders": orders, "error": error})
        consistent = orders[0].winner == orders[1].winner
        winner: Winner = orders[0].winner if consistent and orders[0].winner else "tie"
        return result.model_copy(update={"orders": orders, "winner": winner, "consistent": consistent})


def _candidate(ctx: ScoreContext) -> Candidate:
    return Candidate(output=ctx.output_text, tool_calls=summarize_tool_calls(ctx.tool_calls))


def _order_verdict(rubric: Rubric, outcome: JudgeOutcome, order: Literal["ab", "ba"]) -> OrderVerdict:
    verdicts = [s.verdict for s in outcome.samples if s.verdict is not None]
    tokens = {"input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens}
    if not verdicts:
        return OrderVerdict(order=order, **tokens)
    combined = aggregate(verdicts, rubric)
    label = combined.label
    reasoning = next(v.reasoning for v in verdicts if v.label == label)
    return OrderVerdict(
        order=order,
        label=label,
        winner=_BACK[order][label or "tie"],
        agreement=combined.agreement,
        reasoning=reasoning,
        **tokens,
    )


def summarize_pairs(results: list[PairwiseResult]) -> PairwiseSummary:
    """Wins, ties, win rate of ``b`` with a 95% Wilson interval, and position consistency over many pairs."""
    judged = [r for r in results if r.error is None]
    wins_a = sum(r.winner == "a" for r in judged)
    wins_b = sum(r.winner == "b" for r in judged)
    ties = sum(r.winner == "tie" for r in judged)
    decided = wins_a + wins_b
    low, high = wilson_interval(wins_b, decided)
    return PairwiseSummary(
        pairs=len(results),
        wins_a=wins_a,
        wins_b=wins_b,
        ties=ties,
        inconsistent=sum(not r.consistent for r in judged),
        errors=len(results) - len(judged),
        position_consistency=sum(r.consistent for r in judged) / len(judged) if judged else None,
        win_rate_b=wins_b / decided if decided else None,
        ci_low=low,
        ci_high=high,
        win_rate_with_ties=(wins_b + ties / 2) / len(judged) if judged else None,
    )


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95% by default): unlike the normal approximation it stays inside
    [0, 1] and behaves with few trials or a proportion near 0 or 1, which is where judge comparisons often are."""
    if trials == 0:
        return None, None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At p = 0 or 1 one end is exactly 0 or 1; floating point would leave 0.9999999999999999.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high
