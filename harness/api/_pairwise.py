"""Pairwise judging of two variants of a stored eval run: what ``agenteval judge pairwise`` calls.

The runs of the two variants are paired by (dataset, case, epoch) and each pair is judged in both orders with a
pairwise rubric (:class:`~harness.scorers.judges.PairwiseJudge`). The judge is the configured endpoint, or, when
there is none, the scripted model server in-process (its bundled scenarios judge the support rubrics offline).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.api._judging import judge_mode, serving_judges
from harness.config import Settings, load_settings
from harness.errors import ConfigError
from harness.models import Record
from harness.scorers import ScoreContext
from harness.scorers.judges import (
    JudgeEndpoint,
    PairwiseJudge,
    PairwiseResult,
    PairwiseSummary,
    Rubric,
    find_rubric,
    load_rubric,
    summarize_pairs,
)


class PairwiseReport(Record):
    """Two variants of one eval run compared case by case, with the aggregate."""

    eval_run_id: str
    """The eval run."""
    variant_a: str
    """First variant (``a``; shown as response A in the first order)."""
    variant_b: str
    """Second variant (``b``): the win rate is ``b``'s over ``a``."""
    rubric: str
    """``name@version`` of the pairwise rubric."""
    judge: str
    """Where the verdicts came from: the endpoint, or the in-process scripted server and its scenario."""
    record_mode: str
    """Cassette mode of the judge calls."""
    results: list[PairwiseResult]
    """One per (dataset, case, epoch) both variants ran."""
    summary: PairwiseSummary
    """Wins, ties, win rate of ``b`` with its 95% Wilson interval, position consistency."""
    unpaired: int = 0
    """Runs of either variant without a finished partner (not judged)."""
    notes: list[str] = []
    """Datasets that changed since the eval run, and the like."""


def judge_pairwise(
    eval_run_id: str,
    *,
    variants: list[str],
    rubric: str | Path,
    db: str | Path | None = None,
    base_url: str | None = None,
    scenario: str | None = None,
    record_mode: str | None = None,
    concurrency: int = 8,
) -> PairwiseReport:
    """Compare two variants of a stored eval run with a pairwise rubric, both orders per pair.

    Args:
        eval_run_id: The eval run (or a unique prefix of its id).
        variants: The two variants, ``[a, b]``.
        rubric: A rubric file, or the name of one under the project's ``rubrics/``.
        db: The trace store (default: the project's).
        base_url: Judge endpoint (default: the settings'; none means the in-process scripted server).
        scenario: Scenario of the in-process scripted server (default: the settings').
        record_mode: Judge cassettes: ``replay``, ``record``, ``rerecord`` or ``off``. Default: the settings' mode
            with a configured endpoint; ``off`` with the in-process scripted server (local and deterministic), which
            also records when asked to.
        concurrency: Pairs judged at once.

    Raises:
        ConfigError: not two distinct variants of the eval run, or a rubric that is not pairwise.
        FileFormatError: the rubric cannot be found or is broken.
        TraceStoreError: no such eval run.
    """
    from harness.api._run import _cassette_dir
    from harness.api._score import cases_of
    from harness.traces import TraceStore

    settings = load_settings(
        overrides={
            "db": None if db is None else Path(db).expanduser().resolve(),
            "base_url": base_url,
            "scenario": scenario,
        }
    )
    chosen = _rubric(rubric, settings)
    if len(variants) != 2 or variants[0] == variants[1]:
        raise ConfigError(f"Give two different variants to compare, e.g. --variants v1,v2 (got {','.join(variants)}).")
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    ran = [v.name for v in record.variants]
    unknown = [v for v in variants if v not in ran]
    if unknown:
        raise ConfigError(
            f"Eval run {record.eval_run_id} has no variant {', '.join(unknown)}; it ran {', '.join(ran)}."
        )
    cases, notes = cases_of(record, settings.root)
    runs: dict[tuple[str, str, int], dict[str, ScoreContext]] = {}
    for trace in store.eval_run_traces(record.eval_run_id):
        run = trace.run
        case = cases.get((run.dataset or "", run.case_id or ""))
        if run.variant not in variants or run.status == "started" or case is None:
            continue
        key = (run.dataset or "", case.id, run.epoch or 1)
        runs.setdefault(key, {})[run.variant] = ScoreContext(trace=trace, case=case, prices=dict(settings.prices))
    pairs = [(by[variants[0]], by[variants[1]]) for _, by in sorted(runs.items()) if len(by) == 2]
    unpaired = sum(len(by) for by in runs.values() if len(by) == 1)
    # Without an endpoint the judge is the scripted server, local and deterministic: nothing needs recording unless
    # asked. With one, judge calls follow the project's record mode (replay by default: offline, from cassettes).
    default = "off" if settings.base_url is None else settings.record_mode
    mode = judge_mode(record_mode or default)
    scripted = settings.base_url is None and mode != "replay"
    endpoint = JudgeEndpoint(
        base_url=settings.base_url,
        cassette_dir=_cassette_dir(settings),
        record_mode=mode,
        replay_ignore=tuple(settings.replay_ignore),
    )
    with serving_judges(settings, endpoint, scripted) as where:
        results = asyncio.run(_judge_all(PairwiseJudge(chosen, endpoint), pairs, concurrency))
    return PairwiseReport(
        eval_run_id=record.eval_run_id,
        variant_a=variants[0],
        variant_b=variants[1],
        rubric=f"{chosen.name}@{chosen.version}",
        judge=where,
        record_mode=mode,
        results=results,
        summary=summarize_pairs(results),
        unpaired=unpaired,
        notes=notes,
    )


def _rubric(rubric: str | Path, settings: Settings) -> Rubric:
    path = Path(rubric)
    if path.suffix == ".md" or path.exists():
        chosen = load_rubric(path if path.is_absolute() or path.exists() else settings.root / path)
    else:
        chosen = find_rubric(str(rubric), settings.root / "rubrics")
    if chosen.kind != "pairwise":
        raise ConfigError(
            f"{chosen.path}: rubric {chosen.name} is {chosen.kind}; pairwise judging needs one with 'kind: pairwise' "
            "(e.g. rubrics/support/pairwise-helpfulness.md)."
        )
    return chosen


async def _judge_all(
    judge: PairwiseJudge, pairs: list[tuple[ScoreContext, ScoreContext]], concurrency: int
) -> list[PairwiseResult]:
    from harness.agent._model import make_client

    gate = asyncio.Semaphore(max(1, concurrency))
    endpoint = judge.endpoint
    endpoint.client = make_client(endpoint.url, endpoint.api_key, endpoint.limits.model_timeout_s)

    async def one(a: ScoreContext, b: ScoreContext) -> PairwiseResult:
        async with gate:
            return await judge.judge(a, b)

    try:
        return list(await asyncio.gather(*(one(a, b) for a, b in pairs)))
    finally:
        await endpoint.client.close()
        endpoint.client = None
