from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base of every record: immutable, strict about unknown keys, field docstrings become descriptions."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def check_regex(value: str | None) -> str | None:
    """A validator body: the value if it compiles as a regular expression, else a ValueError that says why."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
    return value
