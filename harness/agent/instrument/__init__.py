"""Trace a user's own agent without changing its code: model calls through the openai client, and tools.

While a case runs (inside :func:`active_run`), every call of the official openai client's chat-completions ``create``
(sync and async, plain or through ``with_raw_response``) becomes a ``chat`` span with the GenAI attributes, the
request and response bodies, usage and latency, under the run's root span (or under the traced tool that made it).
Tools are traced with :func:`trace_tool`, as a decorator or a context manager::

    from harness.agent.instrument import trace_tool

    @trace_tool
    def get_weather(city: str) -> dict[str, Any]:
        ...

    with trace_tool("search", {"query": query}) as span:
        span.result = index.search(query)

During ``agenteval replay`` (inside :func:`replaying_tools`), functions decorated with :func:`trace_tool` do not run:
they answer with what the recorded run's calls returned, or raise its failures again (:class:`RecordedTools`).

Outside an active run everything is a pass-through: the patched client behaves exactly as the original, and traced
tools just run. Recording never changes what the user's code sees; a failure to record is noted on the span.

The patch is class-level and installed once (:func:`install`, idempotent; :func:`uninstall` restores the originals).
The active run lives in a context variable, so concurrent runs (``asyncio.gather``) keep their spans apart;
``asyncio.to_thread`` copies the context, so sync agents in worker threads are traced too. Threads the user starts
without copying the context (a bare ``threading.Thread``, a ``ThreadPoolExecutor``) are not traced.

Streaming (``stream=True``): the stream is handed back unchanged and its chunks are collected as the caller reads
them; the span ends when the stream is exhausted, with the response assembled from the chunks (usage only when the
request asked for it with ``stream_options.include_usage``). A stream left unfinished is ended with the run, with a
note. ``with_streaming_response`` and raw streams are recorded request-only, with a note. ``parse`` (structured
outputs helper) and the Responses API are not traced.
"""

from harness.agent.instrument._openai import install, is_installed, uninstall
from harness.agent.instrument._run import NOTE, ActiveRun, active_run, current_run, exception_attributes
from harness.agent.instrument._tools import RecordedTools, ToolNotRecordedError, ToolSpan, replaying_tools, trace_tool

__all__ = [
    "NOTE",
    "ActiveRun",
    "RecordedTools",
    "ToolNotRecordedError",
    "ToolSpan",
    "active_run",
    "current_run",
    "exception_attributes",
    "install",
    "is_installed",
    "replaying_tools",
    "trace_tool",
    "uninstall",
]
