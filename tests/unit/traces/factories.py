"""Synthetic, realistic traces: what the agent runtime would hand to the store for a support-agent run."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness.models import semconv as sc
from harness.models.traces import RunRecord, RunStatus, RunTrace, Span, SpanEvent

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns
SYSTEM = "You are the support agent of ACME. Use the tools; never promise refunds you did not issue."
QUESTION = "Where is my order A-1? It arrived broken, I want a refund."


def hex_id(seed: str, digits: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:digits]


def make_run(run_id: str, **overrides: Any) -> RunRecord:
    values: dict[str, Any] = {
        "run_id": run_id,
        "trace_id": hex_id(run_id, 32),
        "agent_name": "support",
        "prompt_name": "support",
        "prompt_version": "v2",
        "prompt_sha256": hashlib.sha256(b"prompt v2").hexdigest(),
        "model": "mock-gpt",
        "base_url": "http://127.0.0.1:8765/v1",
        "status": "completed",
        "status_detail": "final answer",
        "start_ns": T0,
        "end_ns": T0 + 1_500_000_000,
        "input": QUESTION,
        "output_text": '{"answer": "Refund pending"}',
        "output_data": {"answer": "Refund pending", "confidence": 0.5},
        "steps": 2,
        "llm_calls": 2,
        "tool_calls": 2,
        "tool_errors": 1,
        "input_tokens": 320,
        "output_tokens": 70,
        "retries": 1,
        "tags": ["smoke", "support"],
        "metadata": {"ci": True, "seed": 7},
    }
    values.update(overrides)
    return RunRecord.model_validate(values)


def make_trace(
    run_id: str,
    *,
    start_ns: int = T0,
    status: RunStatus = "completed",
    duration_ms: int = 1500,
    tool_outcomes: tuple[str, str] = ("ok", "error"),
    **run_overrides: Any,
) -> RunTrace:
    """A run: root invoke_agent, chat (2 attempts, one retry event), two tools, chat (final answer)."""
    trace_id = hex_id(run_id, 32)
    root_id = hex_id(f"{run_id}:0", 16)
    ms = 1_000_000

    def span(seq: int, name: str, op: str, start: int, end: int, attrs: dict[str, Any], **kw: Any) -> Span:
        return Span(
            trace_id=trace_id,
            span_id=hex_id(f"{run_id}:{seq}", 16),
            parent_span_id=None if seq == 0 else root_id,
            run_id=run_id,
            seq=seq,
            name=name,
            operation=op,
            start_ns=start_ns + start * ms,
            end_ns=start_ns + end * ms,
            attributes={sc.OPERATION_NAME: op, **attrs},
            **kw,
        )

    calls = [
        {"type": "tool_call", "id": "call_1", "name": "lookup_order", "arguments": {"order_id": "A-1"}},
        {"type": "tool_call", "id": "call_2", "name": "issue_refund", "arguments": '{"order_id": "A-1"}'},
    ]
    user = {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    chat1 = _chat_attrs(1, [user], [{"role": "assistant", "parts": calls, "finish_reason": "tool_calls"}], 120, 30)
    chat1[sc.ATTEMPTS] = 2
    responses = [
        {"role": "assistant", "parts": calls},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "shipped"}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_2", "response": {"error": "503"}}]},
    ]
    final = {"role": "assistant", "parts": [{"type": "text", "content": "Refund pending"}], "finish_reason": "stop"}
    chat2 = _chat_attrs(2, [user, *responses], [final], 200, 40)
    retry = SpanEvent(
        name=sc.EVENT_RETRY,
        time_ns=start_ns + 20 * ms,
        attributes={sc.ERROR_TYPE: "rate_limit", sc.HTTP_STATUS: 429, "delay_s": 0.5},
    )
    refund_failed = tool_outcomes[1] != "ok"
    spans = [
        span(
            0,
            "invoke_agent support",
            sc.OP_INVOKE_AGENT,
            0,
            duration_ms,
            {
                sc.AGENT_NAME: "support",
                sc.RUN_ID: run_id,
                sc.PROMPT_VERSION: "v2",
                sc.REQUEST_MODEL: "mock-gpt",
                sc.USAGE_INPUT_TOKENS: 320,
                sc.USAGE_OUTPUT_TOKENS: 70,
                sc.RUN_STATUS: status,
            },
        ),
        span(1, "chat mock-gpt", sc.OP_CHAT, 10, 600, chat1, kind="CLIENT", events=[retry]),
        span(
            2,
            "execute_tool lookup_order",
            sc.OP_EXECUTE_TOOL,
            610,
            640,
            _tool_attrs(1, "call_1", "lookup_order", '{"order_id": "A-1"}', "shipped", tool_outcomes[0], False),
        ),
        span(
            3,
            "execute_tool issue_refund",
            sc.OP_EXECUTE_TOOL,
            650,
            700,
            {
                **_tool_attrs(
                    1, "call_2", "issue_refund", {"order_id": "A-1", "amount": 25.0}, None, tool_outcomes[1], True
                ),
                **({sc.ERROR_TYPE: "ToolError"} if refund_failed else {}),
                sc.TOOL_IDEMPOTENCY_KEY: f"{run_id}:call_2",
            },
            status_code="ERROR" if refund_failed else "UNSET",
            status_message="refund service unavailable (503)" if refund_failed else None,
            events=[
                SpanEvent(
                    name=sc.EVENT_EXCEPTION,
                    time_ns=start_ns + 690 * ms,
                    attributes={"exception.type": "ToolError", "exception.message": "refund service unavailable"},
                )
            ]
            if refund_failed
            else [],
        ),
        span(4, "chat mock-gpt", sc.OP_CHAT, 710, 1490, chat2, kind="CLIENT"),
    ]
    run = make_run(run_id, status=status, start_ns=start_ns, end_ns=start_ns + duration_ms * ms, **run_overrides)
    return RunTrace(run=run, spans=spans)


def _chat_attrs(step: int, inputs: list[Any], outputs: list[Any], tokens_in: int, tokens_out: int) -> dict[str, Any]:
    finish = [m["finish_reason"] for m in outputs]
    request = {
        "model": "mock-gpt",
        "temperature": 0.2,
        "max_tokens": 512,
        "seed": 7,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
    }
    response = {
        "id": f"chatcmpl-{step}",
        "model": "mock-gpt-2026-01",
        "choices": [{"index": 0, "finish_reason": finish[0], "message": {"role": "assistant", "content": None}}],
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out},
    }
    return {
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "mock-gpt",
        sc.REQUEST_TEMPERATURE: 0.2,
        sc.REQUEST_MAX_TOKENS: 512,
        sc.REQUEST_SEED: 7,
        sc.REQUEST_STREAM: False,
        sc.RESPONSE_ID: f"chatcmpl-{step}",
        sc.RESPONSE_MODEL: "mock-gpt-2026-01",
        sc.RESPONSE_FINISH_REASONS: finish,
        sc.USAGE_INPUT_TOKENS: tokens_in,
        sc.USAGE_OUTPUT_TOKENS: tokens_out,
        sc.SERVER_ADDRESS: "127.0.0.1",
        sc.SERVER_PORT: 8765,
        sc.STEP: step,
        sc.ATTEMPTS: 1,
        sc.HTTP_STATUS: 200,
        sc.LATENCY_MS: 12.5 * step,
        sc.SYSTEM_INSTRUCTIONS: [{"type": "text", "content": SYSTEM}],
        sc.INPUT_MESSAGES: inputs,
        sc.OUTPUT_MESSAGES: outputs,
        sc.REQUEST_BODY: request,
        sc.RESPONSE_BODY: json.loads(json.dumps(response)),
    }


def _tool_attrs(
    step: int, call_id: str, name: str, arguments: Any, result: Any, outcome: str, side_effects: bool
) -> dict[str, Any]:
    attrs = {
        sc.STEP: step,
        sc.TOOL_NAME: name,
        sc.TOOL_CALL_ID: call_id,
        sc.TOOL_TYPE: "function",
        sc.TOOL_CALL_ARGUMENTS: arguments,
        sc.TOOL_OUTCOME: outcome,
        sc.TOOL_SIDE_EFFECTS: side_effects,
    }
    if result is not None:
        attrs[sc.TOOL_CALL_RESULT] = result
    return attrs
