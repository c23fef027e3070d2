"""A recorded conversation as the agent under test: score a transcript given in the case, with no model call.

Each assistant message becomes a ``chat`` span (input messages: the transcript before it; output: the message,
with its tool calls as ``tool_call`` parts) and each tool message an ``execute_tool`` span (name and arguments
from the call it answers, its content as the result, outcome ``ok``). So a transcript exported from production is
scored by the same scorers, from the same span attributes, as a live run.

When the transcript does not start with the user's turn (it holds only the agent's side), the case's input is put
in front of it. Calls without ids get ``call_<step>_<n>``, stable from one run to the next.
"""

from __future__ import annotations

import json
from typing import Any

from harness.agent._model import to_semconv_messages
from harness.agent._tracing import OpenSpan, RunTracer
from harness.agent.adapters._common import Outcome, finish_run, input_messages, message_dict, start_run
from harness.agent.redaction import Redactor
from harness.agent.under_test import CaseJob
from harness.models import semconv as sc
from harness.models.cases import Dataset, Message
from harness.models.traces import RunTrace


class RecordedUnderTest:
    """Turns each case's ``transcript`` into a trace."""

    name = "recorded"

    def __init__(self, *, redactor: Redactor | None = None) -> None:
        """
        Args:
            redactor: PII redaction of the stored trace (on by default).
        """
        self.redactor = redactor if redactor is not None else Redactor()

    def tool_names(self, dataset: Dataset) -> set[str] | None:
        """Unknown: a transcript may name any tool."""
        return None

    async def run_case(self, job: CaseJob) -> RunTrace:
        """Build the trace of the recorded conversation; a case without one is an ``error`` run."""
        case, variant = job.case, job.variant
        model = str(case.metadata.get("model") or variant.model or "recorded")
        run = start_run(job, self.name, model, variant.prompt_version)
        if not case.transcript:
            detail = f"case '{case.id}' has no transcript; the recorded agent needs one (add `transcript:` to it)"
            return finish_run(job, run, Outcome("error", detail, "missing_transcript", detail), self.redactor)
        first = next((m for m in case.transcript if m.role not in ("system", "developer")), None)
        history = input_messages(case) if first is None or first.role != "user" else []
        pending: list[tuple[str, str, str]] = []  # calls not answered yet: (id, tool name, arguments JSON)
        step, last_text = 0, None
        for message in case.transcript:
            entry = message_dict(message)
            if message.role == "assistant":
                step += 1
                ids = [c.id or f"call_{step}_{n}" for n, c in enumerate(message.tool_calls)]
                entry = message_dict(message, ids)
                _chat_span(run.tracer, run.root, model, history, entry, step)
                pending += [
                    (i, c.name, json.dumps(c.arguments, ensure_ascii=False))
                    for i, c in zip(ids, message.tool_calls, strict=True)
                ]
                last_text = message.content or last_text
            elif message.role == "tool":
                call = _answered_call(message, pending)
                _tool_span(run.tracer, run.root, message, call, step)
                entry["tool_call_id"] = call[0]
            history.append(entry)
        if step == 0:
            detail = f"case '{case.id}': the transcript has no assistant message, so there is nothing to score"
            return finish_run(job, run, Outcome("error", detail, "empty_transcript", detail), self.redactor, steps=0)
        return finish_run(job, run, Outcome("completed", output_text=last_text), self.redactor, steps=step)


def _answered_call(message: Message, pending: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The call a tool message answers: by its ``tool_call_id``, else the oldest unanswered call of its tool (or of
    any tool); taken off ``pending``."""
    for matches in (
        lambda c: c[0] == message.tool_call_id,
        lambda c: message.tool_call_id is None and message.name is not None and c[1] == message.name,
        lambda c: message.tool_call_id is None and message.name is None,
    ):
        for call in pending:
            if matches(call):
                pending.remove(call)
                return call
    return (message.tool_call_id or "", message.name or "unknown", "{}")


def _chat_span(
    tracer: RunTracer, root: OpenSpan, model: str, history: list[dict[str, Any]], entry: dict[str, Any], step: int
) -> None:
    system, inputs = to_semconv_messages(history)
    _, outputs = to_semconv_messages([entry])
    finish_reason = "tool_calls" if entry.get("tool_calls") else "stop"
    for output in outputs:
        output["finish_reason"] = finish_reason
    attributes = {
        sc.OPERATION_NAME: sc.OP_CHAT,
        sc.REQUEST_MODEL: model,
        sc.STEP: step,
        sc.SYSTEM_INSTRUCTIONS: system,
        sc.INPUT_MESSAGES: inputs,
        sc.OUTPUT_MESSAGES: outputs,
        sc.RESPONSE_FINISH_REASONS: [finish_reason],
        sc.ATTEMPTS: 1,
    }
    tracer.end(tracer.start(f"chat {model}", sc.OP_CHAT, attributes, kind="CLIENT", parent=root))


def _tool_span(tracer: RunTracer, root: OpenSpan, message: Message, call: tuple[str, str, str], step: int) -> None:
    call_id, name, arguments = call
    name = message.name or name
    attributes: dict[str, Any] = {
        sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
        sc.TOOL_NAME: name,
        sc.TOOL_TYPE: "function",
        sc.TOOL_CALL_ARGUMENTS: arguments,
        sc.TOOL_CALL_RESULT: message.content or "",
        sc.TOOL_OUTCOME: "ok",
        sc.STEP: step,
    }
    if call_id:
        attributes[sc.TOOL_CALL_ID] = call_id
    tracer.end(tracer.start(f"{sc.OP_EXECUTE_TOOL} {name}", sc.OP_EXECUTE_TOOL, attributes, parent=root))
