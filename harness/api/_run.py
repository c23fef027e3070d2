"""Eval runs: what ``agenteval run`` and ``agenteval merge`` call."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from harness.agent.under_test import AgentUnderTest
from harness.config import Settings, load_settings
from harness.errors import ConfigError
from harness.models.cases import Case, DatasetRef
from harness.runner import EvalRequest, EvalSummary, run_eval
from harness.runner.execute import ProgressCallback


def _absolute(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path).expanduser().resolve()


def run_evals(
    datasets: list[str] | None = None,
    *,
    variants: list[str] | None = None,
    epochs: int | None = None,
    concurrency: int | None = None,
    filters: list[str] | None = None,
    limit: int | None = None,
    shard: str | None = None,
    resume: str | None = None,
    eval_run_id: str | None = None,
    db: str | Path | None = None,
    base_url: str | None = None,
    scenario: str | None = None,
    timeout_s: float | None = None,
    agent: str | None = None,
    record_mode: str | None = None,
    score: bool = True,
    on_progress: ProgressCallback | None = None,
) -> EvalSummary:
    """Run datasets through the agent under test under each variant, storing every run; return the summary.

    Settings come from ``[tool.agenteval]`` (nearest pyproject.toml), ``AGENTEVAL_*`` variables, then these
    arguments. With ``resume``, the eval run's own datasets, variants, epochs, filters and shard are used and only
    the runs without a finished trace are executed. ``record_mode`` (replay, record, rerecord) routes every model
    call of a case through its cassette under ``cassettes/``. Raises a HarnessError (nothing runs) when a dataset,
    variant or setting is invalid. With ``score`` (the default), the stored runs are scored right after the run by
    every scorer their cases ask for (see ``agenteval score`` to re-score later).
    """
    from harness.datasets import DatasetError, check_tools, filter_cases, load_dataset, resolve_datasets
    from harness.traces import TraceStore

    settings = load_settings(
        overrides={
            "record_mode": record_mode,
            "agent": agent,
            "base_url": base_url,
            "scenario": scenario,
            "concurrency": concurrency,
            "epochs": epochs,
            "timeout_s": timeout_s,
            "db": _absolute(db),
        }
    )
    store = TraceStore(settings.store_path)
    record = store.get_eval_run(resume) if resume else None
    if record is not None:
        names: list[str] = [d.path for d in record.datasets]
        chosen = record.variants
        epochs_, filters_, limit_, shard_ = record.epochs, record.filters, record.limit, record.shard
    else:
        names = (
            [str(_absolute(d)) if Path(d).exists() else d for d in datasets]
            if datasets
            else [str(settings.root / d) if (settings.root / d).exists() else d for d in settings.datasets]
        )
        chosen = settings.pick_variants(variants)
        epochs_, filters_, limit_, shard_ = settings.epochs, list(filters or []), limit, shard

    root = settings.root / "datasets"
    try:
        loaded = [load_dataset(path, root=root) for path in resolve_datasets(names, root=root)]
    except DatasetError as exc:
        if not datasets and record is None and settings.source == "built-in defaults":
            hint = (
                f"{Path.cwd()}: no pyproject.toml with [tool.agenteval] here or above, so the default datasets "
                f"({', '.join(settings.datasets)}) were looked for. Run from your project's folder, add "
                "[tool.agenteval] to its pyproject.toml, or name the datasets: `agenteval run PATH...`."
            )
            raise DatasetError(exc.summary, [*exc.problems, hint]) from None
        raise
    agents = {item.dataset.agent for item in loaded}
    spec = record.agent if record is not None else (next(iter(agents)) if len(agents) == 1 else None)
    if spec is None:
        which = "; ".join(f"{item.path} is for '{item.dataset.agent}'" for item in loaded)
        raise ConfigError(
            f"The datasets are for different agents ({which}). Run each agent's datasets in its own "
            "`agenteval run`, naming them: `agenteval run PATH...`."
        )
    under_test = _agent(spec)
    problems: list[str] = []
    selected: list[tuple[DatasetRef, list[Case]]] = []
    for item in loaded:
        tools = under_test.tool_names(item.dataset)
        if tools is not None:
            problems += check_tools(item, tools)
        cases = filter_cases(item.dataset.cases, filters_, limit_)
        selected.append(
            (DatasetRef(name=item.dataset.name, path=str(item.path), sha256=item.sha256, cases=len(cases)), cases)
        )
    if problems:
        raise DatasetError("The datasets name tools the agent does not have; nothing was run.", problems)
    if not any(cases for _, cases in selected):
        raise ConfigError(
            "No case left to run after --filter/--limit/--shard. Check the filter expressions "
            "(tag:NAME, id:GLOB) with `agenteval datasets show NAME`."
        )

    mode = settings.record_mode
    request = EvalRequest(
        agent=under_test,
        agent_spec=spec,
        datasets=selected,
        variants=chosen,
        store=store,
        epochs=epochs_,
        concurrency=settings.concurrency,
        timeout_s=settings.timeout_s,
        base_url=settings.base_url,
        shard=shard_,
        filters=filters_,
        limit=limit_,
        eval_run_id=eval_run_id,
        resume=record,
        root=settings.root,
        prices=dict(settings.prices),
        record_mode=None if mode == "off" else mode,
        cassette_dir=_cassette_dir(settings),
        replay_ignore=tuple(settings.replay_ignore),
    )
    if mode == "replay":
        # No scripted server and no network: every answer comes from cassettes/, and any connection is an error.
        from harness.replay._block import REPLAY_BASE_URL, network_blocked

        # Recordings made against the in-process scripted server carry host 127.0.0.1 (the port is not matched).
        request.base_url = settings.base_url or REPLAY_BASE_URL
        with _openai_environment(request.base_url), network_blocked():
            return asyncio.run(_run_then_score(request, on_progress, settings, score))
    with _endpoint(settings, request):
        return asyncio.run(_run_then_score(request, on_progress, settings, score))


async def _run_then_score(
    request: EvalRequest, on_progress: ProgressCallback | None, settings: Settings, score: bool
) -> EvalSummary:
    """Run, then score the stored runs (in the same endpoint and network context: judges call models too).

    The store stays open in this process from the eval run's record to the end of rule-based scoring, so that each
    step attaches instead of loading the file again. Scoring with LLM judges, which can take minutes, lets go of it
    first: other processes can read the store meanwhile, as between any two writes.
    """
    with contextlib.ExitStack() as keeper:
        keeper.enter_context(request.store.kept_open())
        summary = await run_eval(request, on_progress)
        if not score:
            return summary
        from harness.api._judging import with_judge_client
        from harness.api._score import judges_for_cases, score_stored

        cases = {(ref.name, case.id): case for ref, selected in request.datasets for case in selected}
        # Judges of the rubrics cases name call the run's endpoint, under the run's record mode.
        judges, endpoint = judges_for_cases(cases.values(), settings, request.base_url)
        if endpoint is not None:
            keeper.close()
        scoring = score_stored(
            request.store,
            summary.eval_run,
            cases,
            prices=dict(settings.prices),
            extra_scorers=judges,
            only_unscored=True,
        )
        result = await (with_judge_client(endpoint, scoring) if endpoint is not None else scoring)
        return summary.model_copy(update={"scoring": result})


def _cassette_dir(settings: Settings) -> Path:
    """Where the project's cassettes live (a seam for tests that must not write into the repository)."""
    return settings.root / "cassettes"


