"""Variants side by side: what ``agenteval compare`` calls.

Runs the variants on the same cases (or reuses a stored eval run that has them), then builds the comparison from the
trace store: the case × variant matrix, per-variant aggregates, exact McNemar per pair of variants and, with a
pairwise rubric, the pairwise judge's win rate (:func:`harness.api._pairwise.judge_pairwise`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import Settings
from harness.errors import ConfigError
from harness.models.comparisons import Comparison, JudgeSummary
from harness.runner.execute import ProgressCallback

if TYPE_CHECKING:
    pass

DEFAULT_PAIRWISE_RUBRIC = {"support": "rubrics/support/pairwise-helpfulness.md"}
"""Per agent, the pairwise rubric used when none is given (when the file exists in the project)."""


def compare_variants(
    datasets: list[str] | None = None,
    *,
    variants: list[str],
    eval_run_id: str | None = None,
    rubric: str | Path | None = None,
    judge: bool = True,
    filters: list[str] | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    record_mode: str | None = None,
    db: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> Comparison:
    """Run ``variants`` on the same cases (or reuse ``eval_run_id``) and compare them side by side.

    Args:
        datasets: Datasets to run (default: the settings'); not with ``eval_run_id``.
        variants: Two or more variant names, in the order of the matrix columns.
        eval_run_id: A stored eval run (id or unique prefix) that ran the variants: nothing is run.
        rubric: A pairwise rubric (file or name under ``rubrics/``) for the judge's win rates. Default: the agent's
            bundled one (``rubrics/support/pairwise-helpfulness.md`` for the support agent) when it exists.
        judge: Whether to judge pairs at all (``False``: no win rates, no model calls after the run).
        filters: ``--filter`` expressions of the run; not with ``eval_run_id``.
        limit: Cases per dataset of the run; not with ``eval_run_id``.
        epochs: Epochs of the run; not with ``eval_run_id``.
        record_mode: Cassette mode of the run; not with ``eval_run_id``.
        db: The trace store (default: the project's).
        on_progress: Progress of the run.

    Raises:
        ConfigError: Fewer than two distinct variants, run options with ``eval_run_id``, a variant the eval run did
            not run, a rubric that is not pairwise.
        TraceStoreError: No such eval run.
    """
    from harness.api._pairwise import judge_pairwise
    from harness.api._report import _results, _settings
    from harness.api._run import run_evals
    from harness.reporting.compare import build_comparison
    from harness.traces import TraceStore

    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise ConfigError(
            f"Give two or more different variants to compare, e.g. --variants v1,v2 (got {','.join(variants)})."
        )
    if eval_run_id is not None:
        given = (datasets, filters, limit, epochs, record_mode)
        names = ("DATASET", "--filter", "--limit", "--epochs", "--record-mode")
        extra = [name for name, value in zip(names, given, strict=True) if value]
        if extra:
            raise ConfigError(
                f"--eval-run reuses a stored eval run as it was run; {', '.join(extra)} only apply when compare "
                "runs the variants itself. Drop them, or drop --eval-run to run the variants now."
            )
    else:
        summary = run_evals(
            datasets,
            variants=variants,
            epochs=epochs,
            filters=filters,
            limit=limit,
            record_mode=record_mode,
            db=db,
            on_progress=on_progress,
        )
        eval_run_id = summary.eval_run.eval_run_id
    settings = _settings(db)
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(eval_run_id)
    record.check_variants(variants, "Drop --eval-run to run them now.")
    cases, ops = _results(store, record.eval_run_id, settings)
    outputs = store.eval_run_outputs(record.eval_run_id)
    notes: list[str] = []
    chosen = _default_rubric(rubric, record.agent, settings) if judge else None
    judges: dict[tuple[str, str], JudgeSummary] = {}
    if not judge:
        notes.append("Judging off (--no-judge): no win rates.")
    elif chosen is None:
        notes.append("No pairwise rubric: no judge win rates (give one with --rubric).")
    else:
        for i, a in enumerate(variants):
            for b in variants[i + 1 :]:
                found = judge_pairwise(record.eval_run_id, variants=[a, b], rubric=chosen, db=db)
                s = found.summary
                judges[(a, b)] = JudgeSummary(
                    rubric=found.rubric,
                    judge=found.judge,
                    pairs=s.pairs,
                    wins_a=s.wins_a,
                    wins_b=s.wins_b,
                    ties=s.ties,
                    errors=s.errors,
                    win_rate_b=s.win_rate_b,
                    ci_low=s.ci_low,
                    ci_high=s.ci_high,
                    position_consistency=s.position_consistency,
                )
                notes += [n for n in found.notes if n not in notes]
    return build_comparison(
        record,
        variants,
        cases,
        ops,
        outputs=outputs,
        judges=judges,
        alpha=settings.gate.alpha,
        notes=notes,
    )


def _default_rubric(rubric: str | Path | None, agent: str, settings: Settings) -> str | Path | None:
    if rubric is not None:
        return rubric
    bundled = DEFAULT_PAIRWISE_RUBRIC.get(agent)
    return settings.root / bundled if bundled and (settings.root / bundled).exists() else None
