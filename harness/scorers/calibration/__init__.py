"""Judge calibration: how well a pairwise LLM judge agrees with gold or human labels.

Readers turn recorded verdicts (LLMBar ``result.json``, PandaLM verdicts with their annotators' labels) into
:class:`~harness.models.calibration.JudgedItem` records; :func:`calibrate` turns any such items into a
:class:`~harness.models.calibration.CalibrationReport`: accuracy, Cohen's kappa, positional agreement, ties, parse
failures and, for LLMBar, the authors' own ``statistics.json`` figures recomputed exactly.
"""

from harness.scorers.calibration._core import UNPARSED, calibrate
from harness.scorers.calibration._llmbar import llmbar_statistics, read_llmbar
from harness.scorers.calibration._pandalm import read_pandalm
from harness.scorers.calibration._recorded import FORMATS, RecordedFormat, calibrate_recorded_file, detect_format
from harness.scorers.calibration._stats import cohen_kappa, majority
from harness.scorers.calibration.errors import CalibrationError

__all__ = [
    "FORMATS",
    "UNPARSED",
    "CalibrationError",
    "RecordedFormat",
    "calibrate",
    "calibrate_recorded_file",
    "cohen_kappa",
    "detect_format",
    "llmbar_statistics",
    "majority",
    "read_llmbar",
    "read_pandalm",
]
