"""Judge calibration: judged items in, one report out (``agenteval judge calibrate``).

A pairwise judge says which of two responses is better (``"1"``, ``"2"``) or that they are equally good (``"tie"``).
Every reader (recorded LLMBar or PandaLM verdicts, a live rubric) produces :class:`JudgedItem` records; the
calibration core turns them into a :class:`CalibrationReport`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.models._base import Record

Label = Literal["1", "2", "tie"]
"""Which response of a pair is better, in the pair's original order; ``tie`` when neither is."""


class JudgedItem(Record):
    """One pair of responses with its reference label(s) and the judge's verdict in one or both orders."""

    id: str
    """The item's id in its source file (LLMBar: position in the list; PandaLM: ``idx``)."""
    labels: tuple[Label, ...] = Field(min_length=1)
    """The reference: one gold label, or one label per human annotator (the gold is then their strict majority)."""
    verdict: Label | None
    """The judge's verdict with the pair in its original order; ``None`` when its answer could not be parsed."""
    judged_swapped: bool = False
    """Whether the judge also saw the pair in swapped order (response 2 shown first)."""
    swapped_verdict: Label | None = None
    """The verdict in swapped order, mapped back to original-order names (``"1"`` is still the first response);
    ``None`` when the swapped answer could not be parsed, or when ``judged_swapped`` is false."""

    @model_validator(mode="after")
    def _swapped_verdict_needs_a_swapped_run(self) -> JudgedItem:
        if self.swapped_verdict is not None and not self.judged_swapped:
            raise ValueError("swapped_verdict is set but judged_swapped is false")
        return self


class ConfusionMatrix(Record):
    """Counts of (reference, verdict) pairs, pooled over both orders when the judge saw both."""

    rows: list[str]
    """Gold labels that occur, sorted."""
    columns: list[str]
    """Gold labels and verdicts that occur, sorted; ``unparsed`` is the column of parse failures."""
    counts: list[list[int]]
    """``counts[i][j]``: verdicts ``columns[j]`` on items whose gold label is ``rows[i]``."""


class OrderFigures(Record):
    """Accuracy and kappa of the verdicts of one presentation order."""

    order: Literal["original", "swapped"]
    """Which order: the pair as given, or with the responses swapped."""
    accuracy: float | None
    """Share of verdicts equal to the gold label (parse failures are wrong); ``None`` without gold items."""
    kappa: float | None
    """Cohen's kappa of the verdicts against the gold label; ``None`` when undefined (see ``cohen_kappa``)."""


class TieFigures(Record):
    """How ties (``tie`` labels and verdicts) are distributed and what accuracy is without them."""

    gold_ties: int
    """Items whose gold label is ``tie``."""
    judge_ties: int
    """Verdicts ``tie`` (over both orders when the judge saw both)."""
    accuracy_without_gold_ties: float | None
    """Accuracy on the items whose gold label is not ``tie`` (a ``tie`` verdict there is wrong)."""


class PositionFigures(Record):
    """Positional consistency of a judge that saw each pair in both orders."""

    agreement: float
    """Share of items whose two verdicts agree (a parse failure in either order counts as disagreement)."""
    kappa: float | None
    """Cohen's kappa between the two orders' verdicts (parse failures as their own class)."""
    prefers_first: int
    """Inconsistent items where the judge picked whichever response was shown first, both times."""
    prefers_second: int
    """Inconsistent items where the judge picked whichever response was shown second, both times."""
    other_inconsistent: int
    """Inconsistent items of another kind (a tie in one order, or a parse failure)."""


class AnnotatorFigures(Record):
    """Agreement of one human annotator with the judge."""

    annotator: int
    """1-based position of the annotator in the labels."""
    accuracy: float
    """Share of verdicts equal to this annotator's label (parse failures are wrong)."""
    kappa: float | None
    """Cohen's kappa of the verdicts against this annotator's labels."""


