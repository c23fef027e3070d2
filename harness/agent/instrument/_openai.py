"""The openai patch: chat-completions ``create`` calls (sync, async, raw, streamed) recorded as ``chat`` spans."""

from __future__ import annotations

import functools
import inspect
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.agent._model import ModelReply, classify, record_reply
from harness.agent._tracing import OpenSpan
from harness.agent.instrument._run import NOTE, ActiveRun, current_run, exception_attributes, is_given, jsonable
from harness.models import semconv as sc

# The header openai's with_raw_response / with_streaming_response wrappers add to a call (openai._constants).
_RAW_HEADER = "X-Stainless-Raw-Response"
# Call options that are not part of the request body.
_NOT_BODY = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
_ORIGINALS: dict[type, Callable[..., Any]] = {}
_INSTALL_LOCK = threading.Lock()


def install() -> None:
    """Patch ``Completions.create`` and ``AsyncCompletions.create`` once (idempotent, thread-safe)."""
    from openai.resources.chat.completions import AsyncCompletions, Completions

    with _INSTALL_LOCK:
        if _ORIGINALS:
            return
        for cls, wrap in ((Completions, _wrap_sync), (AsyncCompletions, _wrap_async)):
            original = cls.__dict__["create"]
            _ORIGINALS[cls] = original
            # setattr, not assignment: mypy rightly refuses assigning to a method.
            setattr(cls, "create", wrap(original))  # noqa: B010


def uninstall() -> None:
    """Restore the original ``create`` methods (for tests). Clients already holding a ``with_raw_response`` view
    built while patched keep the patched method; it is a pass-through outside runs."""
    with _INSTALL_LOCK:
        for cls, original in _ORIGINALS.items():
            setattr(cls, "create", original)  # noqa: B010
        _ORIGINALS.clear()


def is_installed() -> bool:
    """Whether the openai patch is in place."""
    return bool(_ORIGINALS)


