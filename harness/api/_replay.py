"""Replay a stored run offline, from its trace: what ``agenteval replay RUN_ID`` calls.

The trace keeps every model request and response, so it is a cassette: the model's answers come from it, and so do
the tools' results (a replayed refund never issues a refund). The stored trace is PII-redacted, and the replayed
conversation is built from those same redacted pieces, so each live request is redacted the same way before it is
matched (redaction is idempotent). The network is never used: a request the recording does not hold fails the
replay with a diff, which is where the replay diverged from the original.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from typing import Any

from harness.agent import ModelSettings, Redactor, Tool, ToolError
from harness.agent.reference import support_agent
from harness.errors import ConfigError
from harness.models import Record
from harness.models import semconv as sc
from harness.models.traces import RunTrace
from harness.replay import Interaction, RecordedRequest, RecordedResponse, Scrubber, canonical_json
from harness.replay._block import network_blocked
from harness.replay._router import CaseCassette, install_routing, using_cassette


class ReplayReport(Record):
    """A replay next to its original."""

    original: RunTrace
    """The stored run."""
    replay: RunTrace
    """The run re-executed offline."""
    matched: bool
    """Same model requests, same tool calls, same status and same final output."""
    divergence: str | None = None
    """Where and how the replay first departed from the original (a diff), when it did."""
    fork: dict[str, str] = {}
    """What a fork changed (``prompt_version``, ``model``); empty for a plain replay."""


class _RedactingScrubber(Scrubber):
    """Cassette scrubbing plus the trace's PII redaction, applied to live requests before matching."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def scrub_request(self, request: RecordedRequest) -> RecordedRequest:
        clean = super().scrub_request(request)
        if clean.json is None:
            return clean
        redacted, _ = self.redactor.value(clean.json)
        body = canonical_json(redacted).encode()
        return replace(clean, body=body, json=redacted)


def _interactions(trace: RunTrace, base_url: str) -> list[Interaction]:
    out = []
    for span in trace.spans:
        if span.operation != sc.OP_CHAT:
            continue
        request, response = span.attributes.get(sc.REQUEST_BODY), span.attributes.get(sc.RESPONSE_BODY)
        if not isinstance(request, dict) or not isinstance(response, dict):
            continue  # a call that failed has no response to replay
        body = canonical_json(request).encode()
        out.append(
            Interaction(
                request=RecordedRequest(
                    method="POST", uri=f"{base_url.rstrip('/')}/chat/completions", headers={}, body=body, json=request
                ),
                response=RecordedResponse(
                    status=200,
                    headers={"content-type": ["application/json"]},
                    body=json.dumps(response).encode(),
                    json=response,
                ),
            )
        )
    return out


def _recorded_tools(
    agent_tools: dict[str, Tool], trace: RunTrace, live_fallback: bool = False
) -> tuple[dict[str, Tool], list[str]]:
    """Tools that answer with what the original run's tools answered, call by call; nothing really runs.

    In a fork (``live_fallback``), a call the recording does not hold runs the real tool instead.
    """
    results: dict[str, list[tuple[str, str]]] = {}
    for span in trace.spans:
        if span.operation == sc.OP_EXECUTE_TOOL and span.attributes.get(sc.TOOL_OUTCOME) in ("ok", "error"):
            name = str(span.attributes.get(sc.TOOL_NAME))
            results.setdefault(name, []).append(
                (str(span.attributes.get(sc.TOOL_OUTCOME)), str(span.attributes.get(sc.TOOL_CALL_RESULT, "")))
            )
    problems: list[str] = []

    def recorded(tool: Tool) -> Tool:
        queue = results.get(tool.name, [])

        async def answer(args: Any, ctx: Any) -> str:
            if not queue:
                if live_fallback:
                    return await tool.invoke(args, ctx)
                problems.append(f"the replay called {tool.name} more often than the original run")
                raise ToolError(f"{tool.name}: this call is not in the recorded run")
            outcome, content = queue.pop(0)
            if outcome == "error":
                raise ToolError(content.removeprefix("Error: "))
            return content

        return replace(tool, fn=answer)

    return {name: recorded(tool) for name, tool in agent_tools.items()}, problems


