"""Judges: what ``agenteval judge`` calls (calibration against gold or human labels)."""

from __future__ import annotations

from pathlib import Path

from harness.models.calibration import CalibrationReport
from harness.scorers.calibration import calibrate_recorded_file


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
