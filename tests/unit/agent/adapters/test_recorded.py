"""The recorded adapter: a transcript becomes chat and execute_tool spans, without a model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from harness.agent.adapters import RecordedUnderTest
from harness.models import semconv as sc
from harness.models.traces import RunTrace
from tests.unit.agent.adapters._jobs import job_for

TRANSCRIPT: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a shop assistant."},
    {"role": "user", "content": "Where is order A1004? Mail me at jane.doe@example.com"},
    {
        "role": "assistant",
        "tool_calls": [
            {"id": "c1", "name": "lookup_order", "arguments": {"order_id": "A1004"}},
            {"name": "search_kb", "arguments": {"query": "shipping"}},
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": '{"status": "shipped"}'},
    {"role": "tool", "name": "search_kb", "content": "Shipping takes 3 days."},
    {"role": "assistant", "content": "Your order A1004 has shipped."},
]


def _run(case: dict[str, Any]) -> RunTrace:
    return asyncio.run(RecordedUnderTest().run_case(job_for(case, model="gpt-4o")))


def test_transcript_becomes_spans_and_a_completed_run() -> None:
    trace = _run({"id": "rec-1", "input": "Where is order A1004?", "transcript": TRANSCRIPT})
    run, spans = trace.run, trace.spans
    assert run.status == "completed"
    assert run.output_text == "Your order A1004 has shipped."
    assert (run.steps, run.llm_calls, run.tool_calls, run.tool_errors) == (2, 2, 2, 0)
    assert run.model == "gpt-4o"
    assert [s.operation for s in spans] == ["invoke_agent", "chat", "execute_tool", "execute_tool", "chat"]
    root = spans[0]
    assert all(s.parent_span_id == root.span_id for s in spans[1:])
    assert [s.seq for s in spans] == list(range(5))

    first_chat, lookup, search, last_chat = spans[1:]
    assert first_chat.attributes[sc.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "You are a shop assistant."}]
    assert [m["role"] for m in first_chat.attributes[sc.INPUT_MESSAGES]] == ["user"]
    parts = first_chat.attributes[sc.OUTPUT_MESSAGES][0]["parts"]
    assert parts == [
        {"type": "tool_call", "id": "c1", "name": "lookup_order", "arguments": {"order_id": "A1004"}},
        {"type": "tool_call", "id": "call_1_1", "name": "search_kb", "arguments": {"query": "shipping"}},
    ]
    assert first_chat.attributes[sc.RESPONSE_FINISH_REASONS] == ["tool_calls"]

    assert lookup.attributes[sc.TOOL_NAME] == "lookup_order"
    assert lookup.attributes[sc.TOOL_CALL_ID] == "c1"
    assert json.loads(lookup.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"order_id": "A1004"}
    assert lookup.attributes[sc.TOOL_CALL_RESULT] == '{"status": "shipped"}'
    assert lookup.attributes[sc.TOOL_OUTCOME] == "ok"
    # A tool message without a call id answers the oldest unanswered call of its tool.
    assert search.attributes[sc.TOOL_CALL_ID] == "call_1_1"
    assert json.loads(search.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"query": "shipping"}
    assert search.attributes[sc.STEP] == 1

    inputs = last_chat.attributes[sc.INPUT_MESSAGES]
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool", "tool"]
    assert inputs[3]["parts"] == [
        {"type": "tool_call_response", "id": "call_1_1", "response": "Shipping takes 3 days."}
    ]
    assert last_chat.attributes[sc.OUTPUT_MESSAGES][0]["finish_reason"] == "stop"
    assert last_chat.attributes[sc.STEP] == 2


def test_pii_in_the_transcript_is_redacted() -> None:
    trace = _run({"id": "rec-1", "input": "Where is order A1004?", "transcript": TRANSCRIPT})
    text = json.dumps([s.attributes for s in trace.spans])
    assert "jane.doe@example.com" not in text
    assert "[EMAIL]@example.com" in text


def test_transcript_without_the_user_turn_gets_the_case_input_in_front() -> None:
    transcript = [{"role": "assistant", "content": "Hello! How can I help?"}]
    trace = _run({"id": "rec-2", "input": "hi", "transcript": transcript})
    chat = trace.spans[1]
    assert chat.attributes[sc.INPUT_MESSAGES] == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert trace.run.output_text == "Hello! How can I help?"


def test_case_without_transcript_is_an_error_run() -> None:
    trace = _run({"id": "no-transcript", "input": "hi"})
    assert trace.run.status == "error"
    assert trace.run.error_type == "missing_transcript"
    assert "no-transcript" in (trace.run.status_detail or "")
    assert "transcript" in (trace.run.status_detail or "")
    assert [s.operation for s in trace.spans] == ["invoke_agent"]
    assert trace.spans[0].status_code == "ERROR"


def test_transcript_without_assistant_message_is_an_error_run() -> None:
    trace = _run({"id": "empty", "input": "hi", "transcript": [{"role": "user", "content": "hi"}]})
    assert trace.run.status == "error"
    assert trace.run.error_type == "empty_transcript"


def test_run_carries_the_case_labels() -> None:
    trace = _run({"id": "rec-1", "input": "x", "tags": ["prod"], "transcript": TRANSCRIPT})
    run = trace.run
    assert (run.run_id, run.case_id, run.variant, run.epoch, run.kind) == ("run-1", "rec-1", "default", 1, "eval_case")
    assert run.tags == ["prod"]
    assert all(s.run_id == "run-1" and s.trace_id == run.trace_id for s in trace.spans)