def _agent(spec: str) -> AgentUnderTest:
    from harness.agent.adapters import make_agent_under_test

    return make_agent_under_test(spec)


@contextlib.contextmanager
def _endpoint(settings: Settings, request: EvalRequest) -> Iterator[None]:
    """Without a configured endpoint, serve the scripted model in-process for the duration of the run, and point
    the openai client's environment at it so that user agents built on ``openai.OpenAI()`` use it too."""
    if settings.base_url is not None:
        yield
        return
    from harness.mockllm import MockLLMServer

    with MockLLMServer(settings.scenario_source) as server, _openai_environment(server.base_url):
        request.base_url = server.base_url
        yield


@contextlib.contextmanager
def _openai_environment(base_url: str) -> Iterator[None]:
    """Point ``openai.OpenAI()`` (user agents build their own clients) at ``base_url`` for the run."""
    saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ.setdefault("OPENAI_API_KEY", "agenteval-mockllm")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def merge_shards(shards: list[str | Path], into: str | Path) -> dict[str, int]:
    """Copy the runs of shard stores into one store (rows per table copied)."""
    from harness.traces import TraceStore

    if not shards:
        raise ConfigError("Give the shard files to merge, e.g. `agenteval merge shard-*.duckdb --into all.duckdb`.")
    return TraceStore(into).merge(shards)
