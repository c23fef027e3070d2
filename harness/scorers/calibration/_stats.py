"""Agreement statistics in pure Python: Cohen's kappa (with scikit-learn's arithmetic), accuracy, majority."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

K = TypeVar("K", str, int)


def cohen_kappa(first: Sequence[K], second: Sequence[K]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items, computed as ``sklearn.metrics.cohen_kappa_score``.

    The confusion matrix is over the sorted union of both raters' labels; the chance matrix is the outer product of
    its column and row sums over ``n``; kappa is ``1 - sum(w * observed) / sum(w * expected)`` with ``w = 1 - I``.
    Floating-point sums are taken in NumPy's order (see :func:`numpy_sum`), so results equal scikit-learn's to
    the last bit.

    Args:
        first: The first rater's labels (rows of the confusion matrix).
        second: The second rater's labels, item by item.

    Returns:
        Kappa in [-1, 1], or ``None`` when it is undefined: no items, or no disagreement expected by chance (both
        raters gave every item one and the same label). scikit-learn returns NaN there; ``None`` says "no
        figure" in JSON and in the report, where NaN would be read as a number.

    Raises:
        ValueError: The two sequences differ in length.
    """
    if len(first) != len(second):
        raise ValueError(f"cohen_kappa: {len(first)} labels against {len(second)}")
    n = len(first)
    if n == 0:
        return None
    labels = sorted(set(first) | set(second))
    index = {label: i for i, label in enumerate(labels)}
    size = len(labels)
    confusion = [[0] * size for _ in range(size)]
    for a, b in zip(first, second, strict=True):
        confusion[index[a]][index[b]] += 1
    column_sums = [sum(row[j] for row in confusion) for j in range(size)]
    row_sums = [sum(row) for row in confusion]
    # np.outer(sum0, sum1) / n: column sums down the rows, row sums across (the transpose of the usual layout;
    # kappa is the same, but the order of the float sum below is NumPy's only this way round).
    expected = [column_sums[i] * row_sums[j] / n for i in range(size) for j in range(size)]
    weights = [0 if i == j else 1 for i in range(size) for j in range(size)]
    observed_disagreement = sum(w * c for w, c in zip(weights, (c for row in confusion for c in row), strict=True))
    expected_disagreement = numpy_sum([w * e for w, e in zip(weights, expected, strict=True)])
    if expected_disagreement == 0:
        return None
    return 1 - observed_disagreement / expected_disagreement


def numpy_sum(values: Sequence[float]) -> float:
    """``numpy.sum`` of a contiguous float64 array, bit for bit: NumPy adds pairwise, eight partial sums at a time.

    A plain left-to-right sum can differ from it in the last bit, and the LLMBar figures are compared exactly.
    """
    n = len(values)
    if n < 8:
        total = 0.0
        for value in values:
            total += value
        return total
    if n <= 128:
        partial = list(values[:8])
        stop = n - n % 8
        for start in range(8, stop, 8):
            for j in range(8):
                partial[j] += values[start + j]
        total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
            (partial[4] + partial[5]) + (partial[6] + partial[7])
        )
        for value in values[stop:]:
            total += value
        return total
    half = n // 2
    half -= half % 8
    return numpy_sum(values[:half]) + numpy_sum(values[half:])


def share(hits: int, total: int) -> float | None:
    """``hits / total``, or ``None`` when there is nothing to count."""
    return hits / total if total else None


def majority(labels: Sequence[K]) -> K | None:
    """The label that more than half of the raters gave, or ``None`` when no label has a strict majority.

    With one rater that rater's label; with three, any label given twice; with two raters who disagree, or three
    who all differ, there is no majority (no tie-breaking rule is invented).
    """
    if not labels:
        return None
    label, count = Counter(labels).most_common(1)[0]
    return label if count * 2 > len(labels) else None


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values; ``None`` when none is defined."""
    defined = [value for value in values if value is not None]
    return sum(defined) / len(defined) if defined else None
