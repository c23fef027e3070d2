"""Dataset files -> raw (unvalidated) dataset fields and cases, each with the line it was written on.

Two formats hold the same data. YAML: a mapping of dataset-level keys plus ``cases:``. JSONL: one case (a JSON
object) per line, after an optional first line ``{"dataset": {...}}``. Both become a :class:`RawDataset` whose
pieces carry a :class:`~harness._yaml.YamlDocument` (which knows the line of every value), so that one validation
path (:mod:`harness.datasets._validate`) reports ``file:line`` for both formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness import _yaml
from harness.datasets.errors import DatasetError

YAML_SUFFIXES = (".yaml", ".yml")
JSONL_SUFFIXES = (".jsonl",)
SUFFIXES = YAML_SUFFIXES + JSONL_SUFFIXES
"""File suffixes that hold datasets."""

Loc = tuple[int | str, ...]

_YAML_EXAMPLE = 'e.g. `cases:` then `  - {id: refund-1, input: "I want a refund for order A1001"}`'
_JSONL_EXAMPLE = 'e.g. {"id": "refund-1", "input": "I want a refund for order A1001"}'


@dataclass(frozen=True)
class LineDocument(_yaml.YamlDocument):
    """One JSONL line as a document: every value in it is on that line."""

    line: int = 1

    def line_at(self, loc: Loc) -> int | None:
        """Return the line of the JSON object, whatever ``loc`` points at inside it."""
        return self.line


@dataclass(frozen=True)
class RawCase:
    """One case as written, before validation."""

    data: Any
    """The parsed mapping (or whatever the file held there)."""
    doc: _yaml.YamlDocument
    """Document that locates values of this case."""
    prefix: Loc
    """Location of the case inside ``doc`` (``("cases", 3)`` in YAML, ``()`` for a JSONL line)."""
    line: int
    """1-based line where the case starts."""

    @property
    def where(self) -> str:
        """How messages name the case's location (``cases[3]``; empty for JSONL, whose line says it all)."""
        return dotted(self.prefix)


@dataclass
class RawDataset:
    """A dataset file parsed but not validated."""

    header: dict[str, Any]
    """Dataset-level fields (name, description, agent, source, license)."""
    header_doc: _yaml.YamlDocument
    """Document that locates the header's values."""
    header_prefix: Loc
    """Location of the header inside ``header_doc``."""
    cases: list[RawCase] = field(default_factory=list)
    """The cases in file order."""
    problems: list[str] = field(default_factory=list)
    """Problems found while parsing (the cases that parsed are still validated, so that all problems show)."""


