"""``trace_tool``: the user's own tools recorded as ``execute_tool`` spans (a decorator and a context manager)."""

from __future__ import annotations

import builtins
import functools
import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar, overload

from harness.agent._tracing import OpenSpan
from harness.agent.instrument._run import _PARENT, ActiveRun, current_run, exception_attributes, jsonable
from harness.agent.tools import render_result
from harness.models import semconv as sc
from harness.models.traces import Span

F = TypeVar("F", bound=Callable[..., Any])

_UNSET: Any = object()


class ToolSpan:
    """A traced tool call: a context manager (``with trace_tool(name, arguments) as span``) whose ``result`` and
    ``outcome`` you may set, and a decorator (``@trace_tool("name")``) that traces every call of a function.

    Outside an active run it records nothing; the block or the function runs all the same.
    """

    def __init__(self, name: str, arguments: Any = None, *, call_id: str | None = None) -> None:
        self.name = name
        """Tool name (``gen_ai.tool.name``)."""
        self.arguments = arguments
        """Arguments (any JSON-able value; stored as JSON text)."""
        self.call_id = call_id
        """The model's tool-call id, when the code knows it."""
        self.result: Any = _UNSET
        """What the tool returned (rendered like the reference runtime's tool results); leave unset for none."""
        self.outcome = "ok"
        """``ok``, or ``error`` (or another value of ``semconv.TOOL_OUTCOMES``) for a failure that did not raise."""
        self.attributes: dict[str, Any] = {}
        """Extra span attributes."""
        self.description: str | None = None
        self._run: ActiveRun | None = None
        self._span: OpenSpan | None = None
        self._token: Any = None

    def __enter__(self) -> ToolSpan:
        run = current_run()
        if run is None:
            return self
        attributes: dict[str, Any] = {
            sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.TOOL_NAME: self.name,
            sc.TOOL_TYPE: "function",
            sc.TOOL_CALL_ARGUMENTS: json.dumps(jsonable(self.arguments or {}), ensure_ascii=False, default=str),
            sc.STEP: run.chat_calls,
        }
        if self.call_id:
            attributes[sc.TOOL_CALL_ID] = self.call_id
        if self.description:
            attributes[sc.TOOL_DESCRIPTION] = self.description
        self._span = run.start_span(f"{sc.OP_EXECUTE_TOOL} {self.name}", sc.OP_EXECUTE_TOOL, attributes)
        if self._span is not None:
            self._run = run
            self._token = _PARENT.set((run, self._span))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run, span = self._run, self._span
        if run is None or span is None:
            return
        _PARENT.reset(self._token)
        span.attributes.update(self.attributes)
        if self.result is not _UNSET:
            span.attributes[sc.TOOL_CALL_RESULT] = render_result(jsonable(self.result))
            span.attributes[sc.TOOL_RESULT_KIND] = "text" if isinstance(self.result, str) else "json"
        if exc is not None:
            self.outcome = "error" if self.outcome == "ok" else self.outcome
            span.event(sc.EVENT_EXCEPTION, **exception_attributes(exc))
            span.attributes.setdefault(sc.TOOL_CALL_RESULT, f"Error: {type(exc).__name__}: {exc}")
        span.attributes[sc.TOOL_OUTCOME] = self.outcome
        if self.outcome != "ok":
            span.attributes[sc.ERROR_TYPE] = type(exc).__name__ if exc is not None else self.outcome
            run.end(span, "ERROR", str(exc) if exc is not None else self.outcome)
        else:
            run.end(span)

    def __call__(self, fn: F) -> F:
        """Decorate ``fn``: each call is traced under this tool name."""
        return _decorate(fn, self.name)


@overload
def trace_tool(target: F, /) -> F: ...


@overload
def trace_tool(target: str, /, arguments: Any = None, *, call_id: str | None = None) -> ToolSpan: ...


def trace_tool(target: Any, /, arguments: Any = None, *, call_id: str | None = None) -> Any:
    """Trace a tool: ``@trace_tool`` on a function (sync or async), ``@trace_tool("name")`` to rename it, or
    ``with trace_tool("name", arguments) as span: ...; span.result = ...`` for code that is not a function.

    Each call inside an active run becomes an ``execute_tool`` span: name, arguments (the call's bound parameters),
    result, outcome ``ok`` or ``error``, and an exception event when it raises (the exception still propagates).
    """
    if isinstance(target, str):
        return ToolSpan(target, arguments, call_id=call_id)
    if callable(target):
        return _decorate(target, getattr(target, "__name__", type(target).__name__))
    raise TypeError(f"trace_tool takes a function or a tool name, not {type(target).__name__}")


