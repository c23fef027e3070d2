"""Reading the JSON files that recorded verdicts and labels come in, with errors that name the file and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.scorers.calibration.errors import CalibrationError

MAX_PROBLEMS = 20
"""Problems listed in one error; a file with more is most likely of another format altogether."""


def read_json_list(path: Path, what: str) -> list[Any]:
    """The JSON list in ``path``.

    Args:
        path: The file.
        what: What the file should hold, for messages ("LLMBar result.json", "PandaLM verdicts").

    Raises:
        CalibrationError: The file is missing, is not JSON, or does not hold a list.
    """
    if not path.is_file():
        hint = "is a folder" if path.is_dir() else "does not exist"
        raise CalibrationError(f"Cannot read {what}.", [f"{path}: {hint}; give the path of the {what} file."])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"Cannot read {what}.", [f"{path}: {exc}"]) from None
    except json.JSONDecodeError as exc:
        raise CalibrationError(
            f"{path} is not JSON.", [f"{path}:{exc.lineno}: {exc.msg}; expected the {what} file (a JSON list)."]
        ) from None
    if not isinstance(data, list) or not data:
        found = "an empty list" if data == [] else f"a JSON {type(data).__name__}"
        raise CalibrationError(
            f"{path} is not {what}.", [f"{path}: holds {found}; expected a non-empty JSON list of items."]
        )
    return data


def raise_problems(path: Path, what: str, problems: list[str]) -> None:
    """Raise one :class:`CalibrationError` listing ``problems`` (at most :data:`MAX_PROBLEMS`), if there are any."""
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"{path}: ... and {len(problems) - MAX_PROBLEMS} more problem(s)")
    raise CalibrationError(f"{path} is not a valid {what} file ({len(problems)} problem(s)).", shown)
