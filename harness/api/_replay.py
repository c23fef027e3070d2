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
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.agent import ModelSettings, Redactor, Tool, ToolError
from harness.agent.instrument import RecordedTools, ToolNotRecordedError
from harness.agent.reference import support_agent
from harness.errors import ConfigError
from harness.models import Record
from harness.models import semconv as sc
from harness.models.traces import RunTrace
from harness.replay import Interaction, RecordedRequest, RecordedResponse, Scrubber, canonical_json
from harness.replay._block import network_blocked
from harness.replay._router import CaseCassette, install_routing, using_cassette

if TYPE_CHECKING:
    from harness.config import Settings


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


def _recorded_tools(agent_tools: dict[str, Tool], recorded: RecordedTools) -> dict[str, Tool]:
    """The reference agent's tools answering from the recorded run, call by call; nothing really runs (in a fork, a
    call the recording does not hold runs the real tool)."""

    def recorded_tool(tool: Tool) -> Tool:
        async def answer(args: Any, ctx: Any) -> str:
            try:
                call = recorded.take(tool.name)
            except ToolNotRecordedError as exc:
                raise ToolError(str(exc)) from None
            if call is None:
                return await tool.invoke(args, ctx)
            outcome, content, _, _ = call
            if outcome == "error":
                raise ToolError(content.removeprefix("Error: "))
            return content

        return replace(tool, fn=answer)

    return {name: recorded_tool(tool) for name, tool in agent_tools.items()}