def replay_run(
    run_id: str,
    *,
    db: Any,
    prompt_version: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
) -> ReplayReport:
    """Re-execute a stored run offline from its trace and compare it with the original.

    With ``prompt_version`` or ``model`` it is a fork ("what if"): recorded answers are used while the requests still
    match the recording; from the first request the change alters, calls go live to ``base_url`` (by default the
    scripted model, in-process), and tool calls the recording does not hold run for real.
    """
    from harness.traces import TraceStore

    store = TraceStore(db)
    original = store.get_trace(run_id)
    run = original.run
    if run.agent_name != "support":
        return _replay_case(store, original, prompt_version=prompt_version, model=model, base_url=base_url)
    chats = [s for s in original.spans if s.operation == sc.OP_CHAT]
    first = chats[0].attributes.get(sc.REQUEST_BODY) if chats else None
    if not isinstance(first, dict):
        raise ConfigError(f"Run {run.run_id[:12]} has no recorded model request to replay.")
    # A run without a base URL talked to the provider's default endpoint; its recordings carry that host.
    recorded_url = run.base_url or "https://api.openai.com/v1"
    redactor = Redactor()
    cassette = CaseCassette.from_interactions(_interactions(original, recorded_url), _RedactingScrubber(redactor))
    fork = {k: v for k, v in (("prompt_version", prompt_version), ("model", model)) if v}
    settings = ModelSettings(
        model=model or first.get("model", run.model),
        base_url=recorded_url,
        temperature=first.get("temperature"),
        top_p=first.get("top_p"),
        max_tokens=first.get("max_tokens"),
        seed=first.get("seed"),
    )
    agent = support_agent(prompt_version or run.prompt_version or "v1", model=settings, redactor=redactor)
    agent.tools, tool_problems = _recorded_tools(agent.tools, original, live_fallback=bool(fork))
    install_routing()  # the same per-case routing as `agenteval run`
    if not fork:
        with network_blocked():
            replayed = asyncio.run(_execute(agent, run.input, cassette))
        return _compare(original, replayed, cassette, tool_problems, fork)
    cassette.mode = "record"  # a fork: requests the recording does not hold go live (nothing is saved)
    if base_url is not None:
        agent.model = agent.model.model_copy(update={"base_url": base_url})
        return _compare(original, asyncio.run(_execute(agent, run.input, cassette)), cassette, [], fork)
    from harness.mockllm import MockLLMServer

    with MockLLMServer("support") as server:
        agent.model = agent.model.model_copy(update={"base_url": server.base_url})
        return _compare(original, asyncio.run(_execute(agent, run.input, cassette)), cassette, [], fork)


def _replay_case(
    store: Any, original: RunTrace, *, prompt_version: str | None, model: str | None, base_url: str | None
) -> ReplayReport:
    """Replay an eval run of another agent kind (a model offered tools, or a team's own ``module:function``): the
    case and variant come from the eval run's record and dataset file, the model's answers from the trace, and the
    results of the tools traced with ``@trace_tool`` from the trace too (they do not run)."""
    from harness.agent.adapters import make_agent_under_test
    from harness.agent.instrument import RecordedTools, replaying_tools
    from harness.agent.under_test import CaseJob
    from harness.runner.plan import seed_for

    run = original.run
    if run.eval_run_id is None or run.case_id is None or run.dataset is None:
        raise ConfigError(
            f"Run {run.run_id[:12]} of agent '{run.agent_name}' was not made by an eval run, so its case is unknown: "
            "replay from traces needs `agenteval run` (or the pytest plugin) runs, or the reference support agent."
        )
    from harness.config import load_settings

    settings = load_settings()
    record = store.get_eval_run(run.eval_run_id)
    if record.agent == "recorded":
        raise ConfigError(f"Run {run.run_id[:12]} was scored from a transcript: it made no call there is to replay.")
    case = _case_of(record, run.dataset, run.case_id)
    variant = next((v for v in record.variants if v.name == run.variant), None)
    if variant is None:
        raise ConfigError(f"Eval run {record.eval_run_id[:12]} has no variant '{run.variant}' for run {run.run_id}.")
    fork = {k: v for k, v in (("prompt_version", prompt_version), ("model", model)) if v}
    if fork:
        variant = variant.model_copy(update=fork)
    recorded_url = run.base_url or "https://api.openai.com/v1"
    redactor = Redactor()
    cassette = CaseCassette.from_interactions(_interactions(original, recorded_url), _RedactingScrubber(redactor))
    tools = RecordedTools.from_spans(original.spans)
    agent = make_agent_under_test(record.agent)
    install_routing()

    def job(url: str) -> CaseJob:
        return CaseJob(
            case=case,
            variant=variant,
            run_id=f"replay-{uuid.uuid4().hex[:20]}",
            epoch=run.epoch or 1,
            seed=seed_for(run.dataset or "", case.id, run.epoch or 1),
            base_url=url,
            timeout_s=settings.timeout_s,
        )

    async def execute(url: str) -> RunTrace:
        from harness.api._run import _openai_environment

        with _openai_environment(url), using_cassette(cassette), replaying_tools(tools):
            return await agent.run_case(job(url))

    if not fork:
        with network_blocked():
            replayed = asyncio.run(execute(recorded_url))
        return _compare(original, replayed, cassette, tools.problems, fork)
    cassette.mode = "record"  # a fork: requests the recording does not hold go live (nothing is saved)
    tools.live = True  # and tools the recording does not hold run for real
    if base_url is not None:
        return _compare(original, asyncio.run(execute(base_url)), cassette, [], fork)
    from harness.mockllm import MockLLMServer

    with MockLLMServer(settings.scenario_source) as server:
        return _compare(original, asyncio.run(execute(server.base_url)), cassette, [], fork)


