"""Berkeley Function Calling Leaderboard (BFCL v4) -> ``tool-calling`` datasets, one per category.

Upstream layout (``shared/data/bfcl``): ``BFCL_v4_<category>.json`` files, JSON lines despite the suffix, each item
``{id, question, function}``; ``possible_answer/BFCL_v4_<category>.json`` with ``{id, ground_truth}``.

What is mapped:

* ``function`` -> :class:`~harness.models.cases.ToolSpec`, with BFCL's type dialect turned into JSON schema
  (``dict`` -> ``object``, ``float`` -> ``number``, ``tuple`` -> ``array``, ``any`` -> no type at all) and BFCL's
  non-standard ``optional`` flag dropped (``required`` already says it). Function names are made OpenAI-safe the
  way BFCL itself does for OpenAI models (``math.factorial`` -> ``math_factorial``); the upstream name is kept in
  the case's ``metadata.upstream_names``.
* ``question`` (a list of turns, each a list of messages) -> the input: the user's message when it is the only one,
  else the conversation.
* ``ground_truth`` -> ``expected.tool_calls``: one :class:`~harness.models.cases.ExpectedCall` per call, with every
  acceptable value per argument in ``acceptable`` (``""`` = may be omitted; nested dicts keep BFCL's
  value-lists-inside-dicts form) and, in ``arguments``, the first acceptable value of each argument that must be
  given. Calls match in any order (``tool_call_match: unordered``), as BFCL's parallel categories require; for a
  single call this still demands exactly one call.
* ``irrelevance`` categories -> ``expected.no_tool_calls``.

Not mapped: the ``multi_turn_*`` categories (they need BFCL's stateful API simulators and per-turn execution
checks, which a single model call cannot reproduce); ``multi_turn_func_doc/`` is therefore not read. A category
without a ``possible_answer`` file (other than irrelevance) is imported without expected calls.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.datasets.importers._files import case_id, field, read_jsonl
from harness.errors import ConfigError
from harness.models.cases import Case, Dataset, Expected, ExpectedCall, Message, ToolSpec

SOURCE = "Berkeley Function Calling Leaderboard v4 (PyPI bfcl-eval 2026.3.23; github.com/ShishirPatil/gorilla)"
LICENSE = "Apache-2.0"
PREFIX = "BFCL_v4_"

# BFCL's Python-flavoured type names -> JSON schema. `any` maps to None: the key is removed (unconstrained).
_TYPES: dict[str, str | None] = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "any": None,
    "int": "integer",
    "bool": "boolean",
    "str": "string",
    "list": "array",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def convert_schema(schema: Any) -> Any:
    """A BFCL parameter schema as standard JSON schema (recursively; unknown keys are kept)."""
    if isinstance(schema, list):
        return [convert_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "optional":
            continue
        if key == "type" and isinstance(value, str):
            mapped = _TYPES.get(value, value)
            if mapped is not None:
                out[key] = mapped
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: convert_schema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = convert_schema(value)
        else:
            out[key] = value
    return out


def safe_name(name: str) -> str:
    """A function name OpenAI accepts (letters, digits, ``_`` and ``-``; at most 64 characters)."""
    return _UNSAFE_NAME.sub("_", name)[:64]


def first_value(acceptable: Any) -> Any:
    """The preferred value from BFCL's acceptable values: the first that is not ``""``, nested dicts collapsed."""
    if isinstance(acceptable, list):
        given = [value for value in acceptable if value != ""]
        return _collapse(given[0]) if given else None
    return _collapse(acceptable)


def _collapse(value: Any) -> Any:
    # Inside a dict value, BFCL lists acceptable values per key again: {"min": [300000], "max": [400000]}.
    if isinstance(value, dict):
        return {k: first_value(v) for k, v in value.items() if not (isinstance(v, list) and "" in v)}
    if isinstance(value, list):
        return [_collapse(item) if isinstance(item, dict) else item for item in value]
    return value


