"""The scoring engine: every applicable scorer on every run; a scorer that raises becomes an error row.

Deterministic scorers are cheap and run inline; async scorers (LLM judges) run concurrently, bounded, across runs.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
import uuid
from collections.abc import Callable, Sequence

from harness.models.scores import ScoreRecord, ScoreResult
from harness.scorers._protocol import ScoreContext, Scorer


def new_scoring_id() -> str:
    """A fresh id for one scoring pass."""
    return "sc-" + uuid.uuid4().hex[:12]


async def score_runs(
    contexts: Sequence[ScoreContext],
    scorers: Sequence[Scorer],
    *,
    scoring_id: str,
    every_case: bool = False,
    concurrency: int = 8,
    on_scored: Callable[[int], None] | None = None,
) -> list[ScoreRecord]:
    """Score each run with each scorer that applies to its case.

    Args:
        contexts: The stored runs with their cases.
        scorers: Candidate scorers; each scores the runs whose case it applies to.
        scoring_id: Id of this pass, written on every row.
        every_case: Score every run with every scorer, applicable or not (an explicit ``--scorer``
            that the case does not ask for then reports what it finds, e.g. a missing expectation).
        concurrency: Async scorers (judges) running at once.
        on_scored: Called with the number of rows written so far (progress).

    Returns:
        One row per (run, scorer), in input order.
    """
    gate = asyncio.Semaphore(concurrency)
    rows: list[ScoreRecord | None] = []
    pending: list[asyncio.Task[None]] = []
    done = 0

    def finished(index: int, row: ScoreRecord) -> None:
        nonlocal done
        rows[index] = row
        done += 1
        if on_scored is not None:
            on_scored(done)

    async def await_result(index: int, ctx: ScoreContext, scorer: Scorer, awaitable: object) -> None:
        async with gate:
            try:
                result = await awaitable  # type: ignore[misc]
                finished(index, _row(ctx, scorer, scoring_id, result))
            except Exception as exc:
                finished(index, _error_row(ctx, scorer, scoring_id, exc))

    for ctx in contexts:
        for scorer in scorers:
            if not every_case and not scorer.applies_to(ctx.case):
                continue
            index = len(rows)
            rows.append(None)
            try:
                outcome = scorer.score(ctx)
            except Exception as exc:
                finished(index, _error_row(ctx, scorer, scoring_id, exc))
                continue
            if inspect.isawaitable(outcome):
                pending.append(asyncio.ensure_future(await_result(index, ctx, scorer, outcome)))
            else:
                try:
                    finished(index, _row(ctx, scorer, scoring_id, outcome))
                except Exception as exc:
                    finished(index, _error_row(ctx, scorer, scoring_id, exc))
    if pending:
        await asyncio.gather(*pending)
    return [row for row in rows if row is not None]


def _keys(ctx: ScoreContext, scorer: Scorer, scoring_id: str) -> dict[str, object]:
    run = ctx.run
    return {
        "score_id": uuid.uuid4().hex,
        "scoring_id": scoring_id,
        "run_id": run.run_id,
        "eval_run_id": run.eval_run_id,
        "dataset": run.dataset,
        "case_id": run.case_id,
        "variant": run.variant,
        "epoch": run.epoch,
        "scorer": scorer.name,
        "version": str(scorer.version),
        "source": scorer.source,
        "created_ns": time.time_ns(),
    }


def _row(ctx: ScoreContext, scorer: Scorer, scoring_id: str, result: object) -> ScoreRecord:
    if not isinstance(result, ScoreResult):
        raise TypeError(f"scorer {scorer.name!r} returned {type(result).__name__}, not a ScoreResult")
    return ScoreRecord(
        **_keys(ctx, scorer, scoring_id),
        passed=result.passed,
        value=result.value,
        label=result.label,
        explanation=result.explanation,
        metadata=result.metadata,
    )


def _error_row(ctx: ScoreContext, scorer: Scorer, scoring_id: str, exc: BaseException) -> ScoreRecord:
    return ScoreRecord(
        **_keys(ctx, scorer, scoring_id),
        explanation=f"scorer error: {type(exc).__name__}: {exc}",
        error_type=type(exc).__name__,
        error_message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        # A judge error carries what it saw (samples, tokens, spans): keep it for debugging the judge.
        metadata=metadata if isinstance(metadata := getattr(exc, "metadata", None), dict) else {},
    )
