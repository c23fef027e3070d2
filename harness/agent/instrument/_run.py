"""The run being recorded: a context variable holding the active run, and the spans it has open."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import openai
from pydantic import BaseModel

from harness.agent._model import start_chat_span
from harness.agent._tracing import OpenSpan, RunTracer
from harness.models.traces import StatusCode

NOTE = "agenteval.instrument.note"
"""Span attribute: what instrumentation could not record (a stream left unfinished, a response it cannot read)."""


@dataclass
class ActiveRun:
    """The run that instrumented calls are recorded into (see :func:`active_run`)."""

    tracer: RunTracer
    """Collects the run's spans."""
    root: OpenSpan
    """The run's root span: the parent of calls made outside any traced tool."""
    chat_calls: int = 0
    """Model calls recorded so far (the ``agenteval.step`` of the next one minus one)."""
    closed: bool = False
    """Set when the run ends: calls still in flight (a sync agent outliving its timeout) are no longer recorded."""
    # Reentrant: a generator's finaliser may run on this thread while the lock is held.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _open: dict[str, OpenSpan] = field(default_factory=dict, repr=False)

    def parent(self) -> OpenSpan:
        """The span a new span belongs under: the innermost traced tool of this run, else the root."""
        current = _PARENT.get()
        return current[1] if current is not None and current[0] is self else self.root

    def start_span(self, name: str, operation: str, attributes: dict[str, Any]) -> OpenSpan | None:
        """Open an INTERNAL span under :meth:`parent`; ``None`` once the run has ended."""
        with self._lock:
            if self.closed:
                return None
            span = self.tracer.start(name, operation, attributes, parent=self.parent())
            self._open[span.span_id] = span
            return span

    def start_chat(self, request: dict[str, Any], base_url: str | None) -> OpenSpan | None:
        """Open a ``chat`` span for ``request``; ``None`` once the run has ended."""
        with self._lock:
            if self.closed:
                return None
            self.chat_calls += 1
            span = start_chat_span(self.tracer, self.parent(), request, base_url, self.chat_calls)
            self._open[span.span_id] = span
            return span

    def end(self, span: OpenSpan, status: StatusCode = "OK", message: str | None = None) -> None:
        """Close a span (a no-op when the run has already closed it)."""
        with self._lock:
            if self._open.pop(span.span_id, None) is not None:
                self.tracer.end(span, status, message)

    def close(self) -> None:
        """End the run: spans still open (an unfinished stream, a call cut off by a timeout) end now, with a note."""
        with self._lock:
            for span in self._open.values():
                span.attributes[NOTE] = "still open when the run ended (an unfinished stream or an interrupted call)"
                self.tracer.end(span, "ERROR", "unfinished when the run ended")
            self._open.clear()
            self.closed = True


_RUN: ContextVar[ActiveRun | None] = ContextVar("agenteval_active_run", default=None)
_PARENT: ContextVar[tuple[ActiveRun, OpenSpan] | None] = ContextVar("agenteval_parent_span", default=None)


def current_run() -> ActiveRun | None:
    """The run being recorded in this context, if any."""
    run = _RUN.get()
    return None if run is None or run.closed else run


@contextmanager
def active_run(tracer: RunTracer, root: OpenSpan) -> Iterator[ActiveRun]:
    """Record openai calls and traced tools made in this context (and contexts copied from it) into a run.

    Installs the openai patch if needed. On exit, spans still open are ended with a note, and calls still in flight
    in other threads stop being recorded.
    """
    from harness.agent.instrument._openai import install  # the patch needs this module; import it late

    install()
    run = ActiveRun(tracer, root)
    token = _RUN.set(run)
    try:
        yield run
    finally:
        _RUN.reset(token)
        run.close()


def exception_attributes(exc: BaseException) -> dict[str, Any]:
    """The OTel ``exception`` event's attributes."""
    return {
        "exception.type": type(exc).__name__,
        "exception.message": str(exc),
        "exception.stacktrace": "".join(traceback.format_exception(exc)),
    }


def is_given(value: Any) -> bool:
    """Whether a call option was given (not ``None`` and not one of openai's ``omit`` / ``NOT_GIVEN`` markers)."""
    return value is not None and not isinstance(value, openai.Omit | openai.NotGiven)


def jsonable(value: Any) -> Any:
    """A JSON value for ``value``: pydantic models dumped, iterables (openai accepts any) listed."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    # A one-shot iterator is left alone: reading it here would take it from its owner.
    if hasattr(value, "__iter__") and not hasattr(value, "__next__") and not isinstance(value, bytes):
        return [jsonable(v) for v in value]
    return str(value)
