"""Scoring stored runs: right after ``agenteval run``, and again at any time with ``agenteval score``.

Scores come from the trace store alone (runs and spans) and the cases of the eval run's datasets, so an eval run can
be re-scored with new or changed scorers without running the agent again. New scores are new rows; old ones stay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.api._judging import judge_endpoint, resolve_rubric, serving_judges, with_judge_client
from harness.config import Settings, load_settings
from harness.errors import ConfigError
from harness.models.cases import Case
from harness.models.evals import EvalRunRecord
from harness.models.scores import ScoringSummary, tally
from harness.scorers import (
    BUILTIN_SCORERS,
    ScoreContext,
    Scorer,
    builtin_scorers_for,
    new_scoring_id,
    resolve_scorers,
    score_runs,
)
from harness.traces import TraceStore

if TYPE_CHECKING:  # judges (jinja2 templates) load only when a rubric is used
    from harness.scorers.judges import JudgeEndpoint, RubricJudge

MAX_FAILURES_SHOWN = 200


def cases_of(record: EvalRunRecord, root: Path) -> tuple[dict[tuple[str, str], Case], list[str]]:
    """The cases of an eval run's datasets by (dataset name, case id), and notes on datasets changed since."""
    from harness.datasets import DatasetError, load_dataset

    cases: dict[tuple[str, str], Case] = {}
    notes: list[str] = []
    for ref in record.datasets:
        path = Path(ref.path) if Path(ref.path).is_absolute() else root / ref.path
        try:
            loaded = load_dataset(path, root=root / "datasets")
        except DatasetError as exc:
            notes.append(f"dataset {ref.name} ({ref.path}) cannot be read now, its runs are not scored: {exc.summary}")
            continue
        if loaded.sha256 != ref.sha256:
            notes.append(
                f"dataset {ref.name} changed since the eval run ({ref.path}): its runs are scored against the "
                "current expectations"
            )
        for case in loaded.dataset.cases:
            cases[(ref.name, case.id)] = case
    return cases, notes


async def score_stored(
    store: TraceStore,
    record: EvalRunRecord,
    cases: dict[tuple[str, str], Case],
    *,
    prices: dict[str, tuple[float, float]],
    scorers: Sequence[Scorer] | None = None,
    extra_scorers: Sequence[Scorer] = (),
    only_unscored: bool = False,
    scoring_id: str | None = None,
    notes: Sequence[str] = (),
    on_scored: Callable[[int], None] | None = None,
) -> ScoringSummary:
    """Score the stored runs of an eval run and write the rows.

    Args:
        store: The trace store holding the eval run.
        record: The eval run.
        cases: Its cases by (dataset, case id).
        prices: For cost limits.
        scorers: Only these scorers, on every run (``None``: every scorer each case asks for).
        extra_scorers: Scorers added to each case's own (e.g. judges of its rubrics); they decide if they apply.
        only_unscored: Skip runs that already have score rows (after a resumed run).
        scoring_id: Id of the pass (new when None).
        notes: Notes carried into the summary.
        on_scored: Progress callback (rows written so far).
    """
    scoring_id = scoring_id or new_scoring_id()
    notes = list(notes)
    # Load only what scoring needs: no expectation, no trace read (a 1,000-case run with nothing to check pays nothing).
    wanted = {key for key, case in cases.items() if scorers is not None or builtin_scorers_for(case) or extra_scorers}
    scored_before = (
        {s.run_id for s in store.get_scores(eval_run_id=record.eval_run_id)} if only_unscored and wanted else set()
    )
    contexts: list[ScoreContext] = []
    missing = 0
    if wanted:
        for trace in store.eval_run_traces(record.eval_run_id):
            run = trace.run
            if run.status == "started" or run.run_id in scored_before:
                continue
            case = cases.get((run.dataset or "", run.case_id or ""))
            if case is None:
                missing += 1
                continue
            if (run.dataset or "", case.id) in wanted:
                contexts.append(ScoreContext(trace=trace, case=case, prices=prices))
    if missing:
        notes.append(f"{missing} run(s) not scored: their case is no longer in the dataset")
    if scorers is not None:
        rows = await score_runs(contexts, scorers, scoring_id=scoring_id, every_case=True, on_scored=on_scored)
    else:
        # Each scorer decides which cases it applies to, so one pass runs the judges of every case concurrently.
        everything = [*BUILTIN_SCORERS.values(), *extra_scorers]
        rows = await score_runs(contexts, everything, scoring_id=scoring_id, on_scored=on_scored)
    store.write_scores(rows)
    failures = [r for r in rows if r.passed is False or r.is_error][:MAX_FAILURES_SHOWN]
    return ScoringSummary(
        eval_run_id=record.eval_run_id,
        scoring_id=scoring_id,
        runs=len({r.run_id for r in rows}),
        rows=len(rows),
        errors=sum(r.is_error for r in rows),
        tallies=tally(rows),
        notes=notes,
        failures=failures,
    )