class AnnotatorAgreement(Record):
    """The human annotators: how much they agree with each other and with the judge."""

    annotators: int
    """Number of annotators per item."""
    unanimous: int
    """Items on which every annotator gave the same label."""
    no_majority: int
    """Items without a strict majority label: they have no gold label and are left out of accuracy and kappa."""
    pairwise_kappa_mean: float | None
    """Mean Cohen's kappa over every pair of annotators (their agreement with each other, beyond chance)."""
    judge: list[AnnotatorFigures]
    """The judge against each annotator."""


class LLMBarStatistics(Record):
    """The LLMBar authors' ``statistics.json``, recomputed from ``result.json`` exactly as their script does it.

    Strings are formatted like theirs (``"92 / 100 = 92.0%"``, Python's float repr). Their kappas carry a quirk of
    ``LLMEvaluator/evaluate.py``: a verdict is mapped to an int only if it is ``"0"`` or ``"1"``, else to 0, so a
    verdict ``"2"`` (and an unparsed one) becomes 0 and is compared with gold labels 1 and 2. ``kappa_False`` and
    ``kappa_True`` are therefore not the judge's agreement with the gold label; the report's ``kappa`` is.
    """

    correct_False: str
    """Verdicts in the original order equal to the label: ``"k / n = p%"``."""
    correct_True: str
    """Verdicts in the swapped order equal to the label."""
    correct_average: str
    """Mean of both orders' accuracies: ``"p%"``."""
    correct_both: str
    """Items right in both orders."""
    equal: str
    """Items whose two verdicts are equal (two unparsed verdicts count as equal here)."""
    kappa_False: float
    """The authors' kappa (with the quirk) for the original order; NaN where scikit-learn gives NaN."""
    kappa_True: float
    """The authors' kappa (with the quirk) for the swapped order."""
    kappa_average: float
    """Mean of ``kappa_False`` and ``kappa_True``."""
    kappa_agreement: float
    """The authors' kappa between the two orders' mapped verdicts."""


class CalibrationReport(Record):
    """How well a pairwise judge agrees with gold or human labels."""

    source: str
    """The verdicts file (or another description of where the verdicts came from)."""
    format: str
    """How the verdicts were read: ``llmbar`` or ``pandalm`` for recorded verdicts."""
    judge: str | None = None
    """The judge's name, when the source tells it (LLMBar folder name, PandaLM field name)."""
    labels_source: str | None = None
    """The file the labels came from, when it is not the verdicts file."""
    n: int
    """Items judged."""
    scored: int
    """Items with a gold label (all but the ``no_majority`` ones): accuracy and kappa are over these."""
    verdicts: int
    """Verdicts on scored items: ``scored``, or twice that when the judge saw both orders."""
    accuracy: float | None
    """Share of verdicts equal to the gold label, over both orders; a parse failure is wrong, a ``tie`` is a class."""
    kappa: float | None
    """Cohen's kappa of the judge against the gold label: the mean of the orders' kappas; ``None`` if undefined."""
    positional_agreement: float | None
    """Share of items whose verdicts in both orders agree; ``None`` when the judge saw one order only."""
    parse_failures: int
    """Verdicts that could not be parsed (over all items and orders); each counts as a wrong verdict."""
    parse_failure_rate: float
    """``parse_failures`` over all verdicts."""
    no_majority: int = 0
    """Items left out because their annotators had no strict majority label."""
    by_order: list[OrderFigures]
    """Accuracy and kappa of each presentation order."""
    accuracy_both_orders: float | None = None
    """Share of items judged right in both orders; ``None`` when the judge saw one order only."""
    ties: TieFigures
    """Gold and judge ties, and accuracy on the items whose gold label is not a tie."""
    position: PositionFigures | None = None
    """Positional consistency details; ``None`` when the judge saw one order only."""
    confusion: ConfusionMatrix
    """Gold label (rows) against verdict (columns), pooled over orders."""
    annotators: AnnotatorAgreement | None = None
    """Agreement among several human annotators and of the judge with each; ``None`` with a single gold label."""
    llmbar_statistics: LLMBarStatistics | None = None
    """The LLMBar authors' ``statistics.json`` recomputed (LLMBar result files only)."""
    notes: list[str] = []
    """What the figures leave out or how they treat special cases, in words."""