def _case_of(record: Any, dataset: str, case_id: str) -> Any:
    """The case as the eval run ran it, from the dataset file its record names."""
    from pathlib import Path

    from harness.datasets import DatasetError, load_dataset

    ref = next((d for d in record.datasets if d.name == dataset), None)
    if ref is None or not Path(ref.path).exists():
        where = f" ({ref.path} is gone)" if ref is not None else ""
        raise ConfigError(
            f"The dataset '{dataset}' of eval run {record.eval_run_id[:12]} cannot be found{where}: replay needs its "
            "case. Run agenteval from the project the eval ran in."
        )
    try:
        loaded = load_dataset(ref.path)
    except DatasetError as exc:
        raise ConfigError(
            f"The dataset {ref.path} of eval run {record.eval_run_id[:12]} no longer loads: {exc}"
        ) from None
    case = next((c for c in loaded.dataset.cases if c.id == case_id), None)
    if case is None:
        raise ConfigError(f"The dataset {ref.path} no longer has the case '{case_id}' that run was made from.")
    return case


async def _execute(agent: Any, message: str, cassette: CaseCassette) -> RunTrace:
    with using_cassette(cassette):
        result = await agent.run_async(message, run_id=f"replay-{uuid.uuid4().hex[:20]}")
    return RunTrace(run=result.run, spans=result.spans)


def _compare(
    original: RunTrace, replayed: RunTrace, cassette: CaseCassette, tool_problems: list[str], fork: dict[str, str]
) -> ReplayReport:
    run = original.run
    problems = [*cassette.finish(), *tool_problems]
    divergence = None
    chats = [s for s in replayed.spans if s.operation == sc.OP_CHAT]
    # The reference runtime ends its run on a miss; a team's agent sees an exception it may handle or not: either
    # way the chat span that missed says so.
    missed = next((i for i, s in enumerate(chats, 1) if s.attributes.get(sc.ERROR_TYPE) == "cassette_miss"), None)
    if replayed.run.error_type == "cassette_miss":
        divergence = f"model call {len(chats)}: {replayed.run.error_message}"
    elif missed is not None:
        divergence = f"model call {missed}: {chats[missed - 1].status_message}"
    elif fork and cassette.index.unplayed:
        first_live = 1 + len(cassette.recorded) - len(cassette.index.unplayed)
        divergence = (
            f"the fork's requests depart from the recording at model call {first_live}; it went live from there"
        )
    elif problems:
        divergence = "; ".join(problems)
    elif (replayed.run.status, replayed.run.output_text) != (run.status, run.output_text):
        divergence = (
            f"the outcome differs: status {run.status} → {replayed.run.status}; "
            f"answer {run.output_text!r} → {replayed.run.output_text!r}"
        )
    return ReplayReport(
        original=original, replay=replayed, matched=divergence is None, divergence=divergence, fork=fork
    )


def cassette_from_trace(run_id: str, *, db: Any, out: Any = None) -> Any:
    """Write a cassette of a stored run's model calls (``cassettes/from-trace/<run id>.yaml`` by default), so that a
    production failure becomes a test. Returns the path written."""
    from pathlib import Path

    from harness.replay import Cassette, save_cassette
    from harness.traces import TraceStore

    trace = TraceStore(db).get_trace(run_id)
    interactions = _interactions(trace, trace.run.base_url or "http://recorded.invalid/v1")
    if not interactions:
        raise ConfigError(f"Run {trace.run.run_id[:12]} has no recorded model call with a response to write.")
    path = Path(out) if out is not None else Path("cassettes") / "from-trace" / f"{trace.run.run_id}.yaml"
    save_cassette(Scrubber().scrub_cassette(Cassette(version=1, interactions=interactions)), path)
    return path
