"""Judge calls: n samples of one prompt, each with one repair retry, traced as chat spans and routed to a cassette.

A judge call is an LLM call like the agent's: it goes through :func:`harness.agent._model.call_model` (retries on
429, 5xx, timeouts only), is recorded as a ``chat`` span, and, with a record mode, answers from (or is recorded
into) its own cassette next to the judged run's, with the same modes as ``agenteval run``.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import openai

from harness.agent._model import ModelCallError, call_model, make_client, record_reply, start_chat_span
from harness.agent._tracing import OpenSpan, RunTracer, new_trace_id
from harness.agent.guards import Limits
from harness.models import semconv as sc
from harness.models.traces import Span
from harness.replay._block import REPLAY_BASE_URL
from harness.replay._router import CaseCassette, install_routing, using_cassette
from harness.scorers.judges._rubric import Rubric
from harness.scorers.judges._verdict import JudgeSample, VerdictError, parse_verdict

JudgeRecordMode = Literal["off", "replay", "record", "rerecord"]


class JudgeError(Exception):
    """No verdict: every sample's answer stayed invalid after its repair retry, a model call failed for good, or a
    replay has no (or an incomplete) cassette. The scoring engine records it as an error row (``error_type``
    ``JudgeError``) and the run's other scores still count; the pairwise judge records it on the pair."""

    def __init__(self, kind: str, message: str, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        """``invalid_verdict``, ``model_error``, ``cassette_missing`` or ``cassette_unplayed``."""
        self.metadata = metadata or {}
        """What was spent finding out (samples, tokens, spans), for callers that keep it."""


@dataclass
class JudgeEndpoint:
    """Where judge calls go and how they are recorded: built once per scoring pass (the API builds it from
    settings)."""

    base_url: str | None = None
    """OpenAI-compatible endpoint (``None``: the provider's, or :data:`REPLAY_BASE_URL` in replay mode)."""
    api_key: str | None = None
    """API key (``OPENAI_API_KEY`` otherwise; the scripted server needs none)."""
    default_model: str = "mock-gpt"
    """Judge model for rubrics that do not name one."""
    cassette_dir: Path | None = None
    """Cassettes root (the project's ``cassettes/``); ``None`` records nothing."""
    record_mode: JudgeRecordMode = "off"
    """``replay`` (strictly offline, from cassettes only), ``record`` (record what is missing), ``rerecord``
    (replace), ``off`` (live calls, nothing recorded)."""
    client: openai.AsyncOpenAI | None = None
    """A shared client (one per scoring pass saves a TLS setup per call), made inside the event loop that scores;
    by default one per judgement."""
    limits: Limits = field(default_factory=Limits)
    """Retries, backoff and the per-attempt timeout of judge calls."""
    replay_ignore: tuple[str, ...] = ()
    """Top-level request fields left out of cassette matching."""

    @property
    def url(self) -> str | None:
        """The endpoint judge calls are made to."""
        if self.base_url is None and self.record_mode == "replay":
            return REPLAY_BASE_URL
        return self.base_url


@dataclass(frozen=True)
class JudgePrompt:
    """One judge prompt: the two messages and the verdict's response format."""

    system: str
    user: str
    schema_name: str
    schema: dict[str, Any]
    answer_spec: str


@dataclass
class JudgeOutcome:
    """The samples of one judge prompt, and the trace of the calls."""

    model: str
    samples: list[JudgeSample]
    spans: list[Span]
    cassette: str | None = None

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens for s in self.samples)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.samples)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready details: model, tokens, every sample, the cassette, and the chat spans."""
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "samples": [s.model_dump(mode="json") for s in self.samples],
            "cassette": self.cassette,
            "trace_id": self.spans[0].trace_id if self.spans else None,
            "spans": [s.model_dump(mode="json") for s in self.spans],
        }


async def judge_samples(
    rubric: Rubric, prompts: list[JudgePrompt], endpoint: JudgeEndpoint, cassette: Path | None, label: str
) -> list[JudgeOutcome]:
    """Ask ``rubric.samples`` verdicts for each prompt (sample ``i`` with seed ``rubric.seed + i``), all through one
    cassette (a pairwise judgement's two orders share one).

    Raises:
        JudgeError: a replay without its cassette, or with interactions left unplayed.
    """
    model = rubric.model or endpoint.default_model
    recording = _cassette(endpoint, cassette)
    client = endpoint.client or make_client(endpoint.url, endpoint.api_key, endpoint.limits.model_timeout_s)
    tracers = [RunTracer(f"judge-{new_trace_id()[:16]}", new_trace_id()) for _ in prompts]
    roots = [
        tracer.start(
            f"{sc.OP_INVOKE_AGENT} judge:{rubric.name}",
            sc.OP_INVOKE_AGENT,
            {
                sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.AGENT_NAME: f"judge:{rubric.name}",
                sc.REQUEST_MODEL: model,
                "agenteval.judge.subject": label,
            },
        )
        for tracer in tracers
    ]
    try:
        with using_cassette(recording):
            samples = await asyncio.gather(
                *(
                    _sample(rubric, prompt, model, rubric.seed + i, endpoint, client, tracer, root)
                    for prompt, tracer, root in zip(prompts, tracers, roots, strict=True)
                    for i in range(rubric.samples)
                )
            )
    finally:
        if client is not endpoint.client:
            await client.close()
    outcomes = []
    where = str(cassette) if recording is not None else None
    for index, (tracer, root) in enumerate(zip(tracers, roots, strict=True)):
        own = list(samples[index * rubric.samples : (index + 1) * rubric.samples])
        tracer.end(root, "OK" if any(s.verdict for s in own) else "ERROR")
        outcomes.append(JudgeOutcome(model, own, tracer.ordered(), where))
    problems = recording.finish() if recording is not None else []
    if problems:
        raise JudgeError("cassette_unplayed", problems[0], outcomes[0].metadata())
    return outcomes


def _cassette(endpoint: JudgeEndpoint, path: Path | None) -> CaseCassette | None:
    if endpoint.record_mode == "off" or path is None:
        return None
    install_routing()
    if endpoint.record_mode == "replay" and not path.exists():
        raise JudgeError(
            "cassette_missing",
            f"no judge cassette at {path}: record it by scoring once with record mode 'record' "
            "(e.g. `agenteval score --record-mode record`, or AGENTEVAL_RECORD_MODE=record); replay never calls "
            "the judge model.",
        )
    return CaseCassette(path, endpoint.record_mode, ignore=endpoint.replay_ignore)


async def _sample(
    rubric: Rubric,
    prompt: JudgePrompt,
    model: str,
    seed: int,
    endpoint: JudgeEndpoint,
    client: openai.AsyncOpenAI,
    tracer: RunTracer,
    root: OpenSpan,
) -> JudgeSample:
    """One verdict: a call, and when its answer is not a valid verdict, one repair call that says why."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": prompt.user},
    ]
    request: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": rubric.temperature,
        "seed": seed,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": prompt.schema_name, "strict": True, "schema": prompt.schema},
        },
    }
    rng = random.Random(seed)
    tokens = [0, 0]
    for attempt in (1, 2):
        span = start_chat_span(tracer, root, request, endpoint.url, attempt)
        try:
            reply = await call_model(client, request, endpoint.limits, span, rng)
        except ModelCallError as exc:
            tracer.end(span, "ERROR", str(exc))
            error = f"judge model call failed after {exc.attempts} attempt(s): {exc.error_type}: {exc}"
            return JudgeSample(seed=seed, error=error, repaired=attempt > 1, calls=attempt, **_usage(tokens))
        record_reply(span, reply)
        usage = reply.completion.usage
        if usage is not None:
            tokens[0] += usage.prompt_tokens
            tokens[1] += usage.completion_tokens
        content = reply.completion.choices[0].message.content if reply.completion.choices else None
        try:
            verdict = parse_verdict(content, rubric)
        except VerdictError as exc:
            span.event("agenteval.judge.invalid_verdict", message=str(exc), attempt=attempt)
            tracer.end(span, "ERROR", f"invalid verdict: {exc}")
            if attempt == 2:
                error = f"invalid verdict after the repair retry: {exc}"
                return JudgeSample(seed=seed, error=error, repaired=True, calls=2, **_usage(tokens))
            request = {**request, "messages": [*messages, *_repair(content, str(exc), prompt.answer_spec)]}
            continue
        tracer.end(span)
        return JudgeSample(seed=seed, verdict=verdict, repaired=attempt > 1, calls=attempt, **_usage(tokens))
    raise AssertionError("unreachable")


def _repair(content: str | None, problem: str, spec: str) -> list[dict[str, Any]]:
    return [
        {"role": "assistant", "content": content or ""},
        {
            "role": "user",
            "content": f"That answer cannot be used: {problem}. Answer again with only the JSON object: {spec}",
        },
    ]


def _usage(tokens: list[int]) -> dict[str, int]:
    return {"input_tokens": tokens[0], "output_tokens": tokens[1]}
