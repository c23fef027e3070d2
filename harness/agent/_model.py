"""One model call: the request, retries with backoff for transient failures only, and its ``chat`` span."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import random
import ssl
import time
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import openai
import orjson
import pydantic
from openai.types.chat import ChatCompletion

from harness.agent._tracing import OpenSpan, RunTracer
from harness.agent.guards import Limits
from harness.errors import ConfigError
from harness.models import semconv as sc
from harness.models.chat import message_text

_RETRYABLE_STATUS = frozenset({408, 409, 429})


class ModelCallError(Exception):
    """A model call failed for good: a non-retryable error, or retries exhausted."""

    def __init__(self, error_type: str, message: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status
        self.attempts = attempts


@dataclass
class ModelReply:
    """A successful model call."""

    completion: ChatCompletion
    body: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class _Failure:
    error_type: str
    message: str
    status: int | None
    retryable: bool
    retry_after: float | None


def make_client(base_url: str | None, api_key: str | None = None, timeout_s: float | None = None) -> openai.AsyncOpenAI:
    """The async openai client every agent uses: no retries of its own (:func:`call_model` retries, and records every
    attempt), no cookies kept between calls; no key needed for a local endpoint such as the scripted server.

    Raises:
        ConfigError: no key (argument or ``OPENAI_API_KEY``) for the provider's default endpoint.
    """
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if key is None:
        if base_url is None:
            raise ConfigError(
                "No API key: set OPENAI_API_KEY, or point the agent at a local endpoint with --base-url "
                "(the scripted server needs no key)."
            )
        key = "agenteval-no-key"
    options: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}  # None would mean "no timeout"
    http_client = openai.DefaultAsyncHttpxClient(cookies=_NoCookies())
    client = openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, http_client=http_client, **options)
    _ROUTES[client] = _route(client, http_client, key)
    return client


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing. Providers set cookies (Cloudflare's ``__cf_bm``); a client that sent them
    back would tie each case's requests to the cases that ran before it (and put them in recordings), and reading
    and writing the jar cost 0.2 ms of CPU per call."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


def classify(exc: Exception) -> _Failure:
    """Decide whether a failed attempt is worth retrying: 429, 5xx, 408/409, timeouts, dropped connections and
    unreadable bodies are; 400 (including context-length errors), 401, 403, 404 and 422 are not."""
    miss = exc if getattr(exc, "is_cassette_miss", False) else exc.__cause__
    if getattr(miss, "is_cassette_miss", False):
        # Replaying: the request differs from the recording. Retrying cannot help; the message is the diff.
        return _Failure("cassette_miss", str(miss), None, False, None)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = getattr(exc, "code", None)
        error_type = str(code) if code else type(exc).__name__
        retryable = status in _RETRYABLE_STATUS or status >= 500
        return _Failure(error_type, str(exc.message), status, retryable, _retry_after(exc.response.headers))
    if isinstance(exc, openai.APITimeoutError):
        return _Failure("timeout", "model call timed out", None, True, None)
    if isinstance(exc, openai.APIConnectionError):
        return _Failure("connection_error", str(exc.__cause__ or exc), None, True, None)
    if isinstance(exc, ValueError):  # json.JSONDecodeError: the provider sent a body that is not JSON
        return _Failure("malformed_response", str(exc), None, True, None)
    return _Failure(type(exc).__name__, str(exc), None, False, None)


def _retry_after(headers: Any) -> float | None:
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is None:
            continue
        try:
            return max(0.0, float(str(value)) / scale)
        except ValueError:
            continue
    return None


def backoff(attempt: int, limits: Limits, retry_after: float | None, rng: random.Random) -> float | None:
    """Seconds to wait before retry number ``attempt`` (1-based), or ``None`` when Retry-After is too long."""
    if retry_after is not None and retry_after > 0:
        return retry_after if retry_after <= limits.retry_after_max_s else None
    ceiling: float = min(limits.backoff_max_s, limits.backoff_initial_s * 2.0 ** (attempt - 1))
    # "Equal jitter": at least half the exponential delay, so retries stay spread out but never hammer.
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


async def call_model(
    client: openai.AsyncOpenAI,
    request: dict[str, Any],
    limits: Limits,
    span: OpenSpan,
    rng: random.Random,
) -> ModelReply:
    """Make one model call with retries; record attempts and retry events on ``span``."""
    attempt = 0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            status, content = await _post_chat(client, request, limits.model_timeout_s)
            body = json.loads(content)
            completion = parse_completion(body)
        except Exception as exc:
            failure = classify(exc)
            delay = backoff(attempt, limits, failure.retry_after, rng) if failure.retryable else None
            if delay is None or attempt > limits.max_retries:
                span.attributes[sc.ATTEMPTS] = attempt
                if failure.status is not None:
                    span.attributes[sc.HTTP_STATUS] = failure.status
                span.attributes[sc.ERROR_TYPE] = failure.error_type
                raise ModelCallError(failure.error_type, failure.message, failure.status, attempt) from exc
            span.event(
                sc.EVENT_RETRY,
                **{
                    sc.ERROR_TYPE: failure.error_type,
                    sc.HTTP_STATUS: failure.status,
                    "attempt": attempt,
                    "delay_s": round(delay, 4),
                    "message": failure.message,
                },
            )
            await asyncio.sleep(delay)
            continue
        span.attributes[sc.ATTEMPTS] = attempt
        span.attributes[sc.HTTP_STATUS] = status
        span.attributes[sc.LATENCY_MS] = round((time.perf_counter() - started) * 1000, 3)
        return ModelReply(completion=completion, body=body, attempts=attempt)


@dataclass(frozen=True)
class _Route:
    """Where and how the runtime posts chat completions for one client: the client's own httpx2 client and pool, its
    chat-completions URL, and the headers the SDK sends (auth, user agent, platform)."""

    http: httpx2.AsyncClient
    url: str
    headers: dict[str, str]


_ROUTES: weakref.WeakKeyDictionary[openai.AsyncOpenAI, _Route] = weakref.WeakKeyDictionary()
"""The clients :func:`make_client` built, whose authentication is known (a static key) and whose httpx2 client is
its own. Any other client (Azure, workload identity, a user's own) goes through the SDK."""


def _route(client: openai.AsyncOpenAI, http: httpx2.AsyncClient, key: str) -> _Route:
    # Merged as the SDK merges them: case-insensitively, the client's default headers (which carry
    # OPENAI_CUSTOM_HEADERS) winning over the bearer key.
    headers = httpx2.Headers({"Authorization": f"Bearer {key}"})
    headers.update({name: value for name, value in client.default_headers.items() if isinstance(value, str)})
    headers["X-Stainless-Async"] = "async:asyncio"  # what the SDK reports from inside a call; the runtime is asyncio
    headers["X-Stainless-Retry-Count"] = "0"  # retries are ours, and every attempt is a new request
    return _Route(http, f"{str(client.base_url).rstrip('/')}/chat/completions", dict(headers.items()))


async def _post_chat(client: openai.AsyncOpenAI, request: dict[str, Any], timeout_s: float) -> tuple[int, bytes]:
    """POST one chat-completions request; return the status and the raw body of a 2xx answer.

    The request goes out through the client's own httpx2 client, so its connection pool, limits and cookie policy,
    any cassette routing (which patches httpx2's transports) and the SDK's headers all apply, and failures raise the
    exceptions the SDK raises (``APIStatusError`` subclasses, ``APITimeoutError``, ``APIConnectionError``). What is
    skipped is the SDK's per-request Python work: validating and copying its request options, walking the body
    through its type annotations and rebuilding the response field by field. Measured at concurrency 16 against the
    scripted server, 1,000 calls take 2.17 s of CPU through ``chat.completions.create``, 1.39 s through the SDK's
    raw ``post`` and 1.02 s this way: the difference is most of agenteval's overhead over a plain SDK loop.
    """
    route = _ROUTES.get(client)
    if route is None:
        response = await client.post(
            "/chat/completions", cast_to=httpx2.Response, body=request, options={"timeout": timeout_s}
        )
        return response.status_code, response.content
    headers = {**route.headers, "X-Stainless-Read-Timeout": str(timeout_s)}
    try:
        content = orjson.dumps(request)
    except TypeError:  # what orjson refuses (integers beyond 64 bits, non-string keys) the standard library writes
        content = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()
    outgoing = route.http.build_request("POST", route.url, content=content, headers=headers, timeout=timeout_s)
    try:
        response = await route.http.send(outgoing)
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=outgoing) from exc
    except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream) as exc:  # what the SDK wraps, and only that
        raise openai.APIConnectionError(request=outgoing) from exc
    if response.status_code >= 400:
        raise client._make_status_error_from_response(response)
    return response.status_code, response.content


