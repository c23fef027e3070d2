"""Recorded verdicts files -> a calibration report: pick the reader by format (or by the file's shape)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from harness.models.calibration import CalibrationReport
from harness.scorers.calibration._core import calibrate
from harness.scorers.calibration._files import read_json_list
from harness.scorers.calibration._llmbar import llmbar_statistics, read_llmbar
from harness.scorers.calibration._pandalm import RESULT_FIELDS, read_pandalm
from harness.scorers.calibration.errors import CalibrationError

RecordedFormat = Literal["llmbar", "pandalm"]
FORMATS: tuple[RecordedFormat, ...] = ("llmbar", "pandalm")


def calibrate_recorded_file(path: Path, format: str | None = None, labels: Path | None = None) -> CalibrationReport:
    """Calibrate a judge from its recorded verdicts.

    Args:
        path: An LLMBar ``result.json`` or a PandaLM verdicts file.
        format: ``llmbar`` or ``pandalm``; ``None`` detects it from the first item's fields.
        labels: PandaLM only: the annotators' file (default ``testset-v1.json`` next to ``path``).

    Raises:
        CalibrationError: Unknown format, ``labels`` given for LLMBar, or a file that cannot be read as the format.
    """
    chosen = detect_format(path) if format is None else format
    if chosen == "llmbar":
        if labels is not None:
            raise CalibrationError(
                "--labels is for PandaLM verdicts.",
                [f"{labels}: LLMBar's result.json carries its own gold labels; leave out --labels."],
            )
        items, judge = read_llmbar(path)
        return calibrate(
            items, source=str(path), format="llmbar", judge=judge, llmbar_statistics=llmbar_statistics(items)
        )
    if chosen == "pandalm":
        items, judge, labels_path, notes = read_pandalm(path, labels)
        return calibrate(
            items, source=str(path), format="pandalm", judge=judge, labels_source=str(labels_path), notes=notes
        )
    raise CalibrationError(
        f"Unknown verdicts format {format!r}.", [f"{path}: give --format {' or --format '.join(FORMATS)}."]
    )


def detect_format(path: Path) -> RecordedFormat:
    """``llmbar`` when the first item has ``results``; ``pandalm`` when it has a verdict field such as ``gpt_result``.

    Raises:
        CalibrationError: The file cannot be read, or its first item has neither.
    """
    first = read_json_list(path, "recorded verdicts")[0]
    if isinstance(first, dict) and "results" in first:
        return "llmbar"
    if isinstance(first, dict) and any(field in first for field in RESULT_FIELDS):
        return "pandalm"
    raise CalibrationError(
        f"Cannot tell the format of {path}.",
        [
            f"{path}: item 0 has neither results (LLMBar result.json) nor {', '.join(RESULT_FIELDS)} (PandaLM "
            "verdicts); give --format llmbar or --format pandalm, with a file of that format."
        ],
    )
