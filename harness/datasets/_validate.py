"""Raw dataset fields and cases -> validated records, collecting every problem with its ``file:line``.

Each case is validated on its own (one bad case does not hide the problems of the next), then the checks that
span cases or need a valid case run: duplicate ids, the ``agent`` kind, and tool names that expectations use.
pydantic's messages are made specific where the default would not say how to fix the value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic

from harness import _yaml
from harness.datasets._formats import Loc, RawCase, RawDataset, dotted, kind_of
from harness.datasets.errors import DatasetError
from harness.models.cases import AGENT_KINDS, Case, Dataset

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

_MODULE_FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class ToolRef:
    """A tool name used by a case's expectations or tool-result overrides."""

    where: str
    """Location inside the case, e.g. ``expected.tool_calls[0].name``."""
    loc: Loc
    """The same location as a path."""
    name: str
    """The tool name."""


def tool_refs(case: Case) -> Iterator[ToolRef]:
    """Every tool name a case refers to outside its own ``tools`` list."""
    names = {
        "tool_calls": [call.name for call in case.expected.tool_calls],
        "forbidden_calls": [call.name for call in case.expected.forbidden_calls],
    }
    for field, called in names.items():
        for index, name in enumerate(called):
            loc: Loc = ("expected", field, index, "name")
            yield ToolRef(dotted(loc), loc, name)
    for index, override in enumerate(case.tool_results):
        loc = ("tool_results", index, "tool")
        yield ToolRef(dotted(loc), loc, override.tool)


def unknown_tool_problem(location: str, where: str, name: str, valid: Iterable[str], whose: str) -> str:
    """The message for a tool name that is not among ``valid``, with a did-you-mean hint."""
    choices = sorted(valid)
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{location}: {where}: unknown tool '{name}'{hint}. {whose}: {', '.join(choices) or '(none)'}."


def validate_header(raw: RawDataset, default_name: str) -> tuple[Dataset | None, list[str]]:
    """Validate the dataset-level fields; the result has no cases yet."""
    payload = {"name": default_name, **raw.header, "cases": []}
    dataset, problems = validate_model(Dataset, payload, raw.header_doc, raw.header_prefix)
    agent = raw.header.get("agent")
    # Checked on the raw value, so that an unknown agent shows even when other header fields are wrong too.
    if isinstance(agent, str) and agent not in AGENT_KINDS and not _MODULE_FUNCTION.match(agent):
        loc = (*raw.header_prefix, "agent")
        close = difflib.get_close_matches(agent, AGENT_KINDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            f"{raw.header_doc.path}:{raw.header_doc.line_at(loc)}: {dotted(loc)}: unknown agent '{agent}'{hint}. "
            f"Use one of {', '.join(AGENT_KINDS)}, or `module:function` for your own agent."
        )
    return (None, problems) if problems else (dataset, problems)


def validate_cases(raw: RawDataset) -> tuple[list[Case], dict[str, int], dict[str, int], list[str]]:
    """Validate every case; return the valid cases, their lines, the lines of their tool names, and all problems."""
    cases: list[Case] = []
    case_lines: dict[str, int] = {}
    tool_lines: dict[str, int] = {}
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for item in raw.cases:
        case, case_problems = _validate_case(item)
        problems.extend(case_problems)
        case_id = item.data.get("id") if isinstance(item.data, dict) else None
        if isinstance(case_id, str):
            id_loc = (*item.prefix, "id")
            line = item.doc.line_at(id_loc)
            if case_id in first_seen:
                problems.append(
                    f"{item.doc.path}:{line}: {dotted(id_loc)}: duplicate case id '{case_id}' (first used at line "
                    f"{first_seen[case_id]}). Case ids must be unique in a dataset; rename one."
                )
                continue
            first_seen[case_id] = line or item.line
        if case is None:
            continue
        cases.append(case)
        case_lines[case.id] = item.line
        for ref in tool_refs(case):
            tool_lines[tool_line_key(case.id, ref.where)] = item.doc.line_at((*item.prefix, *ref.loc)) or item.line
        if case.tools:
            own = {tool.name for tool in case.tools}
            for ref in tool_refs(case):
                if ref.name not in own:
                    location = f"{item.doc.path}:{tool_lines[tool_line_key(case.id, ref.where)]}"
                    where = dotted((*item.prefix, *ref.loc))
                    problems.append(unknown_tool_problem(location, where, ref.name, own, "This case's `tools`"))
    return cases, case_lines, tool_lines, problems