Execute = Callable[[str], Coroutine[Any, Any, RunTrace]]
"""Re-run the agent of a replay against a base URL (under the replay's cassette)."""


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

    The reference support agent replays from any run. Other agents (``tool-calling``, a team's ``module:function``)
    replay from eval runs, whose record names the case: see :func:`_case_replay`.
    """
    from harness.config import load_settings
    from harness.traces import TraceStore

    store = TraceStore(db)
    original = store.get_trace(run_id)
    run = original.run
    fork = {k: v for k, v in (("prompt_version", prompt_version), ("model", model)) if v}
    # A run without a base URL talked to the provider's default endpoint; its recordings carry that host.
    recorded_url = run.base_url or "https://api.openai.com/v1"
    redactor = Redactor()
    cassette = CaseCassette.from_interactions(_interactions(original, recorded_url), _RedactingScrubber(redactor))
    tools = RecordedTools.from_spans(original.spans)
    tools.live = bool(fork)
    notes: list[str] = []
    scenario: str | Path = "support"
    if run.agent_name == "support":
        execute = _support_replay(original, fork, redactor, tools, cassette)
    else:
        settings = load_settings()
        execute, notes = _case_replay(store, original, fork, settings, tools, cassette)
        scenario = settings.scenario_source
    install_routing()  # the same per-case routing as `agenteval run`
    report = _replayed(original, cassette, tools, fork, execute, recorded_url, base_url, scenario)
    if notes and report.divergence:
        return report.model_copy(update={"divergence": f"{report.divergence} (note: {'; '.join(notes)})"})
    return report


def _replayed(
    original: RunTrace,
    cassette: CaseCassette,
    tools: RecordedTools,
    fork: dict[str, str],
    execute: Execute,
    recorded_url: str,
    base_url: str | None,
    scenario: str | Path,
) -> ReplayReport:
    """Offline from the recording; or, for a fork, live from where the requests depart from it."""
    if not fork:
        with network_blocked():
            replayed = asyncio.run(execute(recorded_url))
        return _compare(original, replayed, cassette, tools.problems, fork)
    cassette.mode = "record"  # a fork: requests the recording does not hold go live (nothing is saved)
    if base_url is not None:
        return _compare(original, asyncio.run(execute(base_url)), cassette, [], fork)
    from harness.mockllm import MockLLMServer

    with MockLLMServer(scenario) as server:
        return _compare(original, asyncio.run(execute(server.base_url)), cassette, [], fork)


def _support_replay(
    original: RunTrace, fork: dict[str, str], redactor: Redactor, tools: RecordedTools, cassette: CaseCassette
) -> Execute:
    """The reference support agent, rebuilt from the run's first model request."""
    run = original.run
    chats = [s for s in original.spans if s.operation == sc.OP_CHAT]
    first = chats[0].attributes.get(sc.REQUEST_BODY) if chats else None
    if not isinstance(first, dict):
        raise ConfigError(f"Run {run.run_id[:12]} has no recorded model request to replay.")
    settings = ModelSettings(
        model=fork.get("model") or first.get("model", run.model),
        temperature=first.get("temperature"),
        top_p=first.get("top_p"),
        max_tokens=first.get("max_tokens"),
        seed=first.get("seed"),
    )
    agent = support_agent(fork.get("prompt_version") or run.prompt_version or "v1", model=settings, redactor=redactor)
    agent.tools = _recorded_tools(agent.tools, tools)

    async def execute(url: str) -> RunTrace:
        agent.model = agent.model.model_copy(update={"base_url": url})
        with using_cassette(cassette):
            result = await agent.run_async(run.input, run_id=_replay_run_id())
        return RunTrace(run=result.run, spans=result.spans)

    return execute


def _case_replay(
    store: Any,
    original: RunTrace,
    fork: dict[str, str],
    settings: Settings,
    tools: RecordedTools,
    cassette: CaseCassette,
) -> tuple[Execute, list[str]]:
    """An eval run of another agent kind (a model offered tools, or a team's own ``module:function``): the case and
    variant come from the eval run's record and dataset file, the results of the tools traced with ``@trace_tool``
    from the trace (they do not run). Returns notes on datasets changed since the eval run."""
    from harness.agent.adapters import make_agent_under_test
    from harness.agent.instrument import replaying_tools
    from harness.agent.under_test import CaseJob
    from harness.api._run import _openai_environment
    from harness.api._score import cases_of
    from harness.runner.plan import seed_for

    run = original.run
    if run.eval_run_id is None or run.case_id is None or run.dataset is None:
        raise ConfigError(
            f"Run {run.run_id[:12]} of agent '{run.agent_name}' was not made by an eval run, so its case is unknown: "
            "replay from traces needs `agenteval run` (or the pytest plugin) runs, or the reference support agent."
        )
    if run.agent_name == "recorded":
        raise ConfigError(f"Run {run.run_id[:12]} was scored from a transcript: it made no call there is to replay.")
    record = store.get_eval_run(run.eval_run_id)
    cases, notes = cases_of(record, settings.root)
    case = cases.get((run.dataset, run.case_id))
    if case is None:
        why = "; ".join(notes) or f"it has no case '{run.case_id}' now"
        raise ConfigError(
            f"The dataset '{run.dataset}' of eval run {record.eval_run_id[:12]} cannot give the case of run "
            f"{run.run_id[:12]} ({why}): replay needs it. Run agenteval from the project the eval ran in."
        )
    variant = next((v for v in record.variants if v.name == run.variant), None)
    if variant is None:
        raise ConfigError(f"Eval run {record.eval_run_id[:12]} has no variant '{run.variant}' for run {run.run_id}.")
    agent = make_agent_under_test(run.agent_name, root=settings.root)
    epoch = run.epoch or 1

    async def execute(url: str) -> RunTrace:
        job = CaseJob(
            case=case,
            variant=variant.model_copy(update=fork),
            run_id=_replay_run_id(),
            epoch=epoch,
            seed=seed_for(run.dataset or "", case.id, epoch),
            base_url=url,
            timeout_s=settings.timeout_s,
        )
        with _openai_environment(url), using_cassette(cassette), replaying_tools(tools):
            return await agent.run_case(job)

    return execute, notes


def _replay_run_id() -> str:
    return f"replay-{uuid.uuid4().hex[:20]}"


def _compare(
    original: RunTrace, replayed: RunTrace, cassette: CaseCassette, tool_problems: list[str], fork: dict[str, str]
) -> ReplayReport:
    run = original.run
    problems = [*cassette.finish(), *tool_problems]
    divergence = None
    chats = [s for s in replayed.spans if s.operation == sc.OP_CHAT]
    # The chat span that missed the recording says so, whether the agent then ended its run (the reference runtime)
    # or handled the exception itself (a team's agent may).
    missed = next((i for i, s in enumerate(chats, 1) if s.attributes.get(sc.ERROR_TYPE) == "cassette_miss"), None)
    if missed is not None:
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
