"""Reading upstream files, with ``file:line`` in every error; case ids and regexes shared by the importers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, FileFormatError
from harness.models.cases import CASE_ID_PATTERN

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/-]+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
"""An e-mail address in free text (a trailing full stop is left out)."""


def require_file(folder: Path, name: str, what: str) -> Path:
    """``folder/name``, or a :class:`ConfigError` that says which upstream file is missing."""
    path = folder / name
    if not path.is_file():
        raise ConfigError(
            f"{path} not found: {what} needs it. Point the importer at the upstream folder that holds {name} "
            f"(see shared/data/README.md for the layout)."
        )
    return path


def read_json(path: Path) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file raises :class:`FileFormatError`."""
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{path} is not valid JSON.", [f"{path}:{exc.lineno}: {exc.msg}. Re-download the upstream file."]
        ) from None


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON-lines file with their 1-based line numbers (blank lines are skipped)."""
    items: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: {exc.msg} (column {exc.colno}).")
            continue
        if not isinstance(item, dict):
            problems.append(f"{path}:{number}: expected a JSON object, got {type(item).__name__}.")
            continue
        items.append((number, item))
    if problems:
        raise FileFormatError(f"{path} is not valid JSON lines (one object per line).", problems)
    return items


def field(path: Path, line: int | None, item: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``item[key]``, checked to be of ``kind``; otherwise a :class:`FileFormatError` at ``path:line``."""
    value = item.get(key)
    if not isinstance(value, kind):
        where = f"{path}:{line}" if line is not None else str(path)
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise FileFormatError(
            f"{path} does not have the expected upstream layout.",
            [f"{where}: '{key}' must be {names}, got {type(value).__name__}. Is this the right file?"],
        )
    return value


def case_id(*parts: str) -> str:
    """A valid case id from upstream names: unsafe characters become ``-``, parts are joined by ``/``."""
    cleaned = [_ID_UNSAFE.sub("-", part).strip("-") or "x" for part in parts]
    result = "/".join(cleaned)
    if not re.match(CASE_ID_PATTERN, result):
        result = ("c" + result)[:200]
    return result


def address_regex(address: str) -> str:
    """A regex matching an e-mail address as sent, or as trace redaction stores it (``[EMAIL]@domain``)."""
    local, _, domain = address.partition("@")
    return rf"(?i)(?:{re.escape(local)}|\[EMAIL\])@{re.escape(domain)}"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileFormatError(f"{path} does not exist.", [f"{path}: no such file. Check the path."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path} cannot be read.", [f"{path}: {exc}"]) from None
