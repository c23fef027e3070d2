"""A stored run as a list of steps for the HTML report's drill-down: model calls with what they said and asked for,
tool calls with their arguments and results, and the events (guards, security, retries) on the way.

Everything here is plain text; the template escapes it. Long values are cut so one runaway output cannot bloat the
page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.models import semconv as sc
from harness.models.chat import as_arguments
from harness.models.traces import RunTrace, Span

TEXT_LIMIT = 4_000
"""Characters kept of any one value (an output, a tool result)."""


@dataclass(frozen=True)
class Step:
    """One span worth showing: a model call, a tool call, or another operation."""

    kind: str
    """``chat``, ``tool`` or ``other`` (the CSS class)."""
    title: str
    """E.g. ``chat mock-gpt`` or ``execute_tool send_email``."""
    meta: str
    """Step number, latency, tokens, outcome: one short line."""
    error: str | None
    """The span's error status message, when it failed."""
    fields: list[tuple[str, str]] = field(default_factory=list)
    """``(label, text)`` pairs: output text, tool calls, arguments, result, events."""


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _dump(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _chat(span: Span) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    messages = span.attributes.get(sc.OUTPUT_MESSAGES)
    if isinstance(messages, str):  # imported traces may hold it as a JSON string
        try:
            messages = json.loads(messages)
        except ValueError:
            return [("output", clip(messages))]
    for message in messages if isinstance(messages, list) else []:
        for part in message.get("parts", []) if isinstance(message, dict) else []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                fields.append(("output", clip(str(part.get("content", "")))))
            elif part.get("type") == "tool_call":
                arguments = _dump(as_arguments(part.get("arguments")) or part.get("arguments") or {})
                fields.append(("tool call", clip(f"{part.get('name', '?')}({arguments})")))
    return fields


def _tool(span: Span) -> list[tuple[str, str]]:
    a = span.attributes
    fields = [("arguments", clip(_dump(a.get(sc.TOOL_CALL_ARGUMENTS, ""))))]
    if sc.TOOL_CALL_RESULT in a:
        fields.append(("result", clip(_dump(a[sc.TOOL_CALL_RESULT]))))
    return fields


def _meta(span: Span) -> str:
    a = span.attributes
    parts = []
    if a.get(sc.STEP) is not None:
        parts.append(f"step {a[sc.STEP]}")
    latency = a.get(sc.LATENCY_MS)
    parts.append(
        f"{latency:,.0f} ms" if isinstance(latency, int | float) else f"{(span.end_ns - span.start_ns) / 1e6:,.0f} ms"
    )
    tokens_in, tokens_out = a.get(sc.USAGE_INPUT_TOKENS), a.get(sc.USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0:,} in / {tokens_out or 0:,} out tokens")
    if isinstance(a.get(sc.ATTEMPTS), int) and a[sc.ATTEMPTS] > 1:
        parts.append(f"{a[sc.ATTEMPTS]} attempts")
    if a.get(sc.TOOL_OUTCOME) is not None:
        parts.append(f"outcome {a[sc.TOOL_OUTCOME]}")
    return " · ".join(parts)


def steps(trace: RunTrace) -> list[Step]:
    """The run's spans below the root, in order, as steps."""
    out: list[Step] = []
    for span in trace.spans:
        if span.operation == sc.OP_INVOKE_AGENT and span.parent_span_id is None:
            continue
        if span.operation == sc.OP_CHAT:
            kind, fields = "chat", _chat(span)
            model = span.attributes.get(sc.RESPONSE_MODEL) or span.attributes.get(sc.REQUEST_MODEL) or "?"
            title = f"chat {model}"
        elif span.operation == sc.OP_EXECUTE_TOOL:
            kind, fields = "tool", _tool(span)
            title = f"execute_tool {span.attributes.get(sc.TOOL_NAME) or span.name}"
        else:
            kind, fields, title = "other", [], span.name
        for event in span.events:
            detail = ", ".join(f"{k}={_dump(v)}" for k, v in event.attributes.items() if k != "exception.stacktrace")
            fields.append(("event", clip(f"{event.name}: {detail}", 1_000)))
        error = span.status_message if span.status_code == "ERROR" else None
        out.append(Step(kind=kind, title=str(title), meta=_meta(span), error=error, fields=fields))
    return out