def parse_completion(body: Any) -> ChatCompletion:
    """The response body as a :class:`ChatCompletion`: validated (fast, in pydantic-core) when it has the documented
    shape, else built leniently the way the openai SDK does, so that an OpenAI-compatible server that leaves out a
    field still works.

    Raises:
        ValueError: the body is not a JSON object (the provider sent something else; a retryable failure).
    """
    if not isinstance(body, dict):
        raise ValueError(f"the response body is not a JSON object: {str(body)[:200]!r}")
    try:
        return ChatCompletion.model_validate(body)
    except pydantic.ValidationError:
        return ChatCompletion.construct(**body)


def start_chat_span(
    tracer: RunTracer, parent: OpenSpan, request: dict[str, Any], base_url: str | None, step: int
) -> OpenSpan:
    """Open the ``chat {model}`` span with the request side of the GenAI attributes."""
    attributes: dict[str, Any] = {
        sc.OPERATION_NAME: sc.OP_CHAT,
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: request["model"],
        sc.STEP: step,
        sc.REQUEST_BODY: request,
    }
    for key, name in (
        ("temperature", sc.REQUEST_TEMPERATURE),
        ("top_p", sc.REQUEST_TOP_P),
        ("max_tokens", sc.REQUEST_MAX_TOKENS),
        ("seed", sc.REQUEST_SEED),
    ):
        if request.get(key) is not None:
            attributes[name] = request[key]
    if request.get("response_format"):
        attributes[sc.OUTPUT_TYPE] = "json"
    system, messages = to_semconv_messages(request["messages"])
    attributes[sc.SYSTEM_INSTRUCTIONS] = system
    attributes[sc.INPUT_MESSAGES] = messages
    if base_url:
        parts = urlsplit(base_url)
        if parts.hostname:
            attributes[sc.SERVER_ADDRESS] = parts.hostname
        if parts.port:
            attributes[sc.SERVER_PORT] = parts.port
    return tracer.start(f"chat {request['model']}", sc.OP_CHAT, attributes, kind="CLIENT", parent=parent)


