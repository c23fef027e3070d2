"""The scripted server through the official openai client, sync and async, as an agent would use it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from harness.mockllm import MockLLMServer
from tests.conftest import MakeServer

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
HELLO = [{"role": "user", "content": "Hello! Tell me something, anything at all, in a few words."}]


def _client(server: MockLLMServer, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10)
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", **options)


def _async_client(server: MockLLMServer, **options: Any) -> openai.AsyncOpenAI:
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10)
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", **options)


def _request(client: openai.OpenAI, stream: bool, fault: str, **extra: Any) -> None:
    """One chat request carrying a fault header; a stream is read to the end, where its errors surface."""
    result = client.chat.completions.create(
        model="mock-gpt", messages=HELLO, stream=stream, extra_headers={"x-mockllm-fault": fault}, **extra
    )
    if stream:
        list(result)  # type: ignore[call-overload]


def test_plain_answer_with_usage(mockllm: MockLLMServer) -> None:
    reply = _client(mockllm).chat.completions.create(model="mock-gpt", messages=HELLO)
    assert reply.choices[0].message.content == "Hello! I'm mockllm, a scripted model. How can I help?"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.id.startswith("chatcmpl-")


def test_models_list(mockllm: MockLLMServer) -> None:
    client = _client(mockllm)
    assert [m.id for m in client.models.list()] == ["mock-gpt", "mock-gpt-mini"]
    assert client.models.retrieve("mock-gpt").owned_by == "agenteval-mockllm"


@pytest.mark.parametrize("tools", [None, [WEATHER]], ids=["text", "tool-calls"])
def test_stream_reassembles_to_the_non_streaming_answer(mockllm: MockLLMServer, tools: Any) -> None:
    client = _client(mockllm)
    messages = [{"role": "user", "content": "What is the weather in Lisbon and Madrid?"}] if tools else HELLO
    extra: dict[str, Any] = {"tools": tools} if tools else {}
    plain = client.chat.completions.create(model="mock-gpt", messages=messages, **extra)
    stream = client.chat.completions.create(
        model="mock-gpt", messages=messages, stream=True, stream_options={"include_usage": True}, **extra
    )
    text, usage, finish, calls, chunks = "", None, None, {}, 0
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            assert not chunk.choices  # usage comes in its own final chunk
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = delta.id or entry["id"]
                entry["name"] += (delta.function.name or "") if delta.function else ""
                entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert chunks > 3
    assert text == (plain.choices[0].message.content or "")
    assert usage == plain.usage
    assert finish == plain.choices[0].finish_reason
    expected_calls = [
        {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
        for c in plain.choices[0].message.tool_calls or []
    ]
    assert [calls[i] for i in sorted(calls)] == expected_calls


def test_stream_without_include_usage_has_no_usage_chunk(mockllm: MockLLMServer) -> None:
    chunks = list(_client(mockllm).chat.completions.create(model="mock-gpt", messages=HELLO, stream=True))
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)


def test_parallel_tool_calls_and_tool_result_round_trip(mockllm: MockLLMServer) -> None:
    client = _client(mockllm)
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris and Oslo?"}]
    first = client.chat.completions.create(model="mock-gpt", messages=messages, tools=[WEATHER])
    calls = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert len({c.id for c in calls}) == 2
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    cities = [json.loads(c.function.arguments)["city"] for c in calls]
    messages += [
        {"role": "tool", "tool_call_id": c.id, "content": f"sunny in {city}"}
        for c, city in zip(calls, cities, strict=True)
    ]
    second = client.chat.completions.create(model="mock-gpt", messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "Here is what the tools returned: sunny in Oslo"


class Invoice(BaseModel):
    customer: str
    total_cents: int
    lines: list[str]
    paid: bool


def test_structured_output_parses_into_a_pydantic_model(mockllm: MockLLMServer) -> None:
    reply = _client(mockllm).chat.completions.parse(
        model="mock-gpt", messages=[{"role": "user", "content": "Make an invoice."}], response_format=Invoice
    )
    assert isinstance(reply.choices[0].message.parsed, Invoice)


def test_structured_output_with_rule_values(make_mockllm: MakeServer) -> None:
    from harness.mockllm import scenario_from_text

    server = make_mockllm(scenario_from_text("rules:\n  - json: {customer: ACME, paid: true}\n"))
    parsed = (
        _client(server)
        .chat.completions.parse(model="mock-gpt", messages=[{"role": "user", "content": "x"}], response_format=Invoice)
        .choices[0]
        .message.parsed
    )
    assert parsed is not None
    assert (parsed.customer, parsed.paid) == ("ACME", True)


# -- faults ----------------------------------------------------------------------------------------------------

STATUS_FAULTS = [
    ("429", openai.RateLimitError, 429),
    ("500", openai.InternalServerError, 500),
    ("503", openai.InternalServerError, 503),
    ("400", openai.BadRequestError, 400),
    ("401", openai.AuthenticationError, 401),
    ("404", openai.NotFoundError, 404),
    ("context_length", openai.BadRequestError, 400),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(("spec", "error", "status"), STATUS_FAULTS, ids=[f[0] for f in STATUS_FAULTS])
def test_status_faults_raise_the_matching_openai_error(
    mockllm: MockLLMServer, spec: str, error: type[openai.APIStatusError], status: int, stream: bool
) -> None:
    client = _client(mockllm)
    with pytest.raises(error) as caught:
        _request(client, stream, spec)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert "scripted by mockllm" in caught.value.body["message"]
    if spec == "context_length":
        assert caught.value.code == "context_length_exceeded"


def test_rate_limit_carries_retry_after(mockllm: MockLLMServer) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        _client(mockllm).chat.completions.create(
            model="mock-gpt", messages=HELLO, extra_headers={"x-mockllm-fault": "429:2.5"}
        )
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "2500")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("timeout:3", openai.APITimeoutError),
        ("drop", openai.APIConnectionError),
        ("truncate", openai.APIConnectionError),
    ],
)
def test_transport_faults_raise_connection_errors(
    mockllm: MockLLMServer, spec: str, error: type[Exception], stream: bool
) -> None:
    client = _client(mockllm, timeout=0.5)
    with pytest.raises(error):
        _request(client, stream, spec)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_malformed_body_fails_to_decode(mockllm: MockLLMServer, stream: bool) -> None:
    # The openai client does not wrap a body it cannot decode: json's own error reaches the caller.
    with pytest.raises(json.JSONDecodeError):
        _request(_client(mockllm), stream, "malformed_json")


def test_malformed_tool_arguments_arrive_as_broken_json(mockllm: MockLLMServer) -> None:
    reply = _client(mockllm).chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "weather in Rome"}],
        tools=[WEATHER],
        extra_headers={"x-mockllm-fault": "bad_tool_args"},
    )
    arguments = (reply.choices[0].message.tool_calls or [])[0].function.arguments
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)


@pytest.mark.parametrize(
    "spec",
    ["429:0.01@first 2", "500@first 2", "503:0@first 2", "drop@first 2", "truncate@first 2", "timeout:2@first 2"],
)
def test_client_retries_get_past_transient_faults(mockllm: MockLLMServer, spec: str) -> None:
    client = _client(mockllm, max_retries=2, timeout=0.4)
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": f"retry me ({spec})"}],
        extra_headers={"x-mockllm-fault": spec},
    )
    assert raw.retries_taken == 2
    assert raw.parse().choices[0].message.content == f"You said: retry me ({spec})"


def test_client_does_not_retry_client_errors(mockllm: MockLLMServer) -> None:
    client = _client(mockllm, max_retries=3)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": "no retry"}],
            extra_headers={"x-mockllm-fault": "401@first 1"},  # a retry would succeed: proves none happened
        )


def test_server_schedule_every_third_request(make_mockllm: MakeServer) -> None:
    client = _client(make_mockllm(faults="500@every 3"))
    outcomes = []
    for number in range(1, 8):
        try:
            client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": str(number)}])
            outcomes.append("ok")
        except openai.InternalServerError:
            outcomes.append("500")
    assert outcomes == ["ok", "ok", "500", "ok", "ok", "500", "ok"]


def test_server_schedule_seeded_percent_is_reproducible(make_mockllm: MakeServer) -> None:
    def failures(seed: int) -> list[int]:
        client = _client(make_mockllm(faults=f"drop@30% seed {seed}"))
        failed = []
        for number in range(1, 41):
            try:
                client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "x"}])
            except openai.APIConnectionError:
                failed.append(number)
        return failed

    first = failures(3)
    assert 4 <= len(first) <= 20
    assert failures(3) == first
    assert failures(4) != first


# -- determinism and load --------------------------------------------------------------------------------------


def test_identical_requests_get_byte_identical_responses(mockllm: MockLLMServer) -> None:
    client = _client(mockllm)
    request = {"model": "mock-gpt", "messages": [{"role": "user", "content": "flip a coin"}], "seed": 11}
    first = client.chat.completions.with_raw_response.create(**request)
    second = client.chat.completions.with_raw_response.create(**request)
    assert first.http_response.content == second.http_response.content
    volatile = {"date", "server"}
    assert {k: v for k, v in first.headers.items() if k not in volatile} == {
        k: v for k, v in second.headers.items() if k not in volatile
    }
    streamed = [
        client.chat.completions.with_raw_response.create(**request, stream=True).http_response.read() for _ in range(2)
    ]
    assert streamed[0] == streamed[1]


def test_seed_varies_noisy_answers_reproducibly(mockllm: MockLLMServer) -> None:
    client = _client(mockllm)

    def flips() -> list[str | None]:
        return [
            client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": "flip a coin"}], seed=seed, temperature=1
            )
            .choices[0]
            .message.content
            for seed in range(30)
        ]

    first = flips()
    assert set(first) == {"Heads.", "Tails."}
    assert flips() == first


def test_async_client_200_concurrent_requests(mockllm: MockLLMServer) -> None:
    async def main() -> list[str | None]:
        async with _async_client(mockllm) as client:
            replies = await asyncio.gather(
                *(
                    client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": f"n{i}"}])
                    for i in range(200)
                )
            )
        return [r.choices[0].message.content for r in replies]

    answers = asyncio.run(main())
    assert answers == [f"You said: n{i}" for i in range(200)]


def test_async_streaming_and_faults(mockllm: MockLLMServer) -> None:
    async def main() -> tuple[str, type[Exception] | None]:
        async with _async_client(mockllm) as client:
            stream = await client.chat.completions.create(model="mock-gpt", messages=HELLO, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            try:
                await client.chat.completions.create(
                    model="mock-gpt", messages=HELLO, extra_headers={"x-mockllm-fault": "503"}
                )
            except openai.InternalServerError as exc:
                return text, type(exc)
            return text, None

    text, error = asyncio.run(main())
    assert text == "Hello! I'm mockllm, a scripted model. How can I help?"
    assert error is openai.InternalServerError


def test_async_tool_calls_and_structured_output(mockllm: MockLLMServer) -> None:
    async def main() -> tuple[list[str], Invoice | None]:
        async with _async_client(mockllm) as client:
            reply = await client.chat.completions.create(
                model="mock-gpt", messages=[{"role": "user", "content": "weather in Kyoto and Nara"}], tools=[WEATHER]
            )
            calls = [c.function.arguments for c in reply.choices[0].message.tool_calls or [] if c.type == "function"]
            parsed = await client.chat.completions.parse(
                model="mock-gpt", messages=[{"role": "user", "content": "invoice"}], response_format=Invoice
            )
        return calls, parsed.choices[0].message.parsed

    calls, invoice = asyncio.run(main())
    assert calls == ['{"city":"Kyoto"}', '{"city":"Nara"}']
    assert isinstance(invoice, Invoice)
