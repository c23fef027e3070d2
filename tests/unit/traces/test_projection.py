"""The typed tables are projected from span attributes only, whatever shape an importer gave them."""

from __future__ import annotations

import json

import pandas as pd

from harness.models import semconv as sc
from harness.models.traces import RunTrace, Span
from harness.traces import TraceStore
from tests.unit.traces.factories import make_trace


def test_llm_calls_projection(store: TraceStore) -> None:
    store.write_trace(make_trace("r1"))
    first, second = store.llm_calls_frame("r1").to_dict("records")
    assert (first["seq"], first["step"], second["step"]) == (1, 1, 2)
    assert (first["input_tokens"], first["output_tokens"]) == (120, 30)
    assert (second["input_tokens"], second["output_tokens"]) == (200, 40)
    assert (first["attempts"], first["retries"], second["attempts"], second["retries"]) == (2, 1, 1, 0)
    assert list(first["finish_reasons"]) == ["tool_calls"]
    assert list(second["finish_reasons"]) == ["stop"]
    assert first["provider"] == "openai"
    assert (first["request_model"], first["response_model"], first["response_id"]) == (
        "mock-gpt",
        "mock-gpt-2026-01",
        "chatcmpl-1",
    )
    assert (first["server_address"], first["server_port"], first["http_status"]) == ("127.0.0.1", 8765, 200)
    assert not first["stream"]
    assert json.loads(first["request_params"]) == {"temperature": 0.2, "max_tokens": 512, "seed": 7}
    assert first["latency_ms"] == 12.5
    assert json.loads(first["request_body"])["messages"][1]["role"] == "user"
    assert json.loads(second["response_body"])["id"] == "chatcmpl-2"


def test_tool_calls_projection(store: TraceStore) -> None:
    store.write_trace(make_trace("r1"))
    lookup, refund = store.tool_calls_frame("r1").to_dict("records")
    assert (lookup["tool_name"], lookup["tool_call_id"], lookup["step"]) == ("lookup_order", "call_1", 1)
    assert json.loads(lookup["arguments"]) == {"order_id": "A-1"}  # given as a JSON string
    assert json.loads(refund["arguments"]) == {"order_id": "A-1", "amount": 25.0}  # given as an object
    assert (lookup["result"], lookup["outcome"], lookup["is_error"]) == ("shipped", "ok", False)
    assert (refund["outcome"], refund["is_error"], refund["error_type"]) == ("error", True, "ToolError")
    assert pd.isna(refund["result"])
    assert (lookup["side_effects"], refund["side_effects"]) == (False, True)
    assert refund["idempotency_key"] == "r1:call_2"


def test_messages_projection(store: TraceStore) -> None:
    store.write_trace(make_trace("r1"))
    messages = store.messages_frame("r1")
    first_chat, second_chat = (group for _, group in messages.groupby("span_id", sort=False))
    inputs = first_chat[first_chat["direction"] == "input"]
    assert list(inputs["role"]) == ["system", "user"]
    assert list(inputs["msg_index"]) == [0, 1]
    outputs = first_chat[first_chat["direction"] == "output"]
    assert list(outputs["part_type"]) == ["tool_call", "tool_call"]
    assert list(outputs["part_index"]) == [0, 1]
    assert list(outputs["tool_name"]) == ["lookup_order", "issue_refund"]
    assert set(outputs["finish_reason"]) == {"tool_calls"}
    assert [json.loads(a) for a in outputs["arguments"]] == [{"order_id": "A-1"}, {"order_id": "A-1"}]
    assert len(second_chat) == 7  # system, user, assistant (2 tool calls), 2 tool responses, final answer
    responses = second_chat[second_chat["part_type"] == "tool_call_response"]
    assert list(responses["role"]) == ["tool", "tool"]
    assert list(responses["tool_call_id"]) == ["call_1", "call_2"]
    assert list(responses["content"]) == ["shipped", '{"error":"503"}']
    final = second_chat[second_chat["direction"] == "output"].iloc[0]
    assert (final["content"], final["finish_reason"], final["msg_index"]) == ("Refund pending", "stop", 0)


def test_imported_shapes_project_like_native_ones(store: TraceStore) -> None:
    """An OTLP import carries messages as JSON strings and may lack agenteval.* attributes."""
    native = make_trace("native")
    chat, tool = native.spans[1], native.spans[3]
    imported_chat = chat.model_copy(
        update={
            "run_id": "imported",
            "attributes": {
                **chat.attributes,
                sc.INPUT_MESSAGES: json.dumps(chat.attributes[sc.INPUT_MESSAGES]),
                sc.OUTPUT_MESSAGES: json.dumps(chat.attributes[sc.OUTPUT_MESSAGES]),
                sc.SYSTEM_INSTRUCTIONS: "You are the support agent of ACME.",
            },
        }
    )
    bare_tool_attrs = {k: v for k, v in tool.attributes.items() if k not in (sc.TOOL_OUTCOME, sc.ERROR_TYPE)}
    bare_tool_attrs[sc.TOOL_CALL_ARGUMENTS] = "{not json"
    imported_tool = tool.model_copy(update={"run_id": "imported", "attributes": bare_tool_attrs})
    imported = RunTrace(run=native.run.model_copy(update={"run_id": "imported"}), spans=[imported_chat, imported_tool])
    store.write_traces([native, imported])
    native_msgs = store.messages_frame("native")
    native_msgs = native_msgs[native_msgs["span_id"] == chat.span_id].drop(columns="run_id").reset_index(drop=True)
    imported_msgs = store.messages_frame("imported").drop(columns="run_id").reset_index(drop=True)
    # Same rows except the system text, which came as a plain string instead of a parts list.
    assert imported_msgs.loc[0, "content"] == "You are the support agent of ACME."
    pd.testing.assert_frame_equal(imported_msgs.drop(columns="content"), native_msgs.drop(columns="content"))
    [row] = store.tool_calls_frame("imported").to_dict("records")
    assert pd.isna(row["outcome"])
    assert row["is_error"]  # no outcome: the span's ERROR status decides
    assert json.loads(row["arguments"]) == "{not json"  # kept, as a JSON string literal


def test_spans_of_other_operations_have_no_typed_rows(store: TraceStore) -> None:
    trace = make_trace("r1")
    guard = Span(
        trace_id=trace.run.trace_id,
        span_id="00000000000000ff",
        parent_span_id=trace.spans[0].span_id,
        run_id="r1",
        seq=5,
        name="guard pii",
        operation="guard",
        start_ns=trace.run.start_ns,
        end_ns=trace.run.start_ns + 1,
    )
    store.write_trace(RunTrace(run=trace.run, spans=[*trace.spans, guard]))
    assert len(store.get_spans("r1")) == 6
    assert len(store.llm_calls_frame("r1")) == 2
    assert len(store.tool_calls_frame("r1")) == 2
