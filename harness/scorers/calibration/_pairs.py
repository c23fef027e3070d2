"""Labelled pairs for a live calibration: two responses to one input and the label(s) saying which is better.

- LLMBar ``dataset.json``: a list of ``{"input", "output_1", "output_2", "label": 1|2}``; the id is the position.
- PandaLM ``testset-v1.json``: a list of ``{"idx", "instruction", "input", "response1", "response2",
  "annotator1".."annotator3": 0 (tie)|1|2}``; the user's message is the instruction, then the input when there is
  one. The labels can also come from another file (``--labels``), matched by ``idx``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.models._base import Record
from harness.models.calibration import Label
from harness.scorers.calibration._files import raise_problems, read_json_list
from harness.scorers.calibration._llmbar import llmbar_label
from harness.scorers.calibration._pandalm import _read_labels
from harness.scorers.calibration.errors import CalibrationError

PairsFormat = Literal["llmbar", "pandalm"]
WHAT = {"llmbar": "LLMBar dataset.json", "pandalm": "PandaLM testset"}


class LabelledPair(Record):
    """Two responses to one user input, with the reference label(s) of which is better."""

    id: str
    """The item's id in its file (LLMBar: position in the list; PandaLM: ``idx``)."""
    input: str
    """What the user asked (PandaLM: the instruction, then the input)."""
    output_1: str
    """The first response (LLMBar ``output_1``, PandaLM ``response1``)."""
    output_2: str
    """The second response."""
    labels: tuple[Label, ...] = Field(min_length=1)
    """One gold label, or one label per human annotator."""


def detect_pairs_format(path: Path) -> PairsFormat:
    """``llmbar`` when the first item has ``output_1``, ``pandalm`` when it has ``response1``.

    Raises:
        CalibrationError: The file cannot be read, or its first item has neither.
    """
    first = read_json_list(path, "labelled pairs")[0]
    if isinstance(first, dict) and "output_1" in first:
        return "llmbar"
    if isinstance(first, dict) and "response1" in first:
        return "pandalm"
    recorded = " (it has results: give recorded verdicts with --recorded)" if isinstance(first, dict) else ""
    raise CalibrationError(
        f"Cannot tell the format of {path}.",
        [
            f"{path}: item 0 has neither output_1 (LLMBar dataset.json) nor response1 (PandaLM testset-v1.json)"
            f"{recorded}; give --format llmbar or --format pandalm, with a file of that format."
        ],
    )


def read_pairs(
    path: Path, format: str | None = None, labels: Path | None = None
) -> tuple[list[LabelledPair], PairsFormat, Path | None]:
    """The labelled pairs of an LLMBar ``dataset.json`` or a PandaLM ``testset-v1.json``.

    Args:
        path: The pairs file.
        format: ``llmbar`` or ``pandalm``; ``None`` detects it from the first item.
        labels: PandaLM only: a labels file (``annotator1..N`` or ``label`` by ``idx``) instead of the pairs file's.

    Returns:
        The pairs in file order, the format, and the labels file when it is not ``path``.

    Raises:
        CalibrationError: Unknown format, ``labels`` for LLMBar, a file that is not of the format, an item without
            two text responses, an input or a label; every such item is listed.
    """
    chosen = detect_pairs_format(path) if format is None else format
    if chosen == "llmbar":
        if labels is not None:
            raise CalibrationError(
                "--labels is for PandaLM pairs.",
                [f"{labels}: LLMBar's dataset.json carries its own gold labels; leave out --labels."],
            )
        return _read_llmbar(path), "llmbar", None
    if chosen == "pandalm":
        return _read_pandalm(path, labels), "pandalm", labels
    raise CalibrationError(f"Unknown pairs format {format!r}.", [f"{path}: give --format llmbar or --format pandalm."])


def _read_llmbar(path: Path) -> list[LabelledPair]:
    data = read_json_list(path, WHAT["llmbar"])
    pairs: list[LabelledPair] = []
    problems: list[str] = []
    for position, raw in enumerate(data):
        where = f"{path}: item {position}"
        texts = _texts(raw, ("input", "output_1", "output_2"), where, problems)
        if texts is not None and not texts[0].strip():
            problems.append(f"{where}: input is empty; a judge needs the user's input")
            texts = None
        label = llmbar_label(raw.get("label")) if isinstance(raw, dict) else None
        if isinstance(raw, dict) and label is None:
            problems.append(f"{where}: label is {raw.get('label')!r}; expected 1 or 2 (the better output)")
        if texts is not None and label is not None:
            user_input, first, second = texts
            pairs.append(
                LabelledPair(id=str(position), input=user_input, output_1=first, output_2=second, labels=(label,))
            )
    raise_problems(path, WHAT["llmbar"], problems)
    return pairs


def _read_pandalm(path: Path, labels: Path | None) -> list[LabelledPair]:
    data = read_json_list(path, WHAT["pandalm"])
    source = labels or path
    gold = _read_labels(source)
    pairs: list[LabelledPair] = []
    problems: list[str] = []
    for position, raw in enumerate(data):
        where = f"{path}: item {position}"
        texts = _texts(raw, ("instruction", "response1", "response2"), where, problems)
        if not isinstance(raw, dict) or texts is None:
            continue
        idx, extra = raw.get("idx"), raw.get("input")
        instruction = "\n\n".join(part.strip() for part in (texts[0], _text(extra) or "") if part.strip())
        if not isinstance(idx, int | str):
            problems.append(f"{where}: idx is {idx!r}; expected the item's id")
        elif str(idx) not in gold:
            problems.append(f"{where}: idx {idx} has no labels in {source}; is this its labels file?")
        elif not instruction:
            problems.append(f"{where}: instruction and input are empty; a judge needs the user's input")
        else:
            pair = LabelledPair(
                id=str(idx), input=instruction, output_1=texts[1], output_2=texts[2], labels=gold[str(idx)]
            )
            pairs.append(pair)
    raise_problems(path, WHAT["pandalm"], problems)
    return pairs


def _texts(raw: Any, fields: tuple[str, str, str], where: str, problems: list[str]) -> tuple[str, str, str] | None:
    """The item's three fields as text, or ``None`` (with a problem) when the item is not an object or lacks one."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: is a JSON {type(raw).__name__}; expected an object with {', '.join(fields)}")
        return None
    values = [_text(raw.get(field)) for field in fields]
    bad = [field for field, value in zip(fields, values, strict=True) if value is None]
    if bad:
        problems.append(f"{where}: {', '.join(bad)} missing or not text; expected {', '.join(fields)} as strings")
        return None
    first, second, third = (value or "" for value in values)
    return first, second, third


def _text(value: Any) -> str | None:
    """Text as is; a JSON scalar as Python writes it (PandaLM's test set has responses ``true``: the model's "True",
    parsed as JSON somewhere upstream); anything else (null, lists, objects) is ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None
