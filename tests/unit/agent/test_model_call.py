"""Reading a chat-completions response body without the SDK's per-call parsing (harness.agent._model)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.agent._model import classify, parse_completion

BODY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "mock-gpt",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def test_a_documented_body_is_validated_into_a_chat_completion() -> None:
    completion = parse_completion(json.loads(json.dumps(BODY)))
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "f"  # type: ignore[union-attr]
    assert call.function.arguments == '{"x": 1}'  # type: ignore[union-attr]
    assert completion.usage is not None
    assert completion.usage.total_tokens == 5


def test_a_body_missing_fields_is_still_read_as_the_sdk_would() -> None:
    # Some OpenAI-compatible servers leave out `created` and `object`; validation fails, the lenient path reads it.
    body = {k: v for k, v in BODY.items() if k not in ("created", "object")}
    completion = parse_completion(body)
    assert completion.id == "chatcmpl-1"
    assert completion.choices[0].message.tool_calls[0].function.name == "f"  # type: ignore[index]


@pytest.mark.parametrize("body", [[1, 2], "text", None])
def test_a_body_that_is_not_an_object_is_a_retryable_malformed_response(body: object) -> None:
    with pytest.raises(ValueError, match="not a JSON object") as caught:
        parse_completion(body)
    failure = classify(caught.value)
    assert (failure.error_type, failure.retryable) == ("malformed_response", True)


def test_the_client_keeps_no_cookies_between_calls() -> None:
    # The scripted server sets a Cloudflare-style cookie on every response, as providers do. A client that kept it
    # would send it back with the next case's requests (over https; this one is Secure), tying cases together.
    import asyncio
    import random

    import httpx2

    from harness.agent._model import call_model, make_client
    from harness.agent._tracing import RunTracer
    from harness.agent.guards import Limits
    from harness.mockllm import MockLLMServer

    request = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hello"}]}

    async def kept_by_ours(base_url: str) -> list[str]:
        client = make_client(base_url)
        try:
            span = RunTracer("r", "t" * 32).start("chat", "chat", {})
            reply = await call_model(client, request, Limits(), span, random.Random(0))
            assert reply.completion.choices
            return [cookie.name for cookie in client._client.cookies.jar]
        finally:
            await client.close()

    async def kept_by_plain_httpx(base_url: str) -> list[str]:
        async with httpx2.AsyncClient() as client:
            response = await client.post(f"{base_url}/chat/completions", json=request)
            assert "__cf_bm=" in response.headers["set-cookie"]
            return [cookie.name for cookie in client.cookies.jar]

    with MockLLMServer() as server:
        assert asyncio.run(kept_by_plain_httpx(server.base_url)) == ["__cf_bm"]
        assert asyncio.run(kept_by_ours(server.base_url)) == []


# The direct route (harness.agent._model._post_chat) must send what the SDK sends and raise what the SDK raises: these
# tests compare the two on the same client, so that an openai upgrade that changes either shows up here.

REQUEST = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hello"}], "seed": 3, "temperature": 0.5}


def _through_both(
    monkeypatch: pytest.MonkeyPatch, faults: str | None = None
) -> tuple[list[tuple[dict[str, str], bytes]], list[BaseException | None]]:
    """One request through ``chat.completions.create``, then the same through ``call_model`` (one attempt)."""
    import asyncio
    import random

    from harness.agent._model import _ROUTES, ModelCallError, call_model, make_client
    from harness.agent._tracing import RunTracer
    from harness.agent.guards import Limits
    from harness.mockllm import MockLLMServer

    monkeypatch.setenv("OPENAI_ORG_ID", "org-test")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_test")
    seen: list[tuple[dict[str, str], bytes]] = []
    errors: list[BaseException | None] = []

    async def both(client: Any) -> None:
        try:
            try:
                await client.chat.completions.create(**REQUEST, timeout=60.0)  # type: ignore[call-overload]
                errors.append(None)
            except Exception as exc:
                errors.append(exc)
            span = RunTracer("r", "t" * 32).start("chat", "chat", {})
            try:
                await call_model(client, dict(REQUEST), Limits(max_retries=0), span, random.Random(0))
                errors.append(None)
            except ModelCallError as exc:
                errors.append(exc.__cause__)
        finally:
            await client.close()

    with MockLLMServer(faults=faults, on_request=lambda r, p: seen.append((dict(r.headers), r.body))) as server:
        # Made outside the event loop, as a caller may: what the SDK reports of the loop is read inside the call.
        client = make_client(server.base_url, api_key="sk-test-key")
        assert client in _ROUTES  # else both calls would go through the SDK and compare it with itself
        asyncio.run(both(client))
    return seen, errors


def test_the_direct_route_sends_what_the_sdk_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    seen, errors = _through_both(monkeypatch)
    assert errors == [None, None]
    (sdk_headers, sdk_body), (ours_headers, ours_body) = seen
    assert ours_headers == sdk_headers
    assert ours_headers["authorization"] == "Bearer sk-test-key"
    assert ours_headers["openai-organization"] == "org-test"
    assert json.loads(ours_body) == json.loads(sdk_body) == REQUEST


def test_custom_headers_win_over_the_key_as_they_do_in_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    # A gateway token given in OPENAI_CUSTOM_HEADERS replaces the bearer key, whatever the header's letter case.
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "authorization: Bearer gateway-token\nX-Team: evals")
    seen, errors = _through_both(monkeypatch)
    assert errors == [None, None]
    (sdk_headers, _), (ours_headers, _) = seen
    assert ours_headers == sdk_headers
    assert ours_headers["authorization"] == "Bearer gateway-token"
    assert ours_headers["x-team"] == "evals"


def test_an_error_that_is_not_the_network_s_is_not_retried_as_one() -> None:
    # The SDK wraps transport errors only; anything else (here a failing request hook) surfaces as itself.
    import asyncio
    import random

    from harness.agent._model import ModelCallError, call_model, make_client
    from harness.agent._tracing import RunTracer
    from harness.agent.guards import Limits
    from harness.mockllm import MockLLMServer

    async def hook(request: Any) -> None:
        raise RuntimeError("hook failed")

    async def call(base_url: str) -> None:
        client = make_client(base_url)
        client._client.event_hooks["request"].append(hook)
        try:
            span = RunTracer("r", "a" * 32).start("chat", "chat", {})
            await call_model(client, dict(REQUEST), Limits(max_retries=3), span, random.Random(0))
        finally:
            await client.close()

    with MockLLMServer() as server, pytest.raises(ModelCallError) as caught:
        asyncio.run(call(server.base_url))
    assert (caught.value.error_type, caught.value.attempts) == ("RuntimeError", 1)


@pytest.mark.parametrize("fault", ["429:0.01", "400", "401", "404", "500", "context_length"])
def test_the_direct_route_raises_what_the_sdk_raises(monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    _, errors = _through_both(monkeypatch, faults=fault)
    sdk_error, our_error = errors
    assert sdk_error is not None
    assert our_error is not None
    assert type(our_error) is type(sdk_error)
    assert str(our_error) == str(sdk_error)
    assert classify(our_error) == classify(sdk_error)  # type: ignore[arg-type]


def test_a_dropped_connection_is_a_retryable_connection_error() -> None:
    import asyncio
    import random
    import socket

    from harness.agent._model import ModelCallError, call_model, make_client
    from harness.agent._tracing import RunTracer
    from harness.agent.guards import Limits

    with socket.socket() as listener:  # a port that accepts nothing: bound, never listening
        listener.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"

        async def call() -> None:
            client = make_client(base_url)
            try:
                span = RunTracer("r", "t" * 32).start("chat", "chat", {})
                await call_model(client, dict(REQUEST), Limits(max_retries=0), span, random.Random(0))
            finally:
                await client.close()

        with pytest.raises(ModelCallError) as caught:
            asyncio.run(call())
    assert caught.value.error_type == "connection_error"
    assert classify(caught.value.__cause__).retryable  # type: ignore[arg-type]


def test_a_client_made_elsewhere_goes_through_the_sdk() -> None:
    import asyncio
    import random

    import openai

    from harness.agent._model import call_model
    from harness.agent._tracing import RunTracer
    from harness.agent.guards import Limits
    from harness.mockllm import MockLLMServer

    seen: list[dict[str, str]] = []

    async def call(base_url: str) -> str | None:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-own", max_retries=0)
        try:
            span = RunTracer("r", "t" * 32).start("chat", "chat", {})
            reply = await call_model(client, dict(REQUEST), Limits(), span, random.Random(0))
            return reply.completion.choices[0].message.content
        finally:
            await client.close()

    with MockLLMServer(on_request=lambda r, p: seen.append(dict(r.headers))) as server:
        assert asyncio.run(call(server.base_url))
    assert seen[0]["authorization"] == "Bearer sk-own"