def _decorate(fn: F, name: str) -> F:
    signature = inspect.signature(fn)
    doc = (inspect.getdoc(fn) or "").strip().split("\n\n")[0] or None

    def open_span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolSpan:
        span = ToolSpan(name, _bound_arguments(signature, args, kwargs))
        span.description = doc
        return span

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            if current_run() is None:
                return await fn(*args, **kwargs)
            with open_span(args, kwargs) as span:
                recorded = _RECORDED.get()
                call = recorded.take(name) if recorded is not None else None
                span.result = recorded.answer(call, fn) if recorded and call else await fn(*args, **kwargs)
                return span.result

        return traced_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        if current_run() is None:
            return fn(*args, **kwargs)
        with open_span(args, kwargs) as span:
            recorded = _RECORDED.get()
            call = recorded.take(name) if recorded is not None else None
            span.result = recorded.answer(call, fn) if recorded and call else fn(*args, **kwargs)
            return span.result

    return traced  # type: ignore[return-value]


_Call = tuple[str, str, str | None, dict[str, Any] | None]


class ToolNotRecordedError(RuntimeError):
    """A replay called a traced tool more often than the recorded run did."""


@dataclass
class RecordedTools:
    """What a recorded run's traced tools returned, call by call in order per tool name: a replay answers with it
    instead of running the tools (a replayed refund must not refund).

    A recorded result comes back as the kind of value it was (``agenteval.tool.result_kind``: the string as is, or
    the JSON decoded; traces from before that attribute: JSON objects and arrays decoded, anything else as text). A
    recorded failure is raised again: an exception of the same class when the tool's module defines one by that name
    (or it is a built-in one), else one made with that name, with the same message.
    """

    calls: dict[str, list[_Call]] = field(default_factory=dict)
    """Per tool name: (outcome, result, result kind, the exception event's attributes) of each call."""
    live: bool = False
    """A call the recording does not hold runs the real tool (a fork); otherwise it fails the call."""
    problems: list[str] = field(default_factory=list)
    """Calls the recording does not hold."""

    @classmethod
    def from_spans(cls, spans: Iterable[Span]) -> RecordedTools:
        recorded = cls()
        for span in spans:
            # Calls that ran and answered: not those a guard refused (denied, awaiting approval, ...).
            if span.operation != sc.OP_EXECUTE_TOOL or span.attributes.get(sc.TOOL_OUTCOME) not in ("ok", "error"):
                continue
            exception = next((e for e in span.events if e.name == sc.EVENT_EXCEPTION), None)
            recorded.calls.setdefault(str(span.attributes.get(sc.TOOL_NAME)), []).append(
                (
                    str(span.attributes.get(sc.TOOL_OUTCOME, "ok")),
                    str(span.attributes.get(sc.TOOL_CALL_RESULT, "")),
                    span.attributes.get(sc.TOOL_RESULT_KIND),
                    exception.attributes if exception is not None else None,
                )
            )
        return recorded

    def take(self, name: str) -> _Call | None:
        """The next recorded call of ``name``; ``None`` when the recording has no more and the tool is to run.

        Raises:
            ToolNotRecordedError: no more recorded calls, and not :attr:`live`.
        """
        queue = self.calls.get(name)
        if queue:
            return queue.pop(0)
        if self.live:
            return None
        self.problems.append(f"the replay called {name} more often than the original run")
        raise ToolNotRecordedError(f"{name}: this call is not in the recorded run")

    def answer(self, call: _Call, fn: Callable[..., Any]) -> Any:
        """What the recorded call returned, or its failure raised again."""
        outcome, result, kind, exception = call
        if outcome != "ok":
            raise _exception(fn, exception or {}, result)
        if kind == "text":
            return result
        try:
            value = json.loads(result)
        except ValueError:
            return result
        return value if kind == "json" or isinstance(value, dict | list) else result


def _exception(fn: Callable[..., Any], event: dict[str, Any], result: str) -> BaseException:
    """The recorded failure as an exception, from the span's exception event (else from the stored result,
    ``Error: {type}: {message}``)."""
    name = str(event.get("exception.type") or "ToolError")
    message = str(event.get("exception.message", result.removeprefix("Error: ").removeprefix(f"{name}: ")))
    found = getattr(fn, "__globals__", {}).get(name) or getattr(builtins, name, None)
    if isinstance(found, type) and issubclass(found, Exception):
        try:
            return found(message)
        except Exception:  # a constructor that wants other arguments
            pass
    made: type[Exception] = type(name, (Exception,), {})
    return made(message)


_RECORDED: ContextVar[RecordedTools | None] = ContextVar("agenteval_recorded_tools", default=None)


@contextmanager
def replaying_tools(recorded: RecordedTools) -> Iterator[RecordedTools]:
    """While the block runs (and in tasks and ``to_thread`` workers it starts), functions decorated with
    :func:`trace_tool` answer from ``recorded`` instead of running. Tools traced with the context-manager form run
    their block for real: there is no function to stand in for."""
    token = _RECORDED.set(recorded)
    try:
        yield recorded
    finally:
        _RECORDED.reset(token)


def _bound_arguments(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:  # the call itself will raise; keep what was passed
        return {"args": list(args), **kwargs}
    arguments: dict[str, Any] = {}
    for key, value in bound.arguments.items():
        kind = signature.parameters[key].kind
        if key in ("self", "cls"):
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        else:
            arguments[key] = list(value) if kind is inspect.Parameter.VAR_POSITIONAL else value
    return arguments
