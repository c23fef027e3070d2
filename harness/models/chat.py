"""Small facts about OpenAI chat-completions messages, shared by the scripted server and the agent runtime."""

from __future__ import annotations

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