def _wrap_sync(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _ChatCall.begin(self, kwargs)
        if call is None:
            return original(self, *args, **kwargs)
        try:
            result = original(self, *args, **kwargs)
        except Exception as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return create


def _wrap_async(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _ChatCall.begin(self, kwargs)
        if call is None:
            return await original(self, *args, **kwargs)
        try:
            result = await original(self, *args, **kwargs)
        except Exception as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return create


@dataclass
class _ChatCall:
    """One recorded model call, from request to response (or to the end of its stream)."""

    run: ActiveRun
    span: OpenSpan
    raw_mode: str | None
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def begin(cls, resource: Any, kwargs: dict[str, Any]) -> _ChatCall | None:
        run = current_run()
        if run is None:
            return None
        for key, value in kwargs.items():
            # openai accepts any iterable; a one-shot iterator read here would reach the API empty.
            if not isinstance(value, str | bytes | dict) and hasattr(value, "__next__"):
                kwargs[key] = list(value)
        request = {k: jsonable(v) for k, v in kwargs.items() if k not in _NOT_BODY and is_given(v)}
        request.update(jsonable(kwargs.get("extra_body") or {}))
        request.setdefault("model", "unknown")
        request.setdefault("messages", [])
        client = getattr(resource, "_client", None)
        base_url = str(getattr(client, "base_url", "") or "") or None
        span = run.start_chat(request, base_url)
        if span is None:
            return None
        if request.get("stream"):
            span.attributes[sc.REQUEST_STREAM] = True
        headers = kwargs.get("extra_headers") or {}
        return cls(run, span, str(headers.get(_RAW_HEADER)) if _RAW_HEADER in headers else None)

    def fail(self, exc: BaseException) -> None:
        failure = classify(exc) if isinstance(exc, Exception) else None
        attributes = self.span.attributes
        attributes[sc.ATTEMPTS] = 1
        attributes[sc.ERROR_TYPE] = failure.error_type if failure else type(exc).__name__
        if failure is not None and failure.status is not None:
            attributes[sc.HTTP_STATUS] = failure.status
        attributes[sc.LATENCY_MS] = self._latency()
        self.span.event(sc.EVENT_EXCEPTION, **exception_attributes(exc))
        self.run.end(self.span, "ERROR", failure.message if failure else str(exc))

    def finish(self, result: Any) -> Any:
        """Record the response and hand ``result`` back unchanged (a stream keeps being read by the caller)."""
        try:
            if self.raw_mode == "stream":
                return self._request_only(result, "response not recorded: read lazily (with_streaming_response)")
            if self.raw_mode is not None and self.span.attributes.get(sc.REQUEST_STREAM):
                return self._request_only(result, "response not recorded: a raw stream (with_raw_response)")
            if hasattr(result, "_iterator") and self.span.attributes.get(sc.REQUEST_STREAM):
                return self._follow_stream(result)
            if self.raw_mode is not None and hasattr(result, "http_response"):
                completion = result.parse()  # cached by openai: the caller's parse() returns the same object
                reply = ModelReply(completion, json.loads(result.http_response.content), result.retries_taken + 1)
                self.span.attributes[sc.HTTP_STATUS] = result.http_response.status_code
            elif hasattr(result, "choices") and hasattr(result, "to_dict"):
                reply = ModelReply(result, result.to_dict(), 1)
                self.span.attributes[sc.HTTP_STATUS] = 200
            else:
                return self._request_only(result, f"response not recorded: unexpected {type(result).__name__}")
            self._record(reply)
        except Exception as exc:  # recording must never break the user's call
            return self._request_only(result, f"response not recorded: {type(exc).__name__}: {exc}")
        return result

    def _record(self, reply: ModelReply) -> None:
        record_reply(self.span, reply)
        self.span.attributes[sc.ATTEMPTS] = reply.attempts
        self.span.attributes[sc.LATENCY_MS] = self._latency()
        self.run.end(self.span)

    def _request_only(self, result: Any, note: str) -> Any:
        self.span.attributes[NOTE] = note
        self.span.attributes[sc.LATENCY_MS] = self._latency()
        self.run.end(self.span)
        return result

    def _follow_stream(self, stream: Any) -> Any:
        inner, chunks = stream._iterator, _Chunks()
        if inspect.isasyncgen(inner):

            async def follow_async() -> AsyncIterator[Any]:
                try:
                    async for chunk in inner:
                        chunks.add(chunk)
                        yield chunk
                except Exception as exc:
                    self.fail(exc)
                    raise
                self._stream_done(chunks)

            stream._iterator = follow_async()
        else:

            def follow() -> Iterator[Any]:
                try:
                    for chunk in inner:
                        chunks.add(chunk)
                        yield chunk
                except Exception as exc:
                    self.fail(exc)
                    raise
                self._stream_done(chunks)

            stream._iterator = follow()
        return stream

    def _stream_done(self, chunks: _Chunks) -> None:
        from openai.types.chat import ChatCompletion

        body = chunks.body()
        self.span.attributes[sc.HTTP_STATUS] = 200
        try:
            if chunks.problem:
                raise ValueError(chunks.problem)
            self._record(ModelReply(ChatCompletion.model_validate(body), body, 1))
        except Exception as exc:  # e.g. a stream that ended without a finish_reason
            self.span.attributes[sc.RESPONSE_BODY] = body
            self._request_only(None, f"stream not fully recorded: {type(exc).__name__}: {exc}")

    def _latency(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


class _Chunks:
    """Chat-completion chunks assembled into the non-streaming response they add up to."""

    def __init__(self) -> None:
        self.head: dict[str, Any] = {"id": "", "object": "chat.completion", "created": 0, "model": ""}
        self.usage: dict[str, Any] | None = None
        self.problem: str | None = None
        self.choices: dict[int, dict[str, Any]] = {}
        self.calls: dict[int, dict[int, dict[str, Any]]] = {}

    def add(self, chunk: Any) -> None:
        """Take one chunk in; never raises (an unexpected chunk shape is noted, the caller's stream goes on)."""
        try:
            self._add(chunk)
        except Exception as exc:
            self.problem = self.problem or f"unreadable chunk: {type(exc).__name__}: {exc}"

    def _add(self, chunk: Any) -> None:
        self.head.update(id=chunk.id or self.head["id"], created=chunk.created, model=chunk.model or self.head["model"])
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage.to_dict()
        for part in chunk.choices:
            choice = self.choices.setdefault(
                part.index, {"index": part.index, "message": {"role": "assistant", "content": None}}
            )
            delta, message = part.delta, choice["message"]
            if delta.content:
                message["content"] = (message["content"] or "") + delta.content
            for piece in delta.tool_calls or []:
                call = self.calls.setdefault(part.index, {}).setdefault(
                    piece.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                call["id"] = piece.id or call["id"]
                if piece.function is not None:
                    call["function"]["name"] += piece.function.name or ""
                    call["function"]["arguments"] += piece.function.arguments or ""
            if part.finish_reason:
                choice["finish_reason"] = part.finish_reason

    def body(self) -> dict[str, Any]:
        choices = []
        for index in sorted(self.choices):
            choice = self.choices[index]
            calls = self.calls.get(index)
            if calls:
                choice["message"]["tool_calls"] = [calls[i] for i in sorted(calls)]
            choices.append(choice)
        body = {**self.head, "choices": choices}
        if self.usage is not None:
            body["usage"] = self.usage
        return body
