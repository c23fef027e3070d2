"""Which runs a reader wants: a filter shared by listings, DataFrames and statistics."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import time
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError
from harness.models.traces import RUN_STATUSES

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


@dataclass(frozen=True)
class RunFilter:
    """Conditions on ``runs`` columns; ``None`` means any. Times are Unix nanoseconds on ``start_ns``."""

    status: str | None = None
    agent: str | None = None
    prompt_version: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in RUN_STATUSES:
            close = difflib.get_close_matches(self.status, RUN_STATUSES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"Unknown run status '{self.status}'{hint}. Valid statuses: {', '.join(RUN_STATUSES)}.")

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL condition on ``runs`` (``alias`` prefixes the columns, e.g. ``"r."``) and its parameters."""
        clauses = ["TRUE"]
        params: list[Any] = []
        for column, value, op in (
            ("status", self.status, "="),
            ("agent_name", self.agent, "="),
            ("prompt_version", self.prompt_version, "="),
            ("start_ns", self.since_ns, ">="),
            ("start_ns", self.until_ns, "<"),
        ):
            if value is not None:
                clauses.append(f"{alias}{column} {op} ?")
                params.append(value)
        return " AND ".join(clauses), params


def parse_since(text: str, now_ns: int | None = None) -> int:
    """Read a point in time given on the command line as Unix nanoseconds.

    Args:
        text: A duration back from now (``45s``, ``30m``, ``1h``, ``2d``, ``1w``) or an ISO 8601 date or date-time
            (``2026-03-01``, ``2026-03-01T14:30``, ``2026-03-01T14:30:00+02:00``); without an offset it is local time.
        now_ns: "Now", for durations (default: the clock).

    Raises:
        ConfigError: ``text`` is neither.
    """
    match = _RELATIVE.match(text)
    if match:
        now = time.time_ns() if now_ns is None else now_ns
        return now - int(float(match.group(1)) * _UNITS_S[match.group(2)] * 1_000_000_000)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"Cannot read the time '{text}'. Give a duration back from now (30m, 1h, 2d, 1w) "
            "or an ISO date or date-time (2026-03-01, 2026-03-01T14:30)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time, as the `traces list` table shows it
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
