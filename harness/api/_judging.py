"""Judges as the API uses them: which rubric a name or path means, where judge calls go (the configured endpoint,
cassettes, or the scripted server in-process), and the one client a judging pass shares."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from harness.config import Settings
from harness.errors import ConfigError

if TYPE_CHECKING:  # judges (jinja2 templates) load only when a rubric is used
    from harness.scorers import ScoreContext
    from harness.scorers.judges import JudgeEndpoint, PairwiseJudge, PairwiseResult, Rubric
    from harness.scorers.judges._call import JudgeRecordMode

T = TypeVar("T")


def resolve_rubric(rubric: str | Path, settings: Settings, kind: str) -> Rubric:
    """The rubric a command-line value means: a file (``.md``, relative to the project root when not found here) or
    a name under ``rubrics/``; a rubric of the other kind (pointwise / pairwise) is a ConfigError."""
    from harness.scorers.judges import find_rubric, load_rubric

    path = Path(rubric)
    if path.suffix == ".md" or path.exists():
        loaded = load_rubric(path if path.is_absolute() or path.exists() else settings.root / path)
    else:
        loaded = find_rubric(str(rubric), settings.root / "rubrics")
    if loaded.kind != kind:
        use = (
            "pairwise judging needs one with 'kind: pairwise' (e.g. rubrics/support/pairwise-helpfulness.md)"
            if kind == "pairwise"
            else "judge two variants with it: `agenteval judge pairwise`"
        )
        raise ConfigError(f"{loaded.path}: rubric {loaded.name} is {loaded.kind}; {use}.")
    return loaded


def judge_endpoint(
    settings: Settings, record_mode: str | None = None, base_url: str | None = None, *, during_run: bool = False
) -> JudgeEndpoint:
    """Where judges call, and how their calls are recorded.

    During a run (``agenteval run``, the pytest plugin) judges use the run's endpoint and record mode. Otherwise they
    use ``base_url`` or the settings' endpoint under the project's record mode, or, with no endpoint, the scripted
    server, where nothing is recorded unless asked (it is local and deterministic).
    """
    from harness.api._run import _cassette_dir
    from harness.scorers.judges import JudgeEndpoint

    url = base_url if during_run else base_url or settings.base_url
    default = settings.record_mode if during_run or url is not None else "off"
    return JudgeEndpoint(
        base_url=url,
        cassette_dir=_cassette_dir(settings),
        record_mode=judge_mode(record_mode or default),
        replay_ignore=tuple(settings.replay_ignore),
    )


async def with_judge_client(endpoint: JudgeEndpoint, work: Awaitable[T]) -> T:
    """One openai client for every judge call of the pass, made inside the loop that uses it."""
    from harness.agent._model import make_client

    endpoint.client = make_client(endpoint.url, endpoint.api_key, endpoint.limits.model_timeout_s)
    try:
        return await work
    finally:
        await endpoint.client.close()
        endpoint.client = None


def judge_mode(value: str) -> JudgeRecordMode:
    if value not in ("off", "replay", "record", "rerecord"):
        raise ConfigError(f"Unknown record mode '{value}'. Valid: replay, record, rerecord, off.")
    return value  # type: ignore[return-value]


@contextlib.contextmanager
def serving_judges(settings: Settings, endpoint: JudgeEndpoint, scripted: bool | None = None) -> Iterator[str]:
    """Serve the scripted model in-process when there is no endpoint; block the network while replaying.

    Yields a description of where judge calls go. ``scripted`` defaults to: no endpoint and not replaying.
    """
    if scripted is None:
        scripted = endpoint.base_url is None and endpoint.record_mode != "replay"
    if endpoint.record_mode == "replay":
        from harness.replay._block import network_blocked

        with network_blocked():
            yield f"cassettes ({endpoint.cassette_dir})"
        return
    if not scripted:
        yield endpoint.base_url or "the provider's default endpoint"
        return
    from harness.mockllm import MockLLMServer

    with MockLLMServer(settings.scenario_source) as server:
        endpoint.base_url = server.base_url
        yield f"scripted server in-process (scenario {settings.scenario})"


async def judge_pairs(
    judge: PairwiseJudge, pairs: Sequence[tuple[ScoreContext, ScoreContext]], concurrency: int
) -> list[PairwiseResult]:
    """Judge every pair in both orders, ``concurrency`` pairs at a time (inside :func:`with_judge_client`)."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(a: ScoreContext, b: ScoreContext) -> PairwiseResult:
        async with gate:
            return await judge.judge(a, b)

    return list(await asyncio.gather(*(one(a, b) for a, b in pairs)))
