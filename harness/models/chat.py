"""Small facts about OpenAI chat-completions messages, shared by the scripted server and the agent runtime."""

from __future__ import annotations

import json
from typing import Any


def message_text(content: Any) -> str:
    """The text of a message's ``content``: a string, or the ``text`` of its parts when it is a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def as_arguments(value: Any) -> dict[str, Any]:
    """Tool-call arguments as a dict, whether they were stored as an object or as a JSON string (``{}`` otherwise)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
