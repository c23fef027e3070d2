from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.models.cases import Case, Variant
from harness.runner.limiter import AdaptiveLimiter
from harness.runner.plan import parse_shard, plan_runs

CASES = [Case(id=f"c{i}", input=f"question {i}") for i in range(40)]
VARIANTS = [Variant(name="v1"), Variant(name="v2")]


def test_plan_is_cases_by_variants_by_epochs_with_stable_ids_and_paired_seeds() -> None:
    runs = plan_runs("E1", [("d", CASES)], VARIANTS, epochs=2)
    assert len(runs) == 40 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    assert [r.run_id for r in plan_runs("E1", [("d", CASES)], VARIANTS, 2)] == [r.run_id for r in runs]
    assert {r.run_id for r in plan_runs("E2", [("d", CASES)], VARIANTS, 2)}.isdisjoint({r.run_id for r in runs})
    by_key = {r.key: r for r in runs}
    assert by_key[("d", "c1", "v1", 1)].seed == by_key[("d", "c1", "v2", 1)].seed  # paired across variants
    assert by_key[("d", "c1", "v1", 1)].seed != by_key[("d", "c1", "v1", 2)].seed  # epochs differ


def test_shards_partition_the_cases_and_keep_a_case_together() -> None:
    shards = [plan_runs("E", [("d", CASES)], VARIANTS, 1, shard=(i, 3)) for i in (1, 2, 3)]
    keys = [r.key for shard in shards for r in shard]
    assert sorted(keys) == sorted(r.key for r in plan_runs("E", [("d", CASES)], VARIANTS, 1))
    for shard in shards:
        assert shard  # 40 cases over 3 shards: none empty
        cases = {r.case.id for r in shard}
        assert all({r.variant.name for r in shard if r.case.id == c} == {"v1", "v2"} for c in cases)


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1-3", "1/0"])
def test_bad_shard_specs(text: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(text)


def test_limiter_halves_on_rate_limits_and_recovers() -> None:
    limiter = AdaptiveLimiter(8)
    limiter.observe(rate_limited=True)
    limiter.observe(rate_limited=True)
    assert (limiter.limit, limiter.lowest) == (2, 2)
    for _ in range(2):
        limiter.observe(rate_limited=False)
    assert limiter.limit == 3
    for _ in range(100):
        limiter.observe(rate_limited=False)
    assert limiter.limit == 8
    assert limiter.lowest == 2


def test_dispatcher_never_exceeds_the_limit() -> None:
    import asyncio
    from typing import Any

    from harness.models.traces import RunRecord, RunTrace
    from harness.runner.execute import ExecutionSettings, execute

    active = 0
    peak = 0

    class Slow:
        name = "slow"

        def tool_names(self, dataset: Any) -> None:
            return None

        async def run_case(self, job: Any) -> RunTrace:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.002)
            active -= 1
            return RunTrace(
                run=RunRecord(
                    run_id=job.run_id,
                    trace_id="0" * 31 + "1",
                    agent_name="slow",
                    model="m",
                    start_ns=0,
                    end_ns=1,
                    input="x",
                    status="completed",
                ),
                spans=[],
            )

    class Sink:
        error = None

        def begin(self, run: Any) -> None: ...

        def finish(self, trace: Any) -> None: ...

    runs = plan_runs("E", [("d", CASES)], VARIANTS, 1)
    traces, lowest = asyncio.run(execute(runs, Slow(), Sink(), ExecutionSettings("E", "slow", 3, 10, None)))  # type: ignore[arg-type]
    assert len(traces) == 80
    assert peak == 3
    assert lowest == 3
