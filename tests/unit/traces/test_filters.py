from __future__ import annotations

import datetime as dt

import pytest

from harness.errors import ConfigError
from harness.traces import RunFilter, parse_since

NOW = 1_767_225_600_000_000_000
S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "seconds_back"),
    [("45s", 45), ("30m", 1800), ("1h", 3600), ("2d", 172_800), ("1w", 604_800), ("1.5h", 5400)],
)
def test_relative_times_count_back_from_now(text: str, seconds_back: int) -> None:
    assert parse_since(text, now_ns=NOW) == NOW - seconds_back * S


def test_iso_times_with_and_without_offset() -> None:
    assert parse_since("2026-01-01T00:00:00+00:00") == NOW
    assert parse_since("2026-01-01T01:00:00+01:00") == NOW
    local = dt.datetime(2026, 3, 1, 14, 30).astimezone()
    assert parse_since("2026-03-01T14:30") == int(local.timestamp()) * S
    assert parse_since("2026-03-01") == int(dt.datetime(2026, 3, 1).astimezone().timestamp()) * S


def test_unreadable_times_say_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match=r"'yesterday'.*30m, 1h, 2d.*2026-03-01"):
        parse_since("yesterday")


def test_run_filter_builds_parameterised_sql() -> None:
    where, params = RunFilter(status="completed", agent="support", since_ns=5).where("r.")
    assert where == "TRUE AND r.status = ? AND r.agent_name = ? AND r.start_ns >= ?"
    assert params == ["completed", "support", 5]
    with pytest.raises(ConfigError, match="Valid statuses: started, completed"):
        RunFilter(status="nope")
