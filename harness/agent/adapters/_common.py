"""What the adapters share: the root span, the run record built from a run's spans, redaction, case messages."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from harness.agent._tracing import OpenSpan, RunTracer, new_trace_id
from harness.agent.instrument import exception_attributes
from harness.agent.redaction import Redactor
from harness.agent.under_test import CaseJob
from harness.models import semconv as sc
from harness.models.cases import Case, Message
from harness.models.traces import FINISHED_OK, RunRecord, RunStatus, RunTrace


@dataclass
class Outcome:
    """How a run ended, as an adapter saw it."""

    status: RunStatus = "completed"
    detail: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    output_text: str | None = None
    output_data: Any = None


@dataclass
class RunStart:
    """A run being recorded: its tracer, root span and start time."""

    tracer: RunTracer
    root: OpenSpan
    start_ns: int
    agent_name: str
    model: str
    prompt_version: str | None = None


def start_run(job: CaseJob, agent_name: str, model: str, prompt_version: str | None = None) -> RunStart:
    """Open the run's ``invoke_agent`` root span."""
    start_ns = time.time_ns()
    tracer = RunTracer(job.run_id, new_trace_id())
    attributes: dict[str, Any] = {
        sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
        sc.AGENT_NAME: agent_name,
        sc.RUN_ID: job.run_id,
        sc.REQUEST_MODEL: model,
    }
    if prompt_version is not None:
        attributes[sc.PROMPT_VERSION] = prompt_version
    root = tracer.start(f"{sc.OP_INVOKE_AGENT} {agent_name}", sc.OP_INVOKE_AGENT, attributes)
    return RunStart(tracer, root, start_ns, agent_name, model, prompt_version)


def finish_run(
    job: CaseJob, run: RunStart, outcome: Outcome, redactor: Redactor, *, steps: int | None = None
) -> RunTrace:
    """End the root span and build the redacted trace; usage and counts come from the spans, as the store's would."""
    root = run.root
    root.attributes[sc.RUN_STATUS] = outcome.status
    if outcome.detail:
        root.attributes[sc.RUN_STATUS_DETAIL] = outcome.detail
    chats = [s for s in run.tracer.spans if s.operation == sc.OP_CHAT]
    tools = [s for s in run.tracer.spans if s.operation == sc.OP_EXECUTE_TOOL]
    input_tokens = sum(int(s.attributes.get(sc.USAGE_INPUT_TOKENS) or 0) for s in chats)
    output_tokens = sum(int(s.attributes.get(sc.USAGE_OUTPUT_TOKENS) or 0) for s in chats)
    root.attributes[sc.USAGE_INPUT_TOKENS] = input_tokens
    root.attributes[sc.USAGE_OUTPUT_TOKENS] = output_tokens
    failed = outcome.status not in FINISHED_OK
    run.tracer.end(root, "ERROR" if failed else "OK", outcome.detail if failed else None)
    record = RunRecord(
        run_id=job.run_id,
        trace_id=run.tracer.trace_id,
        kind="eval_case",
        agent_name=run.agent_name,
        prompt_version=run.prompt_version,
        model=run.model,
        base_url=job.base_url,
        status=outcome.status,
        status_detail=outcome.detail,
        error_type=outcome.error_type,
        error_message=outcome.error_message,
        start_ns=run.start_ns,
        end_ns=time.time_ns(),
        input=job.case.user_message,
        output_text=outcome.output_text,
        output_data=outcome.output_data,
        steps=steps if steps is not None else sum(s.status_code != "ERROR" for s in chats),
        llm_calls=len(chats),
        tool_calls=len(tools),
        tool_errors=sum(s.attributes.get(sc.TOOL_OUTCOME, "ok") != "ok" or s.status_code == "ERROR" for s in tools),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        retries=sum(max(int(s.attributes.get(sc.ATTEMPTS) or 1) - 1, 0) for s in chats),
    )
    return redactor.trace(RunTrace(run=labelled(record, job), spans=run.tracer.ordered()))


def labelled(run: RunRecord, job: CaseJob) -> RunRecord:
    """The run with the case's labels (the runner sets them too; an adapter used alone still gets them)."""
    update: dict[str, Any] = {
        "kind": "eval_case",
        "case_id": job.case.id,
        "variant": job.variant.name,
        "epoch": job.epoch,
        "tags": sorted({*run.tags, *job.case.tags}),
    }
    update.update({k: v for k, v in job.labels.items() if k in RunRecord.model_fields and k != "run_id"})
    return run.model_copy(update=update)


def inner_timeout(timeout_s: float) -> float:
    """A deadline a little before the runner's: the adapter ends the run itself and keeps the spans it has, rather
    than being cancelled and losing them."""
    return timeout_s - min(1.0, timeout_s * 0.05)


def message_dict(message: Message, call_ids: list[str] | None = None) -> dict[str, Any]:
    """A case message as a chat-completions message; ``call_ids`` are the ids to use for its tool calls."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name and message.role != "tool":
        out["name"] = message.name
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        ids = call_ids or [c.id or f"call_{i}" for i, c in enumerate(message.tool_calls)]
        out["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for call_id, call in zip(ids, message.tool_calls, strict=True)
        ]
    return out


def input_messages(case: Case) -> list[dict[str, Any]]:
    """The case's input as chat-completions messages (a string is one user message)."""
    if isinstance(case.input, str):
        return [{"role": "user", "content": case.input}]
    return [message_dict(m) for m in case.input]


def exception_event(root: OpenSpan, exc: BaseException) -> None:
    """Record an OTel exception event on ``root``."""
    root.event(sc.EVENT_EXCEPTION, **exception_attributes(exc))
