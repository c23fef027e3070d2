"""Eval sessions: one case at a time, for the pytest plugin (``pytest_agenteval``), with the machinery of
``agenteval run``.

A pytest session is one eval run. Each test runs one case × variant through the runner (same run ids, cassettes,
strict replay and tracing as ``agenteval run``), scores the stored run and returns an :class:`EvalResult`. Under
pytest-xdist every worker holds its own session over its own shard file (DuckDB allows one writer per file) with the
controller's eval run id; the controller merges the shards at the end (:func:`finish_eval_session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.api._eval_result import EvalItem, EvalResult
from harness.api._run import _cassette_dir, _openai_environment
from harness.config import Settings, load_settings
from harness.errors import ConfigError
from harness.models.cases import Case, DatasetRef, Variant
from harness.models.scores import ScoreRecord
from harness.models.traces import FINISHED_OK, RunTrace

if TYPE_CHECKING:
    from harness.agent.under_test import AgentUnderTest
    from harness.datasets import LoadedDataset
    from harness.mockllm import MockLLMServer
    from harness.runner import ClientPool, EvalRequest, TraceWriter
    from harness.runner.plan import PlannedRun
    from harness.scorers import Scorer

CONFIG_KEYS = frozenset(
    {
        "agent",
        "base_url",
        "scenario",
        "record_mode",
        "timeout_s",
        "replay_ignore",
        "prices",
        "variants",
        "default_variants",
    }
)
"""Settings a test may override through the ``agenteval_config`` fixture."""
T = TypeVar("T")


def shard_path(db: Path, worker: str) -> Path:
    """The trace shard of an xdist worker: ``<db stem>.<worker>.duckdb`` next to the store."""
    return db.with_name(f"{db.stem}.{worker}{db.suffix or '.duckdb'}")


@dataclass
class EvalSession:
    """One eval run driven case by case (one per pytest session, or per xdist worker).

    Args:
        eval_run_id: The eval run every run belongs to (xdist workers share the controller's).
        db: The trace store (default: the settings').
        worker: The xdist worker id: the session then writes to the worker's shard next to ``db``.
        overrides: Settings that beat a test's ``config`` (the plugin's command-line options).
        defaults: Settings a test's ``config`` beats (the plugin's ini values).
        start: Where to look for the project's pyproject.toml (default: the working directory).
    """

    eval_run_id: str
    db: Path | None = None
    worker: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    start: Path | None = None
    _settings: dict[str, Settings] = field(default_factory=dict)
    _datasets: dict[str, LoadedDataset] = field(default_factory=dict)
    _agents: dict[str, AgentUnderTest] = field(default_factory=dict)
    _servers: dict[str, MockLLMServer] = field(default_factory=dict)
    _used: dict[str, DatasetRef] = field(default_factory=dict)
    _variants: dict[str, Variant] = field(default_factory=dict)
    _agent_specs: set[str] = field(default_factory=set)
    _run_ids: set[str] = field(default_factory=set)
    _epochs: int = 1
    _results: dict[tuple[EvalItem, str, tuple[str, ...]], EvalResult] = field(default_factory=dict)
    _started_ns: int = field(default_factory=time.time_ns)
    _resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _loop: asyncio.Runner | None = None
    _clients: ClientPool | None = None
    _writer: TraceWriter | None = None

    def __post_init__(self) -> None:
        base = self.settings()
        self.final_db: Path = self.db.expanduser().resolve() if self.db is not None else base.store_path
        self.store_path: Path = self.final_db if self.worker is None else shard_path(self.final_db, self.worker)
        if self.worker is not None:
            self.store_path.unlink(missing_ok=True)  # a shard left by an interrupted session is not this run's

    def settings(self, config: Mapping[str, Any] | None = None) -> Settings:
        """The project's settings with the session's overrides, then a test's ``config`` (cached).

        Raises:
            ConfigError: an unknown key in ``config``, or an invalid value.
        """
        config = dict(config or {})
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            raise ConfigError(
                f"agenteval_config: unknown setting(s) {', '.join(unknown)}. Valid: {', '.join(sorted(CONFIG_KEYS))}."
            )
        merged = {
            **{k: v for k, v in self.defaults.items() if v is not None},
            **config,
            **{k: v for k, v in self.overrides.items() if v is not None},
        }
        key = json.dumps(merged, sort_keys=True, default=str)
        if key not in self._settings:
            self._settings[key] = load_settings(self.start, overrides=merged)
        return self._settings[key]

    def items(
        self,
        dataset: str,
        *,
        variants: str | Sequence[str] | None = None,
        filters: str | Sequence[str] | None = None,
        limit: int | None = None,
        epochs: int | None = None,
    ) -> list[EvalItem]:
        """The tests of a dataset: its cases (after ``filters`` and ``limit``) × the variants (default: the
        settings' default variants) × ``epochs`` (default: the settings').

        Raises:
            DatasetError: the dataset cannot be found or read (with file:line).
            ConfigError: an unknown variant, or nothing left after the filters.
        """
        from harness.datasets import filter_cases

        settings = self.settings()
        names = [variants] if isinstance(variants, str) else list(variants) if variants else None
        chosen = settings.pick_variants(names)
        wanted = [filters] if isinstance(filters, str) else list(filters or [])
        items: list[EvalItem] = []
        for loaded in self._load(dataset, settings):
            name, path = loaded.dataset.name, str(loaded.path)
            for case in filter_cases(loaded.dataset.cases, wanted, limit):
                for epoch in range(1, (epochs or settings.epochs) + 1):
                    items += [EvalItem(name, path, case.id, variant.name, epoch) for variant in chosen]
        if not items:
            raise ConfigError(f"Dataset {dataset!r}: no case left after the filters {wanted} (limit {limit}).")
        return items

    def case(self, item: EvalItem) -> Case:
        """The case of an item."""
        loaded = self._datasets[item.path]
        for case in loaded.dataset.cases:
            if case.id == item.case_id:
                return case
        raise ConfigError(f"Dataset {item.dataset} ({item.path}) has no case {item.case_id!r}.")

    def agent(self, item: EvalItem | None = None, config: Mapping[str, Any] | None = None) -> AgentUnderTest:
        """The agent under test: the config's ``agent``, else the dataset's, else the settings'."""
        return self._agent_for(self._agent_spec(item, config), self.settings(config).root)

    def run(
        self,
        item: EvalItem,
        *,
        config: Mapping[str, Any] | None = None,
        scorers: Sequence[str] | None = None,
    ) -> EvalResult:
        """Run one case × variant, store the run, score it and return the result.

        Args:
            item: What to run.
            config: A test's setting overrides (the ``agenteval_config`` fixture).
            scorers: Only these scorers (built-in names or ``module:attribute``); default: every scorer the case
                asks for, judges of its rubrics included.
        """
        from harness.runner import EvalRequest, plan_one
        from harness.scorers import resolve_scorers

        settings = self.settings(config)
        # A case × variant × epoch is one run of the eval run (its id is derived from them): tests that look at the
        # same case with the same settings share that run instead of running it again.
        key = (item, json.dumps(config or {}, sort_keys=True, default=str), tuple(scorers or ()))
        if key in self._results:
            return self._results[key]
        case = self.case(item)
        variant = settings.pick_variants([item.variant])[0]
        spec = self._agent_spec(item, config)
        agent = self._agent_for(spec, settings.root)
        loaded = self._datasets[item.path]
        self._used.setdefault(
            loaded.dataset.name,
            DatasetRef(name=loaded.dataset.name, path=item.path, sha256=loaded.sha256, cases=len(loaded.dataset.cases)),
        )
        self._variants.setdefault(variant.name, variant)
        self._agent_specs.add(spec)
        chosen = resolve_scorers(list(scorers)) if scorers else None
        mode = settings.record_mode
        request = EvalRequest(
            agent=agent,
            agent_spec=spec,
            datasets=[],
            variants=[variant],
            store=self._open_writer().store,
            concurrency=1,
            timeout_s=settings.timeout_s,
            eval_run_id=self.eval_run_id,
            root=settings.root,
            prices=dict(settings.prices),
            record_mode=None if mode == "off" else mode,
            cassette_dir=_cassette_dir(settings),
            replay_ignore=tuple(settings.replay_ignore),
        )
        planned = plan_one(self.eval_run_id, item.dataset, case, variant, item.epoch)
        replaying = mode == "replay"
        request.base_url = self._base_url(settings, replaying)
        with _openai_environment(request.base_url), _blocked_network(replaying):
            trace, rows = self._run_async(self._run_and_score(request, planned, case, settings, chosen))
        self._run_ids.add(trace.run.run_id)
        self._epochs = max(self._epochs, item.epoch)
        self._results[key] = self._result(item, case, trace, rows)
        return self._results[key]

    async def _run_and_score(
        self,
        request: EvalRequest,
        planned: PlannedRun,
        case: Case,
        settings: Settings,
        chosen: Sequence[Scorer] | None,
    ) -> tuple[RunTrace, list[ScoreRecord]]:
        from harness.api._judging import with_judge_client
        from harness.api._score import judges_for_cases
        from harness.runner import run_single
        from harness.scorers import ScoreContext, builtin_scorers_for, new_scoring_id, score_runs

        writer = self._open_writer()
        # Scored from the trace exactly as the writer stores it (labelled, redacted); a later `agenteval score`
        # re-scores the stored copy.
        trace = await run_single(request, planned, writer, self._clients)
        ctx = ScoreContext(trace=trace, case=case, prices=dict(settings.prices))
        scoring_id = new_scoring_id()
        if chosen is not None:
            rows = await score_runs([ctx], chosen, scoring_id=scoring_id, every_case=True)
        else:
            judges, endpoint = judges_for_cases([case], settings, request.base_url)
            scorers = [*builtin_scorers_for(case), *judges]
            rows = []
            if scorers:
                work = score_runs([ctx], scorers, scoring_id=scoring_id)
                rows = await (with_judge_client(endpoint, work) if endpoint is not None else work)
        writer.write_scores(rows)
        return trace, rows

    def judge(self, result: EvalResult, rubric: str, *, config: Mapping[str, Any] | None = None) -> ScoreRecord:
        """Judge a stored run with a pointwise rubric (a file, or a name under ``rubrics/``); the score is stored.

        The judge calls the run's endpoint under the session's record mode, so it replays from cassettes too.
        """
        from harness.api._judging import judge_endpoint, with_judge_client
        from harness.api._score import rubric_judge
        from harness.scorers import ScoreContext, new_scoring_id, score_runs

        settings = self.settings(config)
        judge = rubric_judge(rubric, settings)
        replaying = settings.record_mode == "replay"
        base_url = self._base_url(settings, replaying)
        endpoint = judge_endpoint(settings, base_url=base_url, during_run=True)
        judge.endpoint = endpoint
        ctx = ScoreContext(trace=result.trace, case=result.case, prices=dict(settings.prices))
        work = score_runs([ctx], [judge], scoring_id=new_scoring_id(), every_case=True)
        with _blocked_network(replaying):
            [row] = self._run_async(with_judge_client(endpoint, work))
        self._open_writer().write_scores([row])
        return row

    def close(self) -> int:
        """Flush the writer, write the eval run's row (what this session ran), release the event loop and the
        scripted servers; return the runs made. The store is closed afterwards: the controller merges it next."""
        if self._loop is not None and self._clients is not None:
            self._loop.run(self._clients.close())
        self._loop = self._clients = None
        self._resources.close()
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        writer, self._writer = self._writer, None
        if writer is None:
            return 0
        writer.close()  # raises what a write failed with
        if not self._run_ids:
            return 0
        from harness import __version__
        from harness.models.evals import EvalRunRecord
        from harness.runner import git_state

        settings = self.settings()
        commit, dirty = git_state(settings.root)
        record = EvalRunRecord(
            eval_run_id=self.eval_run_id,
            status="completed",
            started_ns=self._started_ns,
            finished_ns=time.time_ns(),
            agent=", ".join(sorted(self._agent_specs)),
            datasets=sorted(self._used.values(), key=lambda d: d.name),
            variants=sorted(self._variants.values(), key=lambda v: v.name),
            epochs=self._epochs,
            planned=len(self._run_ids),
            git_commit=commit,
            git_dirty=dirty,
            metadata={"agenteval": __version__, "source": "pytest", "worker": self.worker},
        )
        writer.store.write_eval_run(record)
        return len(self._run_ids)

    def _open_writer(self) -> TraceWriter:
        """The session's writer thread, which owns the store until :meth:`close` and writes in batches (a write costs
        some tens of milliseconds whatever its size; the file is this worker's shard, or the session's store)."""
        if self._writer is None:
            from harness.runner import TraceWriter
            from harness.traces import TraceStore

            self._writer = TraceWriter(TraceStore(self.store_path)).start()
        return self._writer

    def _run_async(self, work: Coroutine[Any, Any, T]) -> T:
        """Run on the session's event loop: one loop for every test, so the openai clients are made once."""
        if self._loop is None:
            from harness.runner import ClientPool

            self._loop = asyncio.Runner()
            self._resources.callback(self._loop.close)
            self._clients = ClientPool()
        return self._loop.run(work)

    def _load(self, dataset: str, settings: Settings) -> list[LoadedDataset]:
        """The dataset files a name, file or folder stands for (relative to the project root, else a name under
        ``datasets/``), loaded once per session."""
        from harness.datasets import load_dataset, resolve_datasets

        root = settings.root / "datasets"
        candidate = settings.root / dataset
        loaded = []
        for path in resolve_datasets([str(candidate) if candidate.exists() else dataset], root=root):
            key = str(path)
            if key not in self._datasets:
                self._datasets[key] = load_dataset(path, root=root)
            loaded.append(self._datasets[key])
        return loaded

    def _agent_spec(self, item: EvalItem | None, config: Mapping[str, Any] | None) -> str:
        if config and config.get("agent"):
            return str(config["agent"])
        if item is not None and item.path in self._datasets:
            return self._datasets[item.path].dataset.agent
        return self.settings(config).agent

    def _agent_for(self, spec: str, root: Path) -> AgentUnderTest:
        """The agent under test for a spec, made once; ``module:function`` is imported from the project root."""
        if spec not in self._agents:
            from harness.agent.adapters import make_agent_under_test

            self._agents[spec] = make_agent_under_test(spec, root=root)
        return self._agents[spec]

    def _base_url(self, settings: Settings, replaying: bool) -> str:
        """Where model calls go: the configured endpoint; else, replaying, nowhere (the network is blocked and
        cassettes answer); else the session's scripted server."""
        if settings.base_url:
            return settings.base_url
        if not replaying:
            return self._server(settings).base_url
        from harness.replay._block import REPLAY_BASE_URL  # the replay machinery is loaded for replaying only

        return REPLAY_BASE_URL

    def _server(self, settings: Settings) -> MockLLMServer:
        """The scripted model server for the settings' scenario, started once per session."""
        from harness.mockllm import MockLLMServer

        scenario = settings.scenario_source
        key = str(scenario)
        if key not in self._servers:
            self._servers[key] = MockLLMServer(scenario).start()
        return self._servers[key]

    def _result(self, item: EvalItem, case: Case, trace: RunTrace, rows: list[ScoreRecord]) -> EvalResult:
        run = trace.run
        failed = [r for r in rows if r.passed is not True]
        failures = [f"{r.scorer}: {r.explanation or r.error_message or r.error_type or 'failed'}" for r in failed]
        status_ok = run.status in FINISHED_OK or run.status in case.expected.status
        if not status_ok:
            detail = run.status_detail or run.error_message or ""
            failures.insert(0, f"run {run.status}: {detail}" if detail else f"run {run.status}")
        passed = status_ok and not failed
        # Cassette messages name the CLI's option; a test is recorded with the plugin's.
        failures = [f.replace("agenteval run --record-mode", "pytest --agenteval-record-mode") for f in failures]
        db = self.final_db
        default = self.settings().root / ".agenteval" / "traces.duckdb"
        command = f"agenteval replay {run.run_id}" + ("" if db == default else f" --db {_shown(db)}")
        return EvalResult(
            dataset=item.dataset,
            case=case,
            variant=item.variant,
            trace=trace,
            scores=rows,
            passed=passed,
            failures=failures,
            replay_command=command,
        )