def dotted(loc: Loc) -> str:
    """``("cases", 3, "expected", "status")`` -> ``cases[3].expected.status``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_text(path: Path) -> tuple[bytes, str]:
    """Read a dataset file's bytes and its text; the file must exist, have a dataset suffix and be UTF-8 text.

    Raises:
        DatasetError: The file is missing, a directory, of another type, empty, binary or not UTF-8.
    """
    if not path.exists():
        raise DatasetError(
            f"{path} does not exist.",
            [f"{path}: no such file or directory. Check the path; `agenteval datasets list` shows the datasets."],
        )
    if path.is_dir():
        raise DatasetError(
            f"{path} is a directory.", [f"{path}: is a directory; give a dataset file (.yaml, .yml or .jsonl)."]
        )
    if path.suffix.lower() not in SUFFIXES:
        raise DatasetError(
            f"{path} is not a dataset file.",
            [
                f"{path}:1: unsupported file type '{path.suffix or '(no suffix)'}'. A dataset is a .yaml/.yml file "
                "(a mapping with `cases:`) or a .jsonl file (one case per line); rename or convert the file."
            ],
        )
    data = path.read_bytes()
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DatasetError(
            f"{path} is a binary file.",
            [f"{path}:{line}: binary content (a NUL byte). A dataset is UTF-8 text; is this the right file?"],
        )
    try:
        # utf-8-sig: a byte-order mark written by some editors is not part of the first key.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"{path} is not UTF-8 text.",
            [f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8. Save the file as UTF-8."],
        ) from None
    if not text:
        raise DatasetError(f"{path} is empty.", [f"{path}:1: the file is empty. Add cases, {_example(path)}."])
    if not text.strip():
        raise DatasetError(
            f"{path} is empty.", [f"{path}:1: the file contains only whitespace. Add cases, {_example(path)}."]
        )
    return data, text


def _example(path: Path) -> str:
    return _JSONL_EXAMPLE if path.suffix.lower() in JSONL_SUFFIXES else _YAML_EXAMPLE


def parse_yaml_dataset(path: Path, text: str) -> RawDataset:
    """Split a YAML dataset into its header and raw cases.

    Raises:
        DatasetError: Bad syntax, duplicate keys, or no usable ``cases`` list (nothing else can be checked then).
    """
    doc = _yaml.parse_yaml(text, path, DatasetError)
    root = doc.root
    if root is None:
        raise DatasetError(
            f"{path} has no YAML document.", [f"{path}:1: the file holds only comments. Add cases, {_YAML_EXAMPLE}."]
        )
    top_line = root.start_mark.line + 1
    if not isinstance(root, yaml.MappingNode) or not isinstance(doc.data, dict):
        found = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        hint = " (to give a list of cases, put it under `cases:`)" if isinstance(root, yaml.SequenceNode) else ""
        raise DatasetError(
            f"{path} is not a dataset.",
            [
                f"{path}:{top_line}: the top level is {found}{hint}; it must be a mapping with `cases:` and optional "
                f"name, description, agent, source, license, {_YAML_EXAMPLE}."
            ],
        )
    header = {key: value for key, value in doc.data.items() if key != "cases"}
    if "cases" not in doc.data:
        raise DatasetError(
            f"{path} has no cases.",
            [f"{path}:{top_line}: required key 'cases' is missing. Add a list of cases, {_YAML_EXAMPLE}."],
        )
    cases_line = doc.line_at(("cases",)) or top_line
    cases = doc.data["cases"]
    if cases is None or cases == []:
        raise DatasetError(
            f"{path} has no cases.", [f"{path}:{cases_line}: cases: the list is empty. Add at least one case."]
        )
    if not isinstance(cases, list):
        raise DatasetError(
            f"{path} has no list of cases.",
            [
                f"{path}:{cases_line}: cases: must be a list (one `- id: ...` item per case), not "
                f"{kind_of(cases)}. {_YAML_EXAMPLE[0].upper()}{_YAML_EXAMPLE[1:]}."
            ],
        )
    raw = RawDataset(header=header, header_doc=doc, header_prefix=())
    for index, data in enumerate(cases):
        loc: Loc = ("cases", index)
        raw.cases.append(RawCase(data=data, doc=doc, prefix=loc, line=doc.line_at(loc) or cases_line))
    return raw


def parse_jsonl_dataset(path: Path, text: str) -> RawDataset:
    """Split a JSONL dataset into its optional header line and one raw case per non-blank line.

    Lines that are not JSON objects are reported in ``problems``; the other lines are still returned, so that the
    file's problems are all listed at once.

    Raises:
        DatasetError: The file has no case lines at all.
    """
    raw = RawDataset(header={}, header_doc=LineDocument(path=path, data=None, root=None), header_prefix=("dataset",))
    seen_content = False
    last_line = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        last_line = number
        is_first, seen_content = not seen_content, True
        data = _parse_json_line(path, number, line, raw.problems)
        if data is _INVALID:
            continue
        if not isinstance(data, dict):
            raw.problems.append(
                f"{path}:{number}: the line is {kind_of(data)}, not a JSON object. Each line is one case, "
                f"{_JSONL_EXAMPLE}."
            )
            continue
        if set(data) == {"dataset"}:
            if is_first:
                _read_header(path, number, data["dataset"], raw)
            else:
                raw.problems.append(
                    f"{path}:{number}: dataset: the dataset header must be the first line of the file; move it there."
                )
            continue
        doc = LineDocument(path=path, data=data, root=None, line=number)
        raw.cases.append(RawCase(data=data, doc=doc, prefix=(), line=number))
    if not raw.cases and not raw.problems:
        raise DatasetError(
            f"{path} has no cases.", [f"{path}:{last_line}: no cases. Add one JSON object per line, {_JSONL_EXAMPLE}."]
        )
    return raw


_INVALID = object()


def _parse_json_line(path: Path, number: int, line: str, problems: list[str]) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads keeps the last of two equal keys silently; YAML files reject them, so JSONL does too.
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        data = json.loads(line, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        problems.append(
            f"{path}:{number}: not valid JSON: {exc.msg} (column {exc.colno}). Each line must be one complete JSON "
            f"object, {_JSONL_EXAMPLE}."
        )
        return _INVALID
    if duplicates:
        problems.extend(
            f"{path}:{number}: key '{key}' appears twice in the same object; keep one." for key in duplicates
        )
        return _INVALID
    return data


def _read_header(path: Path, number: int, header: Any, raw: RawDataset) -> None:
    raw.header_doc = LineDocument(path=path, data={"dataset": header}, root=None, line=number)
    if not isinstance(header, dict):
        raw.problems.append(
            f"{path}:{number}: dataset: must be an object with name, description, agent, source, license; "
            f"not {kind_of(header)}."
        )
        return
    if "cases" in header:
        raw.problems.append(
            f"{path}:{number}: dataset.cases: in a JSONL file the cases are the lines after the header, one JSON "
            "object per line; move them there."
        )
    raw.header = {key: value for key, value in header.items() if key != "cases"}


def kind_of(value: Any) -> str:
    """How messages name the type of a value: ``a list``, ``a string``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
