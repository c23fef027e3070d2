"""Judges: what ``agenteval judge calibrate`` calls (calibration against gold or human labels).

Two sources of verdicts: a judge's recorded verdicts (:func:`calibrate_recorded`), or a pairwise rubric judged now
on labelled pairs (:func:`calibrate_live`), live, or from the cassettes of an earlier run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.models.calibration import CalibrationReport
from harness.scorers.calibration import calibrate_recorded_file

MAX_FAILURES_SHOWN = 5
"""Judge failures quoted in the report's notes (a judge that is down fails every pair the same way)."""
SCRIPTED_NOTE = (
    "The judge was the scripted model server (no --base-url): its pairwise rules prefer a response only for the "
    "support shop's policy breaches and answer tie otherwise, so on general pairs these figures measure that "
    "scripted judge, not an LLM. Give --base-url (or AGENTEVAL_BASE_URL) to calibrate a real judge."
)


def calibrate_recorded(
    path: str | Path, format: str | None = None, labels: str | Path | None = None
) -> CalibrationReport:
    """Measure a pairwise judge from its recorded verdicts: accuracy, kappa, positional agreement, parse failures.

    Args:
        path: An LLMBar ``result.json`` (both orders, gold labels inside) or a PandaLM verdicts file.
        format: ``llmbar`` or ``pandalm``; ``None`` detects it from the file.
        labels: PandaLM only: the annotators' labels file (default ``testset-v1.json`` next to ``path``).

    Returns:
        The report; for LLMBar it also carries the authors' ``statistics.json`` figures, recomputed.

    Raises:
        CalibrationError: A file is missing or of the wrong shape, the format is unknown, or verdicts lack labels.
    """
    return calibrate_recorded_file(Path(path), format, Path(labels) if labels is not None else None)


def calibrate_live(
    rubric: str | Path,
    pairs: str | Path,
    *,
    format: str | None = None,
    labels: str | Path | None = None,
    limit: int | None = None,
    base_url: str | None = None,
    scenario: str | None = None,
    record_mode: str | None = None,
    concurrency: int = 8,
) -> CalibrationReport:
    """Measure a pairwise rubric's judge on labelled pairs: each pair judged now, in both orders.

    Each pair becomes two synthetic runs of one case (dataset ``calibration/<folder>/<file stem>``, variants
    ``output_1`` and ``output_2``), judged like ``agenteval judge pairwise`` judges two variants; the first order's
    verdict is ``verdict``, the second's (mapped back) ``swapped_verdict``, and a judge failure is a parse failure.
    The report is the recorded path's (:func:`~harness.scorers.calibration.calibrate`).

    Args:
        rubric: A pairwise rubric file, or the name of one under the project's ``rubrics/``.
        pairs: An LLMBar ``dataset.json`` or a PandaLM ``testset-v1.json``.
        format: ``llmbar`` or ``pandalm``; ``None`` detects it from the file.
        labels: PandaLM only: a labels file instead of the pairs file's own annotators.
        limit: Judge only the first ``limit`` pairs.
        base_url: Judge endpoint (default: the settings'; none means the scripted server in-process).
        scenario: Scenario of the in-process scripted server (default: the settings').
        record_mode: Judge cassettes (under the project's ``cassettes/``): ``replay`` (offline, network blocked),
            ``record``, ``rerecord`` or ``off``. Default: the settings' mode with an endpoint, ``off`` without.
        concurrency: Pairs judged at once.

    Raises:
        ConfigError: The rubric is not pairwise, or the record mode is unknown.
        FileFormatError: The rubric cannot be found or is broken.
        CalibrationError: The pairs or labels file is missing or of the wrong shape.
    """
    from harness.api._judging import judge_endpoint, judge_pairs, resolve_rubric, serving_judges, with_judge_client
    from harness.config import load_settings
    from harness.scorers.calibration import calibrate, judged_item, pair_contexts, pairs_dataset, read_pairs
    from harness.scorers.judges import PairwiseJudge

    settings = load_settings(overrides={"base_url": base_url, "scenario": scenario})
    chosen = resolve_rubric(rubric, settings, "pairwise")
    path = Path(pairs)
    read, chosen_format, labels_path = read_pairs(path, format, Path(labels) if labels is not None else None)
    items = read[:limit] if limit is not None else read
    dataset = pairs_dataset(path)
    contexts = [pair_contexts(pair, dataset, position) for position, pair in enumerate(items)]
    endpoint = judge_endpoint(settings, record_mode)
    judge = PairwiseJudge(chosen, endpoint)
    with serving_judges(settings, endpoint) as where:
        results = asyncio.run(with_judge_client(endpoint, judge_pairs(judge, contexts, concurrency)))
    notes = []
    if len(items) < len(read):
        notes.append(f"Judged the first {len(items)} of the {len(read)} pairs in {path} (--limit).")
    failed = [result for result in results if result.error is not None]
    if failed:
        shown = [f"case {result.case_id}: {result.error}" for result in failed[:MAX_FAILURES_SHOWN]]
        more = len(failed) - len(shown)
        notes.append(
            f"{len(failed)} pair(s) got no verdict in one or both orders (counted as parse failures): "
            + " | ".join(shown)
            + (f" | and {more} more" if more else "")
        )
    if where.startswith("scripted server"):
        notes.append(SCRIPTED_NOTE)
    return calibrate(
        [judged_item(pair, result) for pair, result in zip(items, results, strict=True)],
        source=str(path),
        format=chosen_format,
        judge=f"{judge.version} via {where}",
        labels_source=str(labels_path) if labels_path is not None else None,
        notes=notes,
    )
