"""Pairwise judging of two variants of a stored eval run: what ``agenteval judge pairwise`` calls.

The runs of the two variants are paired by (dataset, case, epoch) and each pair is judged in both orders with a
pairwise rubric (:class:`~harness.scorers.judges.PairwiseJudge`). The judge is the configured endpoint, or, when
there is none, the scripted model server in-process (its bundled scenarios judge the support rubrics offline).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.api._judging import judge_endpoint, judge_pairs, resolve_rubric, serving_judges, with_judge_client
from harness.config import load_settings
from harness.errors import ConfigError
from harness.models import Record
from harness.scorers import ScoreContext
from harness.scorers.judges import (
    PairwiseJudge,
    PairwiseResult,
    PairwiseSummary,
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
    from harness.api._score import cases_of
    from harness.traces import TraceStore

    settings = load_settings(
        overrides={
            "db": None if db is None else Path(db).expanduser().resolve(),
            "base_url": base_url,
            "scenario": scenario,
        }
    )
    chosen = resolve_rubric(rubric, settings, "pairwise")
    if len(variants) != 2 or variants[0] == variants[1]:
        raise ConfigError(f"Give two different variants to compare, e.g. --variants v1,v2 (got {','.join(variants)}).")
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    record.check_variants(variants)
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
    endpoint = judge_endpoint(settings, record_mode)
    mode = endpoint.record_mode
    with serving_judges(settings, endpoint) as where:
        work = judge_pairs(PairwiseJudge(chosen, endpoint), pairs, concurrency)
        results = asyncio.run(with_judge_client(endpoint, work))
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