def score_eval_run(
    eval_run_id: str,
    *,
    scorers: list[str] | None = None,
    rubrics: list[str] | None = None,
    db: str | Path | None = None,
    base_url: str | None = None,
    record_mode: str | None = None,
    on_scored: Callable[[int], None] | None = None,
) -> ScoringSummary:
    """Re-score a stored eval run without running the agent: ``agenteval score EVAL_RUN_ID``.

    Args:
        eval_run_id: The eval run (or a unique prefix of its id).
        scorers: Built-in scorer names or ``module:attribute``; with ``rubrics``, only these (and the rubrics) run.
            Neither: every scorer and rubric each case asks for.
        rubrics: Pointwise rubric files or names (under ``rubrics/``) judged on every run.
        db: The trace store (default: the project's).
        base_url: The judge's endpoint (default: the settings', else the scripted server in-process).
        record_mode: Judge cassettes: replay, record, rerecord or off (default: off against the scripted server,
            else the settings' mode).
        on_scored: Progress callback.

    Raises:
        ConfigError: An unknown scorer or rubric.
        TraceStoreError: No such eval run.
    """
    settings = load_settings(
        overrides={"db": None if db is None else Path(db).expanduser().resolve(), "base_url": base_url}
    )
    chosen = resolve_scorers(scorers) if scorers else None
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    cases, notes = cases_of(record, settings.root)
    if not cases:
        raise ConfigError(
            f"None of the datasets of eval run {record.eval_run_id} can be read now "
            f"({', '.join(d.path for d in record.datasets)}); run `agenteval score` from the project it ran in."
        )
    explicit = [rubric_judge(r, settings) for r in rubrics or []]
    named = sorted({name for case in cases.values() for name in case.rubrics})
    by_case = [] if (chosen is not None or explicit) else [find_judge(name, settings) for name in named]
    judges = [*explicit, *by_case]
    if explicit:
        chosen = [*(chosen or []), *explicit]
    if not judges:
        return asyncio.run(
            score_stored(
                store, record, cases, prices=dict(settings.prices), scorers=chosen, notes=notes, on_scored=on_scored
            )
        )
    endpoint = judge_endpoint(settings, record_mode)
    for judge in judges:
        judge.endpoint = endpoint
    with serving_judges(settings, endpoint):
        return asyncio.run(
            with_judge_client(
                endpoint,
                score_stored(
                    store,
                    record,
                    cases,
                    prices=dict(settings.prices),
                    scorers=chosen,
                    extra_scorers=by_case,
                    notes=notes,
                    on_scored=on_scored,
                ),
            )
        )


def rubric_judge(rubric: str, settings: Settings) -> RubricJudge:
    """A judge for a pointwise rubric given as a file or as a name under ``rubrics/``."""
    from harness.scorers.judges import RubricJudge

    return RubricJudge(resolve_rubric(rubric, settings, "pointwise"))


def find_judge(name: str, settings: Settings) -> RubricJudge:
    """The judge of a rubric a case names (``rubrics: [name]``)."""
    from harness.scorers.judges import RubricJudge, find_rubric

    return RubricJudge(find_rubric(name, settings.root / "rubrics"))


def judges_for_cases(
    cases: Iterable[Case], settings: Settings, base_url: str | None
) -> tuple[list[RubricJudge], JudgeEndpoint | None]:
    """Judges of every rubric the cases name, sharing one endpoint at ``base_url`` under the settings' record mode
    (``agenteval run`` scores with the endpoint and cassettes it ran with)."""
    names = sorted({name for case in cases for name in case.rubrics})
    if not names:
        return [], None
    endpoint = judge_endpoint(settings, base_url=base_url, during_run=True)
    judges = [find_judge(name, settings) for name in names]
    for judge in judges:
        judge.endpoint = endpoint
    return judges, endpoint
