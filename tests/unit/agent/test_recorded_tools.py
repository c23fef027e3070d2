"""Traced tools answering from a recorded run during a replay (harness.agent.instrument.RecordedTools)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.agent._tracing import RunTracer
from harness.agent.instrument import (
    RecordedTools,
    ToolNotRecordedError,
    active_run,
    replaying_tools,
    trace_tool,
)
from harness.models import semconv as sc
from harness.models.traces import Span

REAL_CALLS: list[str] = []


class QuotaError(Exception):
    """A tool's own exception class, defined in the tool's module."""


@trace_tool
def lookup(key: str) -> Any:
    REAL_CALLS.append(key)
    if key == "bad":
        raise QuotaError("quota exceeded for 'bad'")
    if key == "missing":
        raise KeyError(key)
    if key == "text":
        return '{"looks": "like json"}'
    return {"key": key, "values": [1, 2]}


@trace_tool
async def alookup(key: str) -> Any:
    REAL_CALLS.append(f"async {key}")
    return [key]


def _record(*calls: tuple[Any, str]) -> list[Span]:
    """Run the tools for real inside a run; return the execute_tool spans."""
    tracer = RunTracer("r", "a" * 32)
    root = tracer.start("invoke_agent x", "invoke_agent", {})
    with active_run(tracer, root):
        for tool, key in calls:
            try:
                result = tool(key)
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
            except Exception:
                pass
    return [s for s in tracer.spans if s.operation == sc.OP_EXECUTE_TOOL]


def _replay(recorded: RecordedTools, tool: Any, key: str) -> Any:
    tracer = RunTracer("r2", "b" * 32)
    root = tracer.start("invoke_agent x", "invoke_agent", {})
    with active_run(tracer, root), replaying_tools(recorded):
        result = tool(key)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result


def test_results_come_back_as_the_kind_of_value_they_were_and_no_tool_runs() -> None:
    spans = _record((lookup, "a"), (lookup, "text"), (alookup, "z"))
    REAL_CALLS.clear()
    recorded = RecordedTools.from_spans(spans)
    assert _replay(recorded, lookup, "a") == {"key": "a", "values": [1, 2]}
    assert _replay(recorded, lookup, "text") == '{"looks": "like json"}'  # a string that looks like JSON stays one
    assert _replay(recorded, alookup, "z") == ["z"]
    assert REAL_CALLS == []
    assert recorded.problems == []


def test_traces_without_the_result_kind_decode_objects_and_arrays_only() -> None:
    spans = _record((lookup, "a"), (lookup, "text"))
    legacy = [
        s.model_copy(update={"attributes": {k: v for k, v in s.attributes.items() if k != sc.TOOL_RESULT_KIND}})
        for s in spans
    ]
    recorded = RecordedTools.from_spans(legacy)
    assert _replay(recorded, lookup, "a") == {"key": "a", "values": [1, 2]}
    assert _replay(recorded, lookup, "text") == {"looks": "like json"}  # the best an old trace allows


def test_a_recorded_failure_is_raised_again_with_its_class_and_message() -> None:
    spans = _record((lookup, "bad"), (lookup, "missing"))
    recorded = RecordedTools.from_spans(spans)
    with pytest.raises(QuotaError, match="quota exceeded for 'bad'"):  # the tool module's own class
        _replay(recorded, lookup, "bad")
    with pytest.raises(KeyError):  # a built-in one
        _replay(recorded, lookup, "missing")


def test_an_unknown_exception_class_is_made_with_its_name() -> None:
    spans = _record((lookup, "bad"))
    event = spans[0].events[0]
    renamed = event.model_copy(update={"attributes": {**event.attributes, "exception.type": "VendorError"}})
    recorded = RecordedTools.from_spans([spans[0].model_copy(update={"events": [renamed]})])
    with pytest.raises(Exception, match="quota exceeded") as caught:
        _replay(recorded, lookup, "bad")
    assert type(caught.value).__name__ == "VendorError"


def test_a_call_beyond_the_recording_fails_or_in_a_fork_runs_for_real() -> None:
    spans = _record((lookup, "a"))
    REAL_CALLS.clear()
    strict = RecordedTools.from_spans(spans)
    _replay(strict, lookup, "a")
    with pytest.raises(ToolNotRecordedError):
        _replay(strict, lookup, "b")
    assert strict.problems == ["the replay called lookup more often than the original run"]
    fork = RecordedTools.from_spans(spans)
    fork.live = True
    _replay(fork, lookup, "a")
    assert _replay(fork, lookup, "b") == {"key": "b", "values": [1, 2]}
    assert REAL_CALLS == ["b"]
    assert fork.problems == []