def _blocked_network(blocked: bool) -> contextlib.AbstractContextManager[None]:
    """Every socket connection refused inside the block (replay: nothing may leave the process), or nothing."""
    if not blocked:
        return contextlib.nullcontext()
    from harness.replay._block import network_blocked

    return network_blocked()


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass
class SessionOutcome:
    """What the end of a pytest session found: the runs merged from the workers' shards and the eval run."""

    eval_run_id: str
    db: Path
    runs: int
    merged: dict[str, int] = field(default_factory=dict)
    shards: list[Path] = field(default_factory=list)


def finish_eval_session(
    eval_run_id: str, db: str | Path | None, workers: Sequence[str] = (), *, start: Path | None = None
) -> SessionOutcome | None:
    """At the end of a pytest session (the controller under xdist): merge the workers' shards into the store,
    delete them, and say what the eval run holds; ``None`` when the session ran no eval. ``start`` is where the
    sessions looked for the project's settings (the workers' store is the one they name).
    """
    from harness.traces import TraceStore

    settings = load_settings(start, overrides={"db": None if db is None else Path(db).expanduser().resolve()})
    final = settings.store_path
    shards = [p for p in (shard_path(final, w) for w in sorted(workers)) if p.exists()]
    merged: dict[str, int] = {}
    if shards:
        final.parent.mkdir(parents=True, exist_ok=True)
        merged = TraceStore(final).merge(shards)
        for shard in shards:
            shard.unlink()
            Path(f"{shard}.wal").unlink(missing_ok=True)
    if not final.exists():
        return None
    store = TraceStore(final)
    runs = len(store.finished_keys(eval_run_id))
    if not runs:
        return None
    record = store.get_eval_run(eval_run_id)
    if record.planned != runs:
        # Two workers that ran the same case stored the same run id (derived from the case): merged once, counted once.
        store.write_eval_run(record.model_copy(update={"planned": runs}))
    return SessionOutcome(eval_run_id=eval_run_id, db=final, runs=runs, merged=merged, shards=shards)
