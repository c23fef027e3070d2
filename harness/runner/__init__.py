"""The eval runner: cases × variants × epochs through an agent under test, every run stored as a trace.

See :func:`run_eval`. Resuming re-plans the same runs (run ids are derived from the eval run id, dataset, case,
variant and epoch) and executes only those without a finished run, so an interrupted eval run ends with exactly one
run per case × variant × epoch.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness import __version__
from harness.agent.under_test import AgentUnderTest
from harness.errors import ConfigError
from harness.models.cases import Case, DatasetRef, Variant
from harness.models.evals import EvalRunRecord
from harness.models.traces import RunTrace
from harness.runner._writer import TraceWriter
from harness.runner.execute import ClientPool, ExecutionSettings, Progress, ProgressCallback, execute
from harness.runner.plan import PlannedRun, new_eval_run_id, parse_shard, plan_runs, run_id_for, seed_for
from harness.runner.summary import EvalSummary, SummaryRow, is_compromised, summarize
from harness.traces import TraceStore

if TYPE_CHECKING:
    from harness.replay._router import RecordMode


@dataclass
class EvalRequest:
    """Everything one ``agenteval run`` needs, already loaded and validated."""

    agent: AgentUnderTest
    agent_spec: str
    datasets: list[tuple[DatasetRef, list[Case]]]
    variants: list[Variant]
    store: TraceStore
    epochs: int = 1
    concurrency: int = 8
    timeout_s: float = 120.0
    base_url: str | None = None
    shard: str | None = None
    filters: list[str] = field(default_factory=list)
    limit: int | None = None
    eval_run_id: str | None = None
    resume: EvalRunRecord | None = None
    root: Path = Path(".")
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    record_mode: RecordMode | None = None
    cassette_dir: Path = Path("cassettes")
    replay_ignore: tuple[str, ...] = ()


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout at ``root``, or (None, None) outside one."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10)
        return commit.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


async def run_eval(request: EvalRequest, on_progress: ProgressCallback | None = None) -> EvalSummary:
    """Execute an eval run (or the missing part of a resumed one) and return its summary."""
    started = time.perf_counter()
    shard = parse_shard(request.shard)
    refs = [ref for ref, _ in request.datasets]
    if request.resume is not None:
        record = request.resume
        eval_run_id = record.eval_run_id
        _check_unchanged(record, refs)
    else:
        commit, dirty = git_state(request.root)
        fingerprint: dict[str, object] | None = None
        if shard is not None and request.eval_run_id is None:
            fingerprint = {
                "commit": commit,
                "datasets": [r.sha256 for r in refs],
                "variants": [v.model_dump() for v in request.variants],
                "epochs": request.epochs,
                "filters": request.filters,
                "limit": request.limit,
                "total": shard[1],
            }
        eval_run_id = request.eval_run_id or new_eval_run_id(fingerprint)
        record = EvalRunRecord(
            eval_run_id=eval_run_id,
            started_ns=time.time_ns(),
            agent=request.agent_spec,
            datasets=refs,
            variants=request.variants,
            epochs=request.epochs,
            shard=request.shard,
            filters=request.filters,
            limit=request.limit,
            git_commit=commit,
            git_dirty=dirty,
            concurrency=request.concurrency,
            metadata={"agenteval": __version__, **request.metadata},
        )
    planned = plan_runs(
        eval_run_id, [(ref.name, cases) for ref, cases in request.datasets], request.variants, request.epochs, shard
    )
    record = record.model_copy(update={"planned": len(planned), "status": "running"})
    request.store.write_eval_run(record)
    done = request.store.finished_keys(eval_run_id) if request.resume is not None else set()
    todo = [p for p in planned if p.key not in done]
    writer = TraceWriter(request.store).start()
    settings = _execution_settings(request, eval_run_id)
    try:
        traces, lowest = await execute(todo, request.agent, writer, settings, on_progress)
    finally:
        writer.close()
    finished = record.model_copy(update={"status": "completed", "finished_ns": time.time_ns()})
    request.store.write_eval_run(finished)
    by_id = {t.run.run_id: t for t in traces}
    if done:
        # A resumed run's summary covers the whole eval run: read back what earlier invocations stored.
        by_id.update({t.run.run_id: t for t in _stored(request.store, [p for p in planned if p.key in done])})
    return EvalSummary(
        eval_run=finished,
        rows=summarize(planned, by_id),
        executed=len(todo),
        skipped=len(done),
        elapsed_s=round(time.perf_counter() - started, 3),
        lowest_concurrency=lowest,
    )


async def run_single(
    request: EvalRequest, planned: PlannedRun, writer: TraceWriter, clients: ClientPool | None = None
) -> RunTrace:
    """Execute one planned run of an eval run (``request.eval_run_id``) with the machinery of :func:`run_eval`
    (cassettes, timeout, failures as runs) and queue its trace on ``writer``, which the caller owns: the pytest plugin
    runs one case per test on one writer for the session (a store write costs ~30 ms; the writer batches them), and
    writes the eval run's row at the end of the session."""
    if request.eval_run_id is None:
        raise ConfigError("run_single needs the eval run id the run belongs to.")
    settings = _execution_settings(request, request.eval_run_id)
    traces, _ = await execute([planned], request.agent, writer, settings, clients=clients)
    return traces[0]


def plan_one(eval_run_id: str, dataset: str, case: Case, variant: Variant, epoch: int = 1) -> PlannedRun:
    """The planned run of one case × variant × epoch: the same run id and seed :func:`run_eval` would give it."""
    return PlannedRun(
        dataset,
        case,
        variant,
        epoch,
        run_id_for(eval_run_id, dataset, case.id, variant.name, epoch),
        seed_for(dataset, case.id, epoch),
    )


def _execution_settings(request: EvalRequest, eval_run_id: str) -> ExecutionSettings:
    return ExecutionSettings(
        eval_run_id=eval_run_id,
        agent_name=request.agent.name,
        concurrency=request.concurrency,
        timeout_s=request.timeout_s,
        base_url=request.base_url,
        prices=request.prices,
        record_mode=request.record_mode,
        cassette_dir=request.cassette_dir,
        replay_ignore=request.replay_ignore,
    )


def _stored(store: TraceStore, planned: list[PlannedRun]) -> list[RunTrace]:
    traces = []
    with store.session():
        for item in planned:
            traces.append(store.get_trace(item.run_id))
    return traces


def _check_unchanged(record: EvalRunRecord, refs: list[DatasetRef]) -> None:
    then = {d.name: d.sha256 for d in record.datasets}
    now = {d.name: d.sha256 for d in refs}
    changed = sorted(name for name in then if now.get(name) != then[name])
    if changed:
        raise ConfigError(
            f"Cannot resume eval run {record.eval_run_id}: dataset(s) {', '.join(changed)} changed since it started "
            "(file hash differs), so the resumed runs would not be comparable. Start a new eval run instead."
        )


__all__ = [
    "ClientPool",
    "EvalRequest",
    "EvalSummary",
    "Progress",
    "SummaryRow",
    "TraceWriter",
    "git_state",
    "is_compromised",
    "plan_one",
    "run_eval",
    "run_single",
    "summarize",
]
