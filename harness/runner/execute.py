"""Execute planned runs: bounded, adaptive concurrency, a timeout per case, progress, and a trace for every run.

A failure of the agent under test never loses a run: a timeout or an exception becomes a run with status
``timeout`` or ``error`` and is stored like any other.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import openai

from harness.agent._model import make_client
from harness.agent._tracing import new_span_id, new_trace_id
from harness.agent.redaction import Redactor
from harness.agent.under_test import AgentUnderTest, CaseJob
from harness.config import cassette_stem
from harness.errors import ConfigError
from harness.models import semconv as sc
from harness.models.traces import RunRecord, RunStatus, RunTrace, Span, SpanEvent, cost_usd
from harness.runner.limiter import AdaptiveLimiter
from harness.runner.plan import PlannedRun

if TYPE_CHECKING:
    from harness.replay._router import RecordMode

_REDACT = Redactor()


@dataclass
class Progress:
    """Where an eval run is; passed to the progress callback after every run."""

    total: int
    done: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    concurrency: int = 0
    started: float = field(default_factory=time.perf_counter)


ProgressCallback = Callable[[Progress], None]


class RunSink(Protocol):
    """Where executed runs go: the batching :class:`TraceWriter`, or a collector for one-off runs."""

    error: BaseException | None

    def begin(self, run: RunRecord) -> None: ...

    def finish(self, trace: RunTrace) -> None: ...


@dataclass(frozen=True)
class ExecutionSettings:
    """How to execute."""

    eval_run_id: str
    agent_name: str
    concurrency: int
    timeout_s: float
    base_url: str | None
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    """USD per million input and output tokens, by model."""
    record_mode: RecordMode | None = None
    """Cassettes: ``None`` (live calls, nothing recorded), ``replay``, ``record`` or ``rerecord``."""
    cassette_dir: Path = Path("cassettes")
    """Where cassettes live: ``<dir>/<dataset>/<variant>/<case>.e<epoch>.yaml``."""
    replay_ignore: tuple[str, ...] = ()
    """Top-level request fields ignored when matching."""


async def execute(
    runs: list[PlannedRun],
    agent: AgentUnderTest,
    writer: RunSink,
    settings: ExecutionSettings,
    on_progress: ProgressCallback | None = None,
    clients: ClientPool | None = None,
) -> tuple[list[RunTrace], int]:
    """Run everything; return the traces in plan order, and the lowest concurrency the backoff went down to.

    ``clients``: a pool the caller owns and closes (one event loop serving many calls, as in the pytest plugin);
    by default one for this call.
    """
    limiter = AdaptiveLimiter(settings.concurrency)
    owned = clients is None
    pool = clients if clients is not None else ClientPool()
    progress = Progress(total=len(runs), concurrency=limiter.limit)
    results: list[RunTrace | None] = [None] * len(runs)

    async def one(index: int, planned: PlannedRun) -> None:
        if writer.error is not None:
            raise writer.error
        writer.begin(_started(planned, settings))
        trace = _label(await _run_one(planned, agent, settings, pool), planned, settings)
        writer.finish(trace)
        results[index] = trace
        limiter.observe(_rate_limited(trace))
        _count(progress, trace, settings)
        progress.concurrency = limiter.limit
        if on_progress is not None:
            on_progress(progress)

    # A dispatcher starts a run only when a slot is free, so waiting costs nothing per queued run (thousands of
    # tasks parked on one condition would all wake up at every release).
    pending = list(enumerate(runs))
    pending.reverse()
    running: set[asyncio.Task[None]] = set()
    try:
        while pending or running:
            while pending and len(running) < limiter.limit:
                index, planned = pending.pop()
                running.add(asyncio.create_task(one(index, planned)))
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    finally:
        if owned:
            await pool.close()
    return [r for r in results if r is not None], limiter.lowest


class ClientPool:
    """One openai client per endpoint for the whole eval run (a client per case costs a TLS context each, ~30 ms).
    Its clients belong to the event loop that first used them."""

    def __init__(self) -> None:
        self._by_url: dict[str | None, openai.AsyncOpenAI] = {}

    def get(self, base_url: str | None) -> openai.AsyncOpenAI | None:
        if base_url not in self._by_url:
            try:
                self._by_url[base_url] = make_client(base_url)
            except ConfigError:
                return None  # no key for the default endpoint: the adapter reports it as the run's error
        return self._by_url[base_url]

    async def close(self) -> None:
        for client in self._by_url.values():
            await client.close()


async def _run_one(
    planned: PlannedRun, agent: AgentUnderTest, settings: ExecutionSettings, clients: ClientPool
) -> RunTrace:
    base_url = planned.variant.base_url or settings.base_url
    job = CaseJob(
        case=planned.case,
        variant=planned.variant,
        run_id=planned.run_id,
        epoch=planned.epoch,
        seed=planned.seed,
        base_url=base_url,
        timeout_s=settings.timeout_s,
        labels={"eval_run_id": settings.eval_run_id, "dataset": planned.dataset},
        client=clients.get(base_url),
    )
    started = time.time_ns()
    if settings.record_mode is not None:
        return await _run_with_cassette(planned, agent, settings, job, started)
    trace, _ = await _guarded(planned, agent, settings, job, started)
    return trace


async def _guarded(
    planned: PlannedRun, agent: AgentUnderTest, settings: ExecutionSettings, job: CaseJob, started: int
) -> tuple[RunTrace, bool]:
    """The agent's trace, or a failed run when it timed out or raised; and whether it ran to its own end."""
    try:
        return await asyncio.wait_for(agent.run_case(job), timeout=settings.timeout_s), True
    except TimeoutError:
        detail = f"case exceeded the {settings.timeout_s:g}s timeout"
        return _failed(planned, settings, started, "timeout", detail), False
    except Exception as exc:  # the adapter itself failed: still a run, with the traceback kept
        return _failed(planned, settings, started, "error", f"{type(exc).__name__}: {exc}", exc), False


