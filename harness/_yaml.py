"""Load YAML files into pydantic records with ``file:line`` in every error.

PyYAML's composed node tree keeps the line of every key and value; pydantic's errors carry the path (``loc``) of the
bad value. Walking the path through the node tree gives the line, so each problem reads
``scenario.yaml:14: rules[2].when.last_usr: unknown key 'last_usr' (did you mean 'last_user'?)``.
Datasets, rubrics and fault plans load the same way.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from harness.errors import FileFormatError

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: the plain data, and the node tree that knows where each value was written."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_at(self, loc: tuple[int | str, ...]) -> int | None:
        """Return the 1-based line of the value at ``loc``, or of its closest existing parent."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                # A loc part that names no key (a union branch, a missing field) keeps the parent's line.
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
        return line


def parse_yaml(text: str, path: Path, error: type[FileFormatError] = FileFormatError) -> YamlDocument:
    """Parse YAML text, rejecting syntax errors and duplicate keys with ``file:line``.

    libyaml composes when it is installed (imported benchmarks are megabytes of YAML: seconds with the pure-Python
    composer, a tenth of that with libyaml); a file it rejects is parsed again by the pure-Python parser, whose
    messages (``while parsing a flow sequence``) are the ones users see.
    """
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        root = _compose_for_the_message(text, path, error)
    duplicates = list(_duplicate_keys(root))
    if duplicates:
        raise error(
            f"{path} has duplicate keys.",
            [f"{path}:{line}: key '{key}' appears twice in the same mapping; keep one." for key, line in duplicates],
        )
    data = yaml.SafeLoader("").construct_document(root) if root is not None else None
    return YamlDocument(path=path, data=data, root=root)


def _compose_for_the_message(text: str, path: Path, error: type[FileFormatError]) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        where = f"{path}:{line}" if line else str(path)
        detail = str(exc.problem or exc.context)
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            # The problem is often noticed lines after the construct that caused it (an unclosed bracket).
            detail += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise error(
            f"{path} is not valid YAML.",
            [f"{where}: {detail}. Fix the YAML syntax there (indentation, quotes, brackets, colons)."],
        ) from None


def load_yaml(path: Path, error: type[FileFormatError] = FileFormatError) -> YamlDocument:
    """Read and parse a YAML file; a missing or unreadable file is a :class:`FileFormatError` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path} does not exist.", [f"{path}: no such file. Check the path."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path} cannot be read.", [f"{path}: {exc}"]) from None
    return parse_yaml(text, path, error)


def validate_document(
    doc: YamlDocument,
    model: type[ModelT],
    error: type[FileFormatError] = FileFormatError,
    *,
    data: Any = None,
    loc_prefix: tuple[int | str, ...] = (),
    context: dict[str, Any] | None = None,
) -> ModelT:
    """Validate ``doc.data`` (or ``data``, found at ``loc_prefix`` in the file) as ``model``."""
    payload = doc.data if data is None else data
    try:
        return model.model_validate(payload, context=context)
    except pydantic.ValidationError as exc:
        problems = [_describe(doc, model, err, loc_prefix) for err in exc.errors(include_url=False)]
        raise error(f"{doc.path} is not a valid {_title(model)}.", problems) from None


def _describe(doc: YamlDocument, model: type[pydantic.BaseModel], err: Any, loc_prefix: tuple[int | str, ...]) -> str:
    loc = tuple(err["loc"])
    file_loc = loc_prefix + tuple(p for p in loc if not _is_branch_tag(p))
    line = doc.line_at(file_loc)
    where = f"{doc.path}:{line}" if line else str(doc.path)
    dotted = _dotted(file_loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        valid = _field_names(model, loc[:-1])
        hint = ""
        close = difflib.get_close_matches(key, valid, n=1)
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        choices = f" Valid keys here: {', '.join(valid)}." if valid else ""
        return f"{where}: {dotted}: unknown key '{key}'{hint}.{choices}"
    if kind == "missing":
        return f"{where}: {dotted}: required key '{loc[-1]}' is missing. Add it."
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    subject = f"{dotted}: " if dotted else ""
    return f"{where}: {subject}{message}"


def _is_branch_tag(part: int | str) -> bool:
    # pydantic inserts union-branch and validator names into loc, e.g. 'function-after[...]' or 'list[str]'.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "dict", "list"})


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _title(model: type[pydantic.BaseModel]) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in model.__name__).strip()
    return words


def _field_names(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Names accepted at ``loc`` inside ``model`` (aliases preferred), for did-you-mean hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        target = _model_in(current)
        if target is None or part not in _names(target):
            if target is not None:
                continue
            return []
        name = _names(target)[part]
        current = target.model_fields[name].annotation
    target = _model_in(current)
    return sorted(_names(target)) if target is not None else []


def _names(model: type[pydantic.BaseModel]) -> dict[str, str]:
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _model_in(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Rule] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in reversed(typing.get_args(annotation)):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _duplicate_keys(node: yaml.Node | None) -> typing.Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield key, key_node.start_mark.line + 1
            seen.add(key)
            yield from _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)