def expected_calls(ground_truth: list[Any], names: dict[str, str]) -> list[ExpectedCall]:
    """``possible_answer`` ground truth -> expected calls (``names`` maps upstream names to safe ones)."""
    calls: list[ExpectedCall] = []
    for entry in ground_truth:
        for upstream, arguments in entry.items():
            acceptable = {arg: values if isinstance(values, list) else [values] for arg, values in arguments.items()}
            required = {arg: first_value(values) for arg, values in acceptable.items() if "" not in values}
            calls.append(
                ExpectedCall(name=names.get(upstream, safe_name(upstream)), arguments=required, acceptable=acceptable)
            )
    return calls


def _input(turns: list[Any]) -> str | list[Message]:
    messages = [Message(role=m["role"], content=m.get("content")) for turn in turns for m in turn]
    if len(messages) == 1 and messages[0].role == "user" and messages[0].content:
        return messages[0].content
    return messages


def import_category(question_file: Path, answer_file: Path | None) -> Dataset:
    """One ``BFCL_v4_<category>.json`` (and its possible answers, when given) as a dataset."""
    category = question_file.stem.removeprefix(PREFIX)
    irrelevance = "irrelevance" in category
    answers: dict[str, list[Any]] = {}
    if answer_file is not None and answer_file.is_file():
        for line, item in read_jsonl(answer_file):
            answers[field(answer_file, line, item, "id", str)] = field(answer_file, line, item, "ground_truth", list)
    cases: list[Case] = []
    for line, item in read_jsonl(question_file):
        upstream_id = field(question_file, line, item, "id", str)
        functions = field(question_file, line, item, "function", list)
        names = {fn["name"]: safe_name(fn["name"]) for fn in functions}
        tools = [
            ToolSpec(
                name=names[fn["name"]],
                description=fn.get("description", ""),
                parameters=convert_schema(fn.get("parameters") or {"type": "dict", "properties": {}}),
            )
            for fn in functions
        ]
        if irrelevance:
            expected = Expected(no_tool_calls=True)
        elif upstream_id in answers:
            expected = Expected(tool_calls=expected_calls(answers[upstream_id], names), tool_call_match="unordered")
        else:
            expected = Expected()
        metadata: dict[str, Any] = {"source": "bfcl", "upstream_id": upstream_id, "category": category}
        renamed = {safe: upstream for upstream, safe in names.items() if safe != upstream}
        if renamed:
            metadata["upstream_names"] = renamed
        cases.append(
            Case(
                id=case_id(upstream_id),
                input=_input(field(question_file, line, item, "question", list)),
                tags=["bfcl", f"bfcl/{category}"],
                expected=expected,
                tools=tools,
                metadata=metadata,
            )
        )
    what = "the model must not call any tool" if irrelevance else "expected calls with every acceptable value"
    if not irrelevance and not answers:
        what = "no possible_answer file was found, so no expected calls"
    return Dataset(
        name=f"bfcl/{category}",
        description=f"BFCL v4 '{category}' category: one model call with the item's functions as tools; {what}.",
        agent="tool-calling",
        source=SOURCE,
        license=LICENSE,
        cases=cases,
    )


def import_bfcl(src: Path) -> list[Dataset]:
    """Every non-multi-turn BFCL category in ``src`` as a dataset ``bfcl/<category>``, sorted by category.

    Raises:
        ConfigError: ``src`` holds no ``BFCL_v4_*.json`` question files.
        FileFormatError: A file is not JSON lines or lacks the upstream fields (with ``file:line``).
    """
    files = sorted(p for p in src.glob(f"{PREFIX}*.json") if not p.stem.removeprefix(PREFIX).startswith("multi_turn"))
    if not files:
        raise ConfigError(
            f"{src} holds no {PREFIX}*.json question files. Point the BFCL importer at the folder of the BFCL v4 "
            "data (the one with possible_answer/ in it)."
        )
    return [import_category(path, src / "possible_answer" / path.name) for path in files]
