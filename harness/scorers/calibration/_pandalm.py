"""PandaLM's recorded verdicts and its human-labelled test set.

A verdicts file is a JSON list of ``{"idx": ..., "<judge>_result": ...}``: ``gpt_result`` ("1", "2", "Tie" or
"garbage", an answer that could not be parsed), ``pandalm_result`` (0 = tie, 1, 2), or a generic ``result``. The
labels file (``testset-v1.json``) gives each ``idx`` the labels of three annotators, ``annotator1..3`` (0 = tie, 1,
2); a file with one ``label`` per item works too. Items are matched by ``idx``; the judge saw one order only.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from harness.models.calibration import JudgedItem, Label
from harness.scorers.calibration._files import raise_problems, read_json_list
from harness.scorers.calibration.errors import CalibrationError

WHAT = "PandaLM verdicts"
WHAT_LABELS = "PandaLM labels"
DEFAULT_LABELS = "testset-v1.json"
RESULT_FIELDS = ("gpt_result", "pandalm_result", "result")
_ANNOTATOR = re.compile(r"annotator(\d+)")
_LABELS: dict[Any, Label] = {0: "tie", 1: "1", 2: "2", "0": "tie", "1": "1", "2": "2", "tie": "tie"}


def read_pandalm(path: Path, labels: Path | None = None) -> tuple[list[JudgedItem], str, Path, list[str]]:
    """The judged items of a PandaLM verdicts file matched with their annotators' labels.

    Verdicts "1"/1, "2"/2 and "Tie"/0 are read as ``1``, ``2`` and ``tie``; any other string or ``null`` (PandaLM's
    "garbage") is a parse failure, kept as an item whose verdict is ``None``.

    Args:
        path: The verdicts file.
        labels: The labels file; default ``testset-v1.json`` next to ``path``.

    Returns:
        The items (in the verdicts file's order), the judge's name (the file's stem), the labels file, and notes
        on what was read (which answers were parse failures, labelled items without a verdict).

    Raises:
        CalibrationError: A file is missing, not JSON or of the wrong shape, there is no labels file, or a verdict's
            ``idx`` has no labels.
    """
    verdicts, failures = _read_verdicts(path)
    labels_path = labels if labels is not None else path.parent / DEFAULT_LABELS
    if labels is None and not labels_path.is_file():
        raise CalibrationError(
            f"No labels for {path}.",
            [f"{path}: no --labels given and {labels_path} does not exist; give the annotators' file with --labels."],
        )
    gold = _read_labels(labels_path)
    missing = [idx for idx in verdicts if idx not in gold]
    raise_problems(
        path, WHAT, [f"{path}: idx {idx} has no labels in {labels_path}; is this its labels file?" for idx in missing]
    )
    items = [JudgedItem(id=idx, labels=gold[idx], verdict=verdict) for idx, verdict in verdicts.items()]
    notes = [f"{path}: answer {raw!r} read as a parse failure ({count}x)." for raw, count in sorted(failures.items())]
    unjudged = len(gold) - len(verdicts)
    if unjudged:
        notes.append(f"{labels_path}: {unjudged} labelled item(s) have no verdict in {path}; they are not counted.")
    return items, path.stem, labels_path, notes


def _read_verdicts(path: Path) -> tuple[dict[str, Label | None], Counter[str]]:
    """``idx -> verdict`` (``None`` = parse failure), and how often each unparseable answer occurred."""
    data = read_json_list(path, WHAT)
    first = data[0] if isinstance(data[0], dict) else {}
    field = next((name for name in RESULT_FIELDS if name in first), None)
    if field is None:
        annotators = " (it has annotator labels: is it the labels file?)" if "annotator1" in first else ""
        raise CalibrationError(
            f"{path} is not a {WHAT} file.",
            [f"{path}: item 0 has none of the fields {', '.join(RESULT_FIELDS)}{annotators}; give the judge's file."],
        )
    verdicts: dict[str, Label | None] = {}
    failures: Counter[str] = Counter()
    problems: list[str] = []
    for position, raw in enumerate(data):
        where = f"{path}: item {position}"
        if not isinstance(raw, dict) or field not in raw or not isinstance(raw.get("idx"), int | str):
            problems.append(f"{where}: expected an object with idx and {field}")
            continue
        idx, answer = str(raw["idx"]), raw[field]
        if idx in verdicts:
            problems.append(f"{where}: idx {idx} appears twice")
        elif not isinstance(answer, int | str | None) or (isinstance(answer, int) and answer not in _LABELS):
            problems.append(f"{where}: {field} is {answer!r}; expected 0/1/2 or a string")
        else:
            verdict = _LABELS.get(answer.lower() if isinstance(answer, str) else answer)
            verdicts[idx] = verdict
            if verdict is None:
                failures[str(answer)] += 1
    raise_problems(path, WHAT, problems)
    return verdicts, failures


def _read_labels(path: Path) -> dict[str, tuple[Label, ...]]:
    """``idx -> labels``: ``annotator1..N`` in order, or a single ``label``."""
    data = read_json_list(path, WHAT_LABELS)
    first = data[0] if isinstance(data[0], dict) else {}
    fields = sorted((key for key in first if _ANNOTATOR.fullmatch(key)), key=lambda key: int(key[9:]))
    fields = fields or (["label"] if "label" in first else [])
    if not fields:
        raise CalibrationError(
            f"{path} is not a {WHAT_LABELS} file.",
            [f"{path}: item 0 has no annotator1, annotator2, ... or label field; give the annotators' file."],
        )
    gold: dict[str, tuple[Label, ...]] = {}
    problems: list[str] = []
    for position, raw in enumerate(data):
        where = f"{path}: item {position}"
        if not isinstance(raw, dict) or not isinstance(raw.get("idx"), int | str):
            problems.append(f"{where}: expected an object with idx and {', '.join(fields)}")
            continue
        values = [raw.get(field) for field in fields]
        labels = [_LABELS.get(value) if isinstance(value, int | str) else None for value in values]
        if str(raw["idx"]) in gold:
            problems.append(f"{where}: idx {raw['idx']} appears twice")
        elif any(label is None for label in labels):
            shown = ", ".join(f"{field}={value!r}" for field, value in zip(fields, values, strict=True))
            problems.append(f"{where}: {shown}; every label must be 0 (tie), 1 or 2")
        else:
            gold[str(raw["idx"])] = tuple(label for label in labels if label is not None)
    raise_problems(path, WHAT_LABELS, problems)
    return gold