def cassette_path(directory: Path, planned: PlannedRun) -> Path:
    """``<dir>/<dataset>/<variant>/<case>.e<epoch>.yaml``: one cassette per execution, stable and readable."""
    stem = cassette_stem(directory, planned.dataset, planned.variant.name, planned.case.id, planned.epoch)
    return stem.with_name(f"{stem.name}.yaml")


async def _run_with_cassette(
    planned: PlannedRun, agent: AgentUnderTest, settings: ExecutionSettings, job: CaseJob, started: int
) -> RunTrace:
    # Imported here: live runs (record mode off) never load the replay machinery.
    from harness.replay._router import CaseCassette, install_routing, using_cassette

    mode: RecordMode = settings.record_mode or "replay"
    # Every httpx2 client of the process (the runner's, and a user agent's own) answers from the case's cassette.
    install_routing()
    path = cassette_path(settings.cassette_dir, planned)
    if mode == "replay" and not path.exists():
        detail = (
            f"no cassette at {path}: record it with `agenteval run --record-mode record` (replay never calls the model)"
        )
        return _failed(planned, settings, started, "error", detail)
    cassette = CaseCassette(path, mode, ignore=settings.replay_ignore)
    with using_cassette(cassette):
        trace, finished = await _guarded(planned, agent, settings, job, started)
    if not finished:
        return trace  # nothing is saved from a run that did not end on its own
    problems = cassette.finish()
    if problems and trace.run.status in ("completed", "escalated", "awaiting_approval"):
        run = trace.run.model_copy(
            update={
                "status": "error",
                "status_detail": problems[0],
                "error_type": "cassette_unplayed",
                "error_message": problems[0],
            }
        )
        trace = RunTrace(run=run, spans=trace.spans)
    return trace


def _started(planned: PlannedRun, settings: ExecutionSettings) -> RunRecord:
    return RunRecord(
        run_id=planned.run_id,
        trace_id=new_trace_id(),
        kind="eval_case",
        agent_name=settings.agent_name,
        prompt_version=planned.variant.prompt_version,
        model=planned.variant.model or "default",
        base_url=planned.variant.base_url or settings.base_url,
        start_ns=time.time_ns(),
        input=_REDACT.text(planned.case.user_message)[0],
        eval_run_id=settings.eval_run_id,
        case_id=planned.case.id,
        variant=planned.variant.name,
        epoch=planned.epoch,
        dataset=planned.dataset,
        tags=list(planned.case.tags),
    )


def _label(trace: RunTrace, planned: PlannedRun, settings: ExecutionSettings) -> RunTrace:
    run = trace.run.model_copy(
        update={
            "run_id": planned.run_id,
            "kind": "eval_case",
            "eval_run_id": settings.eval_run_id,
            "case_id": planned.case.id,
            "variant": planned.variant.name,
            "epoch": planned.epoch,
            "dataset": planned.dataset,
            "tags": sorted({*trace.run.tags, *planned.case.tags}),
        }
    )
    spans = trace.spans
    if any(span.run_id != planned.run_id for span in spans):
        spans = [span.model_copy(update={"run_id": planned.run_id}) for span in spans]
    return RunTrace(run=run, spans=spans)


def _failed(
    planned: PlannedRun,
    settings: ExecutionSettings,
    started: int,
    status: RunStatus,
    detail: str,
    exc: BaseException | None = None,
) -> RunTrace:
    trace_id = new_trace_id()
    events = []
    if exc is not None:
        events.append(
            SpanEvent(
                name=sc.EVENT_EXCEPTION,
                time_ns=time.time_ns(),
                attributes={
                    "exception.type": type(exc).__name__,
                    "exception.message": str(exc),
                    "exception.stacktrace": "".join(traceback.format_exception(exc)),
                },
            )
        )
    root = Span(
        trace_id=trace_id,
        span_id=new_span_id(),
        run_id=planned.run_id,
        seq=0,
        name=f"{sc.OP_INVOKE_AGENT} {settings.agent_name}",
        operation=sc.OP_INVOKE_AGENT,
        start_ns=started,
        end_ns=time.time_ns(),
        status_code="ERROR",
        status_message=detail,
        attributes={sc.OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.AGENT_NAME: settings.agent_name, sc.RUN_STATUS: status},
        events=events,
    )
    record = _started(planned, settings).model_copy(
        update={
            "trace_id": trace_id,
            "status": status,
            "status_detail": detail,
            "start_ns": started,
            "end_ns": time.time_ns(),
            "error_type": type(exc).__name__ if exc else status,
            "error_message": _REDACT.text(str(exc))[0] if exc else detail,
        }
    )
    return RunTrace(run=record, spans=[root])


def _rate_limited(trace: RunTrace) -> bool:
    if trace.run.error_type == "rate_limit_exceeded":
        return True
    return any(
        event.name == sc.EVENT_RETRY and event.attributes.get(sc.HTTP_STATUS) == 429
        for span in trace.spans
        for event in span.events
    )


def _count(progress: Progress, trace: RunTrace, settings: ExecutionSettings) -> None:
    run = trace.run
    progress.done += 1
    progress.statuses[run.status] += 1
    progress.input_tokens += run.input_tokens
    progress.output_tokens += run.output_tokens
    cost = cost_usd(run.model, run.input_tokens, run.output_tokens, settings.prices)
    if cost is not None:
        progress.cost_usd += cost
