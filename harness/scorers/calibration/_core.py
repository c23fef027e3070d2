"""The calibration core: judged items (from any reader) -> one :class:`CalibrationReport`."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from harness.models.calibration import (
    AnnotatorAgreement,
    AnnotatorFigures,
    CalibrationReport,
    ConfusionMatrix,
    JudgedItem,
    Label,
    LLMBarStatistics,
    OrderFigures,
    PositionFigures,
    TieFigures,
)
from harness.scorers.calibration._stats import cohen_kappa, majority, mean, share

UNPARSED = "unparsed"
"""The class of a verdict that could not be parsed: in kappa and the confusion matrix it is a class of its own, one
that never equals a gold label, so a parse failure is always a disagreement and is never dropped."""


def calibrate(
    items: Sequence[JudgedItem],
    *,
    source: str,
    format: str,
    judge: str | None = None,
    labels_source: str | None = None,
    llmbar_statistics: LLMBarStatistics | None = None,
    notes: Sequence[str] = (),
) -> CalibrationReport:
    """Measure a pairwise judge against the items' gold labels.

    The gold label of an item is its only label, or the strict majority of its annotators' labels; items without a
    majority are left out of accuracy and kappa (counted in ``no_majority``). ``tie`` is a class like ``1`` and
    ``2``. A verdict that could not be parsed counts as wrong and as a class of its own in kappa. When the judge saw
    both orders, accuracy pools both orders' verdicts (the mean of the two orders' accuracies) and kappa is the mean
    of the two orders' kappas.

    Args:
        items: The judged items; all judged in both orders, or all in one.
        source: Where the verdicts came from (a file path).
        format: The reader's name (``llmbar``, ``pandalm``).
        judge: The judge's name, when known.
        labels_source: Where the labels came from, when not from ``source``.
        llmbar_statistics: The LLMBar authors' figures, for LLMBar sources.
        notes: The reader's notes on what it read, put before the core's own.

    Returns:
        The report.

    Raises:
        ValueError: Some items were judged in both orders and others in one, or items have different numbers of
            labels (a reader's bug, not a user's mistake).
    """
    if len({item.judged_swapped for item in items}) > 1:
        raise ValueError("calibrate: some items were judged in both orders, others in one")
    if len({len(item.labels) for item in items}) > 1:
        raise ValueError("calibrate: items have different numbers of labels")
    swapped = bool(items) and items[0].judged_swapped
    golds = [majority(item.labels) for item in items]
    scored = [(item, gold) for item, gold in zip(items, golds, strict=True) if gold is not None]
    orders: list[tuple[str, list[tuple[str, str]]]] = [
        ("original", [(gold, _name(item.verdict)) for item, gold in scored])
    ]
    if swapped:
        orders.append(("swapped", [(gold, _name(item.swapped_verdict)) for item, gold in scored]))
    pairs = [pair for _, order_pairs in orders for pair in order_pairs]
    by_order = [
        OrderFigures(
            order="original" if name == "original" else "swapped",
            accuracy=share(sum(gold == verdict for gold, verdict in order_pairs), len(order_pairs)),
            kappa=_kappa(order_pairs),
        )
        for name, order_pairs in orders
    ]
    verdicts = [item.verdict for item in items] + ([item.swapped_verdict for item in items] if swapped else [])
    parse_failures = sum(verdict is None for verdict in verdicts)
    non_tie = [(gold, verdict) for gold, verdict in pairs if gold != "tie"]
    position = _position(items) if swapped else None
    return CalibrationReport(
        source=source,
        format=format,
        judge=judge,
        labels_source=labels_source,
        n=len(items),
        scored=len(scored),
        verdicts=len(pairs),
        accuracy=share(sum(gold == verdict for gold, verdict in pairs), len(pairs)),
        kappa=mean([figures.kappa for figures in by_order]),
        positional_agreement=position.agreement if position else None,
        parse_failures=parse_failures,
        parse_failure_rate=share(parse_failures, len(verdicts)) or 0.0,
        no_majority=len(items) - len(scored),
        by_order=by_order,
        accuracy_both_orders=(
            share(sum(item.verdict == item.swapped_verdict == gold for item, gold in scored), len(scored))
            if swapped
            else None
        ),
        ties=TieFigures(
            gold_ties=sum(gold == "tie" for _, gold in scored),
            judge_ties=sum(verdict == "tie" for verdict in verdicts),
            accuracy_without_gold_ties=share(sum(gold == verdict for gold, verdict in non_tie), len(non_tie)),
        ),
        position=position,
        confusion=_confusion(pairs),
        annotators=_annotators(items) if items and len(items[0].labels) > 1 else None,
        llmbar_statistics=llmbar_statistics,
        notes=[*notes, *_notes(items, len(items) - len(scored), parse_failures)],
    )


def _name(verdict: Label | None) -> str:
    return UNPARSED if verdict is None else verdict


def _kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    return cohen_kappa([verdict for _, verdict in pairs], [gold for gold, _ in pairs])


def _position(items: Sequence[JudgedItem]) -> PositionFigures:
    """Both orders compared item by item; "1" then "2" (original-order names) is the first shown, both times."""
    pairs = [(_name(item.verdict), _name(item.swapped_verdict)) for item in items]
    agree = sum(a == b != UNPARSED for a, b in pairs)
    first = sum(pair == ("1", "2") for pair in pairs)
    second = sum(pair == ("2", "1") for pair in pairs)
    return PositionFigures(
        agreement=share(agree, len(pairs)) or 0.0,
        kappa=cohen_kappa([a for a, _ in pairs], [b for _, b in pairs]),
        prefers_first=first,
        prefers_second=second,
        other_inconsistent=len(pairs) - agree - first - second,
    )


def _confusion(pairs: Sequence[tuple[str, str]]) -> ConfusionMatrix:
    rows = sorted({gold for gold, _ in pairs})
    columns = sorted(set(rows) | {verdict for _, verdict in pairs})
    counts = [[0] * len(columns) for _ in rows]
    for gold, verdict in pairs:
        counts[rows.index(gold)][columns.index(verdict)] += 1
    return ConfusionMatrix(rows=rows, columns=columns, counts=counts)


def _annotators(items: Sequence[JudgedItem]) -> AnnotatorAgreement:
    """Annotators against each other (mean pairwise kappa) and the judge against each (over every item)."""
    count = len(items[0].labels)
    columns = [[item.labels[k] for item in items] for k in range(count)]
    orders = [[_name(item.verdict) for item in items]]
    if items[0].judged_swapped:
        orders.append([_name(item.swapped_verdict) for item in items])
    judge = []
    for k, column in enumerate(columns):
        hits = sum(verdict == label for verdicts in orders for verdict, label in zip(verdicts, column, strict=True))
        judge.append(
            AnnotatorFigures(
                annotator=k + 1,
                accuracy=hits / (len(column) * len(orders)),
                kappa=mean([cohen_kappa(verdicts, list(column)) for verdicts in orders]),
            )
        )
    return AnnotatorAgreement(
        annotators=count,
        unanimous=sum(len(set(item.labels)) == 1 for item in items),
        no_majority=sum(majority(item.labels) is None for item in items),
        pairwise_kappa_mean=mean([cohen_kappa(list(a), list(b)) for a, b in combinations(columns, 2)]),
        judge=judge,
    )


def _notes(items: Sequence[JudgedItem], no_majority: int, parse_failures: int) -> list[str]:
    notes = []
    if no_majority:
        notes.append(
            f"{no_majority} of {len(items)} item(s) have no majority label among their annotators; they are left "
            "out of accuracy and kappa (their verdicts still count in parse failures and annotator figures)."
        )
    if parse_failures:
        notes.append(
            f"{parse_failures} verdict(s) could not be parsed; each counts as wrong in accuracy and as a class of "
            "its own ('unparsed') in kappa and the confusion matrix."
        )
    return notes