def tool_line_key(case_id: str, where: str) -> str:
    """Key of :attr:`LoadedDataset.tool_lines`: ``#`` cannot occur in a case id."""
    return f"{case_id}#{where}"


def _validate_case(item: RawCase) -> tuple[Case | None, list[str]]:
    if not isinstance(item.data, dict):
        return None, [
            f"{item.doc.path}:{item.line}: {item.where + ': ' if item.where else ''}a case must be a mapping with "
            "`id` and `input`, "
            f'not {kind_of(item.data)}; e.g. `- {{id: refund-1, input: "I want a refund"}}`.'
        ]
    return validate_model(Case, item.data, item.doc, item.prefix)


def validate_model(
    model: type[ModelT], data: Any, doc: _yaml.YamlDocument, prefix: Loc
) -> tuple[ModelT | None, list[str]]:
    """Validate ``data`` (found at ``prefix`` in ``doc``) as ``model``; on failure, one problem per error."""
    try:
        return model.model_validate(data), []
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
    try:
        # The shared loader words each error with file:line and did-you-mean hints; its problems are in the same
        # order as `errors`, so a few of them can be reworded below.
        _yaml.validate_document(doc, model, DatasetError, data=data, loc_prefix=prefix)
    except DatasetError as described:
        worded = described.problems
    else:  # pragma: no cover - the same data cannot validate the second time
        raise AssertionError("validation is not deterministic")
    problems: list[str] = []
    for err, text in zip(errors, worded, strict=True):
        better = _reword(err, data, doc, prefix)
        if better is None:
            problems.append(text)
        elif better and better not in problems:
            problems.append(better)
    return None, problems


def _reword(err: Any, data: Any, doc: _yaml.YamlDocument, prefix: Loc) -> str | None:
    """A clearer message for some errors; ``""`` drops the error; ``None`` keeps the shared wording."""
    loc = tuple(err["loc"])
    kind = err["type"]
    plain = tuple(part for part in loc if not _is_branch(part))
    full = (*prefix, *plain)
    where = f"{doc.path}:{doc.line_at(full)}: {dotted(full)}"
    value = err.get("input")
    if plain == ("id",) and kind == "string_pattern_mismatch":
        return (
            f"{where}: invalid case id {value!r}. Use letters, digits and _ . : / - only, starting with a letter or "
            "digit (at most 200 characters)."
        )
    if plain == ("input",):
        given = data.get("input") if isinstance(data, dict) else None
        if kind in ("string_type", "list_type"):
            if isinstance(given, list):
                return ""  # the list branch's own errors say what is wrong inside the conversation
            return (
                f"{where}: must be the user's message (a string) or a conversation (a list of {{role, content}} "
                f"messages ending with a user message), not {kind_of(given)}."
            )
        if isinstance(given, str):
            return f"{where}: the input is empty. Give the user's message, e.g. `input: Where is order A1001?`."
        if isinstance(given, list) and given:
            last = given[-1].get("role") if isinstance(given[-1], dict) else None
            return (
                f"{where}: a conversation must end with a user message (the last one here is {last!r}). "
                "Put the user's message last."
            )
        if isinstance(given, list):
            return f"{where}: the conversation is empty. Give at least one message with role 'user'."
    if plain[-1:] == ("output_regex",) and kind == "value_error":
        detail = str(err["msg"]).removeprefix("Value error, ")
        return f"{where}: {detail}. Fix the pattern (Python `re` syntax); in YAML, quote it with single quotes."
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        what = {"status": "status", "role": "role"}.get(str(plain[-2] if isinstance(plain[-1], int) else plain[-1]))
        noun = what or "value"
        return f"{where}: unknown {noun} {value!r}{hint}. Valid {noun}s: {', '.join(choices)}."
    if kind in _TYPES:
        return f"{where}: must be {_TYPES[kind]}, not {kind_of(value)} ({value!r}). Fix the value."
    return None


_TYPES = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _is_branch(part: int | str) -> bool:
    # pydantic names union branches in loc (`str`, `list[Message]`); they are not keys in the file.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "dict", "list"})