def record_reply(span: OpenSpan, reply: ModelReply) -> None:
    """Add the response side of the GenAI attributes to a chat span."""
    completion = reply.completion
    span.attributes[sc.RESPONSE_ID] = completion.id
    span.attributes[sc.RESPONSE_MODEL] = completion.model
    span.attributes[sc.RESPONSE_FINISH_REASONS] = [c.finish_reason for c in completion.choices]
    if completion.usage is not None:
        span.attributes[sc.USAGE_INPUT_TOKENS] = completion.usage.prompt_tokens
        span.attributes[sc.USAGE_OUTPUT_TOKENS] = completion.usage.completion_tokens
    span.attributes[sc.RESPONSE_BODY] = reply.body
    outputs = []
    for choice in completion.choices:
        message = choice.message.model_dump(exclude_none=True)
        _, converted = to_semconv_messages([message])
        for item in converted:
            item["finish_reason"] = choice.finish_reason
            outputs.append(item)
    span.attributes[sc.OUTPUT_MESSAGES] = outputs


def to_semconv_messages(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Chat-completions messages → (``gen_ai.system_instructions``, ``gen_ai.input.messages``) in the GenAI
    semconv part schema."""
    system: list[dict[str, Any]] = []
    converted: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role", "")
        content = message_text(message.get("content"))
        if role in ("system", "developer"):
            system.append({"type": "text", "content": content})
            continue
        parts: list[dict[str, Any]] = []
        if role == "tool":
            parts.append({"type": "tool_call_response", "id": message.get("tool_call_id"), "response": content})
        elif content:
            parts.append({"type": "text", "content": content})
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": _json_or_text(function.get("arguments")),
                }
            )
        converted.append({"role": role, "parts": parts})
    return system, converted


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
