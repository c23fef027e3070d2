"""harness.agent.instrument without a model: traced tools, the active run, the patch's install and removal."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from openai.resources.chat.completions import AsyncCompletions, Completions

from harness.agent import instrument
from harness.agent._tracing import RunTracer, new_trace_id
from harness.agent.instrument import ActiveRun, active_run, current_run, trace_tool
from harness.models import semconv as sc
from harness.models.traces import Span


@contextmanager
def recording(run_id: str = "run-1") -> Iterator[tuple[ActiveRun, list[Span]]]:
    """An active run; the list is filled with its spans (root first) when the block ends."""
    tracer = RunTracer(run_id, new_trace_id())
    root = tracer.start("invoke_agent test", sc.OP_INVOKE_AGENT, {})
    spans: list[Span] = []
    with active_run(tracer, root) as run:
        yield run, spans
    tracer.end(root)
    spans.extend(tracer.ordered())


@trace_tool
def add(a: int, b: int = 1, **extra: Any) -> int:
    """Add two numbers.

    More text that is not the description.
    """
    return a + b


@trace_tool("lookup")
def find(key: str) -> dict[str, str]:
    return {"key": key, "value": "v"}


@trace_tool
def broken(key: str) -> str:
    raise KeyError(key)


@trace_tool
async def fetch(url: str) -> str:
    await asyncio.sleep(0)
    return f"<html>{url}</html>"


@trace_tool
def outer(key: str) -> dict[str, str]:
    return find(key)


def test_outside_a_run_traced_tools_just_run() -> None:
    assert current_run() is None
    assert add(2, b=3) == 5
    assert asyncio.run(fetch("x")) == "<html>x</html>"
    with pytest.raises(KeyError):
        broken("k")
    with trace_tool("manual", {"q": 1}) as span:
        span.result = "ignored"
    assert add.__name__ == "add"
    assert add.__doc__ is not None


def test_decorated_call_becomes_an_execute_tool_span() -> None:
    with recording() as (_, spans):
        assert add(2, b=3, note="n") == 5
    root, span = spans
    assert span.parent_span_id == root.span_id
    assert span.name == "execute_tool add"
    assert span.operation == sc.OP_EXECUTE_TOOL
    assert span.status_code == "OK"
    attributes = span.attributes
    assert attributes[sc.TOOL_NAME] == "add"
    assert json.loads(attributes[sc.TOOL_CALL_ARGUMENTS]) == {"a": 2, "b": 3, "note": "n"}
    assert attributes[sc.TOOL_CALL_RESULT] == "5"
    assert attributes[sc.TOOL_OUTCOME] == "ok"
    assert attributes[sc.TOOL_DESCRIPTION] == "Add two numbers."
    assert attributes[sc.STEP] == 0


def test_renamed_tool_and_structured_result() -> None:
    with recording() as (_, spans):
        find("k1")
    span = spans[1]
    assert span.attributes[sc.TOOL_NAME] == "lookup"
    assert json.loads(span.attributes[sc.TOOL_CALL_RESULT]) == {"key": "k1", "value": "v"}


def test_exception_is_recorded_and_propagates() -> None:
    with recording() as (_, spans), pytest.raises(KeyError):
        broken("missing")
    span = spans[1]
    assert span.status_code == "ERROR"
    assert span.attributes[sc.TOOL_OUTCOME] == "error"
    assert span.attributes[sc.ERROR_TYPE] == "KeyError"
    assert span.attributes[sc.TOOL_CALL_RESULT] == "Error: KeyError: 'missing'"
    (event,) = span.events
    assert event.name == sc.EVENT_EXCEPTION
    assert event.attributes["exception.type"] == "KeyError"
    assert "broken" in event.attributes["exception.stacktrace"]


def test_async_tool_and_nested_tools_have_the_right_parents() -> None:
    async def agent() -> None:
        await fetch("https://example.org")
        outer("k")

    with recording() as (_, spans):
        asyncio.run(agent())
    root, fetched, outer_span, inner = spans
    assert fetched.attributes[sc.TOOL_CALL_RESULT] == "<html>https://example.org</html>"
    assert outer_span.parent_span_id == root.span_id
    assert inner.parent_span_id == outer_span.span_id
    assert inner.attributes[sc.TOOL_NAME] == "lookup"


def test_context_manager_form_with_result_outcome_and_call_id() -> None:
    with recording() as (_, spans):
        with trace_tool("search", {"query": "boots"}, call_id="call_9") as span:
            span.result = ["a", "b"]
            span.attributes["search.hits"] = 2
        with trace_tool("refund", {"order_id": "A1"}) as soft:
            soft.result = "declined"
            soft.outcome = "denied"
    _, search, refund = spans
    assert search.attributes[sc.TOOL_CALL_ID] == "call_9"
    assert json.loads(search.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"query": "boots"}
    assert search.attributes[sc.TOOL_CALL_RESULT] == '["a", "b"]'
    assert search.attributes["search.hits"] == 2
    assert refund.status_code == "ERROR"
    assert refund.attributes[sc.TOOL_OUTCOME] == "denied"
    assert refund.attributes[sc.ERROR_TYPE] == "denied"


def test_sync_tools_in_worker_threads_are_traced_through_to_thread() -> None:
    async def agent() -> list[int]:
        return await asyncio.gather(asyncio.to_thread(add, 1), asyncio.to_thread(add, 2))

    with recording() as (_, spans):
        assert asyncio.run(agent()) == [2, 3]
    assert sorted(json.loads(s.attributes[sc.TOOL_CALL_ARGUMENTS])["a"] for s in spans[1:]) == [1, 2]
    assert len({s.seq for s in spans}) == 3


def test_a_bare_thread_does_not_see_the_run() -> None:
    with recording() as (_, spans):
        thread = threading.Thread(target=add, args=(1,))
        thread.start()
        thread.join()
    assert len(spans) == 1


def test_concurrent_runs_keep_their_spans_apart() -> None:
    async def one(run_id: str, key: str) -> list[Span]:
        with recording(run_id) as (_, spans):
            for _ in range(3):
                find(key)
                await asyncio.sleep(0)  # interleave with the other run
        return spans

    async def both() -> list[list[Span]]:
        return await asyncio.gather(one("run-a", "a"), one("run-b", "b"))

    first, second = asyncio.run(both())
    for spans, run_id, key in ((first, "run-a", "a"), (second, "run-b", "b")):
        assert len(spans) == 4
        assert {s.run_id for s in spans} == {run_id}
        assert {json.loads(s.attributes[sc.TOOL_CALL_ARGUMENTS])["key"] for s in spans[1:]} == {key}
        assert {s.parent_span_id for s in spans[1:]} == {spans[0].span_id}


def test_after_the_run_nothing_more_is_recorded() -> None:
    with recording() as (run, spans):
        pass
    assert run.closed
    assert run.start_span("late", sc.OP_EXECUTE_TOOL, {}) is None
    assert len(spans) == 1


def test_spans_left_open_are_ended_with_the_run() -> None:
    with recording() as (run, spans):
        run.start_span("execute_tool slow", sc.OP_EXECUTE_TOOL, {})
    assert spans[1].status_code == "ERROR"
    assert "still open" in spans[1].attributes[instrument.NOTE]


def test_trace_tool_rejects_other_targets() -> None:
    with pytest.raises(TypeError, match="a function or a tool name"):
        trace_tool(42)  # type: ignore[call-overload]


def test_install_is_idempotent_and_uninstall_restores() -> None:
    originals = (Completions.__dict__["create"], AsyncCompletions.__dict__["create"])
    instrument.install()
    instrument.install()
    patched = Completions.__dict__["create"]
    assert instrument.is_installed()
    assert patched is not originals[0]
    assert patched.__wrapped__ is originals[0]
    assert AsyncCompletions.__dict__["create"].__wrapped__ is originals[1]
    instrument.uninstall()
    assert not instrument.is_installed()
    assert (Completions.__dict__["create"], AsyncCompletions.__dict__["create"]) == originals
