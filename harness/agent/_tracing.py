"""Build a run's spans in memory while it runs; they are handed to the trace sink once, when it ends."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from harness.models.traces import Span, SpanEvent, SpanKind, StatusCode


def new_trace_id() -> str:
    """A random W3C trace id (32 hex digits, never all zero)."""
    value = os.urandom(16).hex()
    return value if value != "0" * 32 else new_trace_id()


def new_span_id() -> str:
    """A random W3C span id (16 hex digits, never all zero)."""
    value = os.urandom(8).hex()
    return value if value != "0" * 16 else new_span_id()


@dataclass
class OpenSpan:
    """A span being recorded; mutable until :meth:`RunTracer.end`."""

    span_id: str
    parent_span_id: str | None
    seq: int
    name: str
    kind: SpanKind
    operation: str
    start_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)

    def event(self, name: str, **attributes: Any) -> None:
        """Record an event now."""
        self.events.append(SpanEvent(name=name, time_ns=time.time_ns(), attributes=attributes))


class RunTracer:
    """Collects the spans of one run, in start order."""

    def __init__(self, run_id: str, trace_id: str) -> None:
        self.run_id = run_id
        self.trace_id = trace_id
        self._seq = 0
        self.spans: list[Span] = []

    def start(
        self,
        name: str,
        operation: str,
        attributes: dict[str, Any],
        *,
        kind: SpanKind = "INTERNAL",
        parent: OpenSpan | None = None,
    ) -> OpenSpan:
        """Open a span (its ``seq`` is its start order)."""
        span = OpenSpan(
            span_id=new_span_id(),
            parent_span_id=parent.span_id if parent else None,
            seq=self._seq,
            name=name,
            kind=kind,
            operation=operation,
            start_ns=time.time_ns(),
            attributes=dict(attributes),
        )
        self._seq += 1
        return span

    def end(self, span: OpenSpan, status: StatusCode = "OK", message: str | None = None) -> None:
        """Close a span and keep it."""
        self.spans.append(
            Span(
                trace_id=self.trace_id,
                span_id=span.span_id,
                parent_span_id=span.parent_span_id,
                run_id=self.run_id,
                seq=span.seq,
                name=span.name,
                kind=span.kind,
                operation=span.operation,
                start_ns=span.start_ns,
                end_ns=time.time_ns(),
                status_code=status,
                status_message=message,
                attributes=span.attributes,
                events=span.events,
            )
        )

    def ordered(self) -> list[Span]:
        """Spans in start order (the root, which ends last, comes first)."""
        return sorted(self.spans, key=lambda s: s.seq)
