from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import FaultSpecError
from harness.mockllm.faults import FaultPlan, Schedule, load_faults, parse_faults, resolve_faults


def test_inline_spec_parses_kinds_parameters_and_schedules() -> None:
    faults = parse_faults("429:0.5@every 3, 500@first:2, drop@20% seed 7, timeout:4, malformed")
    assert [f.kind for f in faults] == ["rate_limit", "server_error", "drop", "timeout", "malformed_json"]
    assert faults[0].retry_after == 0.5
    assert faults[0].schedule.every == 3
    assert faults[1].schedule.first == 2
    assert (faults[2].schedule.percent, faults[2].schedule.seed) == (20, 7)
    assert faults[3].stall_seconds == 4
    assert faults[4].schedule == Schedule()


def test_schedules_pick_the_promised_requests() -> None:
    assert [n for n in range(1, 10) if Schedule(every=3).fires(n)] == [3, 6, 9]
    assert [n for n in range(1, 10) if Schedule(first=2).fires(n)] == [1, 2]
    assert all(Schedule().fires(n) for n in range(1, 10))
    hits = [n for n in range(1, 10_001) if Schedule(percent=20, seed=1).fires(n)]
    assert 1800 < len(hits) < 2200
    assert hits == [n for n in range(1, 10_001) if Schedule(percent=20, seed=1).fires(n)]  # reproducible
    assert hits != [n for n in range(1, 10_001) if Schedule(percent=20, seed=2).fires(n)]  # seed matters


def test_plan_counts_requests_and_returns_first_hit() -> None:
    plan = FaultPlan(parse_faults("500@first 1, 429@every 2"))
    kinds = [getattr(plan.next_fault(), "kind", None) for _ in range(5)]
    assert kinds == ["server_error", "rate_limit", None, "rate_limit", None]


def test_header_faults_count_per_identical_request() -> None:
    plan = FaultPlan([])
    assert plan.fault_from_header("500@first 1", "body-a") is not None
    assert plan.fault_from_header("500@first 1", "body-a") is None  # the retry goes through
    assert plan.fault_from_header("500@first 1", "body-b") is not None  # another request is counted apart


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("42", "unknown fault kind '42'"),
        ("429@evry 3", "unknown schedule 'evry 3'"),
        ("drop:3", "takes no ':' parameter"),
        ("429:soon", "must be a number of seconds"),
        ("500@every 0", "greater than or equal to 1"),
    ],
)
def test_bad_inline_specs_say_what_and_how_to_fix(spec: str, expected: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(spec)
    message = str(caught.value)
    assert expected in message
    assert "--faults" in message
    assert "KIND[:SECONDS][@SCHEDULE]" in message


def test_fault_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - 429@every 3\n  - kind: drop\n    schedul: first 2\n")
    with pytest.raises(FaultSpecError) as caught:
        load_faults(path)
    message = str(caught.value)
    assert f"{path}:4:" in message
    assert "unknown key 'schedul'" in message
    assert "did you mean 'schedule'" in message


def test_fault_file_accepts_a_bare_list_and_mappings(tmp_path: Path) -> None:
    path = tmp_path / "faults.yml"
    path.write_text("- 503:0.1@first 1\n- {kind: timeout, seconds: 2, schedule: {every: 5}}\n")
    faults = resolve_faults(str(path))
    assert [(f.kind, f.retry_after, f.seconds) for f in faults] == [("unavailable", 0.1, None), ("timeout", None, 2)]
    bad = tmp_path / "bad.yml"
    bad.write_text("- 503\n- kind: nonsense\n")
    with pytest.raises(FaultSpecError, match=rf"{bad}:2:.*kind"):
        resolve_faults(str(bad))
