"""Judge calibration: how well a pairwise LLM judge agrees with gold or human labels.

Readers turn recorded verdicts (LLMBar ``result.json``, PandaLM verdicts with their annotators' labels) into
:class:`~harness.models.calibration.JudgedItem` records; :func:`calibrate` turns any such items into a
:class:`~harness.models.calibration.CalibrationReport`: accuracy, Cohen's kappa, positional agreement, ties, parse
failures and, for LLMBar, the authors' own ``statistics.json`` figures recomputed exactly. A live calibration reads
labelled pairs (:func:`read_pairs`: LLMBar ``dataset.json``, PandaLM ``testset-v1.json``), judges each as two runs
of one case (:func:`pair_contexts`) and turns each pairwise result into an item (:func:`judged_item`).
"""

from harness.scorers.calibration._core import UNPARSED, calibrate
from harness.scorers.calibration._live import judged_item, pair_contexts, pairs_dataset
from harness.scorers.calibration._llmbar import llmbar_statistics, read_llmbar
from harness.scorers.calibration._pairs import LabelledPair, PairsFormat, detect_pairs_format, read_pairs
from harness.scorers.calibration._pandalm import read_pandalm
from harness.scorers.calibration._recorded import FORMATS, RecordedFormat, calibrate_recorded_file, detect_format
from harness.scorers.calibration._stats import cohen_kappa, majority
from harness.scorers.calibration.errors import CalibrationError

__all__ = [
    "FORMATS",
    "UNPARSED",
    "CalibrationError",
    "LabelledPair",
    "PairsFormat",
    "RecordedFormat",
    "calibrate",
    "calibrate_recorded_file",
    "cohen_kappa",
    "detect_format",
    "detect_pairs_format",
    "judged_item",
    "llmbar_statistics",
    "majority",
    "pair_contexts",
    "pairs_dataset",
    "read_llmbar",
    "read_pairs",
    "read_pandalm",
]
