"""LLMBar's recorded verdicts (``evaluators/<judge>/<strategy>/result.json``) and the authors' statistics.

Each item of ``result.json`` holds ``label`` (1 or 2) and ``results``, whose last element is the verdict pair:
``{"swap = False": {"winner": "1"|"2"|null, ...}, "swap = True": {...}}``. The swapped run's winner is already mapped
back to original-order names by the authors' script. A ``null`` winner is an answer their parser could not read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.models.calibration import JudgedItem, Label, LLMBarStatistics
from harness.scorers.calibration._files import raise_problems, read_json_list
from harness.scorers.calibration._stats import cohen_kappa

WHAT = "LLMBar result.json"
ORDERS = ("swap = False", "swap = True")
_VERDICTS: dict[Any, Label | None] = {"1": "1", "2": "2", None: None}
_LABELS: dict[Any, Label] = {1: "1", 2: "2", "1": "1", "2": "2"}


def llmbar_label(value: Any) -> Label | None:
    """An LLMBar gold ``label`` (1 or 2, as a number or a string) as a :data:`Label`; ``None`` for anything else,
    including unhashable values such as a list, which the caller reports as a problem."""
    return _LABELS.get(value) if isinstance(value, int | str) else None


def read_llmbar(path: Path) -> tuple[list[JudgedItem], str | None]:
    """The judged items of an LLMBar ``result.json``, and the judge's name from its folder (``GPT-4/Vanilla``).

    Raises:
        CalibrationError: The file is missing, not JSON, or an item lacks a label in (1, 2) or a final verdict pair
            with winners "1", "2" or null; every such item is listed.
    """
    data = read_json_list(path, WHAT)
    items: list[JudgedItem] = []
    problems: list[str] = []
    for position, raw in enumerate(data):
        where = f"{path}: item {position}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: is a JSON {type(raw).__name__}; expected an object with label and results")
            continue
        label = llmbar_label(raw.get("label"))
        if label is None:
            problems.append(f"{where}: label is {raw.get('label')!r}; expected 1 or 2 (the better output)")
        results = raw.get("results")
        last = results[-1] if isinstance(results, list) and results else None
        winners: list[Label | None] = []
        for order in ORDERS:
            verdict = last.get(order) if isinstance(last, dict) else None
            if not isinstance(verdict, dict) or "winner" not in verdict:
                problems.append(f"{where}: results[-1] has no {order!r} object with a winner; is this a result.json?")
            elif not isinstance(verdict["winner"], str | None) or verdict["winner"] not in _VERDICTS:
                problems.append(f'{where}: {order!r} winner is {verdict["winner"]!r}; expected "1", "2" or null')
            else:
                winners.append(_VERDICTS[verdict["winner"]])
        if label is not None and len(winners) == 2:
            items.append(
                JudgedItem(
                    id=str(position),
                    labels=(label,),
                    verdict=winners[0],
                    judged_swapped=True,
                    swapped_verdict=winners[1],
                )
            )
    raise_problems(path, WHAT, problems)
    return items, _judge_name(path)


def llmbar_statistics(items: Sequence[JudgedItem]) -> LLMBarStatistics:
    """The authors' ``statistics.json`` for these items, as ``LLMEvaluator/evaluate.py`` computes it.

    Accuracy strings are ``"{k} / {n} = {k / n * 100}%"`` with Python's float repr. The kappas keep the script's
    quirk: a winner becomes ``int(winner)`` only if it is ``"0"`` or ``"1"``, else 0, so ``"2"`` and unparsed
    winners both become 0, and scikit-learn's ``cohen_kappa_score`` then compares {0, 1} with gold labels {1, 2}.
    Those kappas measure little (a judge that is always right gets about 0.3, not 1); they are reproduced so that
    the figures can be checked against the published ones, and the report's own ``kappa`` is computed properly.

    Args:
        items: Items read by :func:`read_llmbar` (one gold label each, judged in both orders).
    """
    n = len(items)
    labels = [item.labels[0] for item in items]
    original = [item.verdict for item in items]
    swapped = [item.swapped_verdict for item in items]
    correct_false = sum(verdict == label for verdict, label in zip(original, labels, strict=True))
    correct_true = sum(verdict == label for verdict, label in zip(swapped, labels, strict=True))
    correct_both = sum(a == b == label for a, b, label in zip(original, swapped, labels, strict=True))
    # None == None: two unparsed winners are "equal" in their script.
    equal = sum(a == b for a, b in zip(original, swapped, strict=True))
    gold = [int(label) for label in labels]
    kappa_false = _sklearn_kappa(_quirk(original), gold)
    kappa_true = _sklearn_kappa(_quirk(swapped), gold)
    return LLMBarStatistics(
        correct_False=_fraction(correct_false, n),
        correct_True=_fraction(correct_true, n),
        correct_average=f"{(correct_false + correct_true) / 2 / n * 100}%",
        correct_both=_fraction(correct_both, n),
        equal=_fraction(equal, n),
        kappa_False=kappa_false,
        kappa_True=kappa_true,
        kappa_average=(kappa_false + kappa_true) / 2,
        kappa_agreement=_sklearn_kappa(_quirk(original), _quirk(swapped)),
    )


def _fraction(count: int, n: int) -> str:
    return f"{count} / {n} = {count / n * 100}%"


def _quirk(verdicts: Sequence[Label | None]) -> list[int]:
    """``int(w) if w in ("0", "1") else 0``, as in the authors' script (see :func:`llmbar_statistics`)."""
    return [int(verdict) if verdict in ("0", "1") else 0 for verdict in verdicts]


def _sklearn_kappa(first: list[int], second: list[int]) -> float:
    """:func:`cohen_kappa` with scikit-learn's answer where it is undefined: NaN."""
    kappa = cohen_kappa(first, second)
    return math.nan if kappa is None else kappa


def _judge_name(path: Path) -> str | None:
    """``<judge>/<strategy>`` from ``.../evaluators/<judge>/<strategy>/result.json``."""
    parts = path.resolve().parts
    if len(parts) >= 4 and parts[-4] == "evaluators":
        return f"{parts[-3]}/{parts[-2]}"
    return None
