"""Talk to a scripted server with the official openai client and check that it behaves like a provider.

This is what ``agenteval selfcheck`` runs on a fresh install: no API key, no network, a few seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import openai
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import BaseModel

from harness.mockllm.server import MockLLMServer
from harness.models import Record

_WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class CheckResult(Record):
    """One self-check step."""

    name: str
    """What was checked."""
    passed: bool
    """Whether it behaved as expected."""
    detail: str
    """What was seen (or what went wrong)."""
    seconds: float
    """How long the step took."""


class SelfCheckReport(Record):
    """The outcome of ``agenteval selfcheck``."""

    base_url: str
    """Where the scripted server listened."""
    scenario: str
    """Scenario it ran."""
    checks: list[CheckResult]
    """Every step, in order."""

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)


class _Forecast(BaseModel):
    city: str
    temperature_c: float
    conditions: list[str]


def run_selfcheck(server: MockLLMServer) -> SelfCheckReport:
    """Run every check against a started server."""
    client = openai.OpenAI(base_url=server.base_url, api_key="mockllm-needs-no-key", max_retries=0, timeout=10)
    retrying = openai.OpenAI(base_url=server.base_url, api_key="mockllm-needs-no-key", max_retries=2, timeout=10)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello, who are you?"}]

    def models() -> str:
        names = [m.id for m in client.models.list()]
        _expect(bool(names), "the model list is empty")
        return f"lists {', '.join(names)}"

    def answer() -> str:
        reply = client.chat.completions.create(model="mock-gpt", messages=messages)
        tokens = reply.usage.total_tokens if reply.usage is not None else 0
        _expect(tokens > 0, "usage is missing")
        return f"{reply.choices[0].message.content!r} ({tokens} tokens)"

    def stream() -> str:
        plain = client.chat.completions.create(model="mock-gpt", messages=messages)
        chunks = client.chat.completions.create(
            model="mock-gpt",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage, count = "", None, 0
        for chunk in chunks:
            count += 1
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            if chunk.usage is not None:
                usage = chunk.usage
        _expect(text == plain.choices[0].message.content, f"stream text {text!r} differs from the plain answer")
        _expect(usage == plain.usage, "stream usage differs from the plain answer's usage")
        return f"{count} chunks reassemble to the same text and usage"

    def tools() -> str:
        reply = client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": "What's the weather in Paris and Oslo?"}],
            tools=[_WEATHER_TOOL],
        )
        calls = reply.choices[0].message.tool_calls or []
        cities = [json.loads(call.function.arguments)["city"] for call in calls if call.type == "function"]
        _expect(cities == ["Paris", "Oslo"], f"expected calls for Paris and Oslo, got {cities}")
        return f"{len(calls)} parallel get_weather calls: {', '.join(cities)}"

    def structured() -> str:
        reply = client.chat.completions.parse(
            model="mock-gpt",
            messages=[{"role": "user", "content": "Forecast for Paris as JSON."}],
            response_format=_Forecast,
        )
        parsed = reply.choices[0].message.parsed
        if not isinstance(parsed, _Forecast):
            raise CheckFailedError("the structured answer did not parse")
        return f"parsed into {type(parsed).__name__}: {parsed.model_dump_json()}"

    def retried() -> str:
        reply = retrying.chat.completions.with_raw_response.create(
            model="mock-gpt",
            messages=messages,
            extra_headers={"x-mockllm-fault": "429:0.05@first 1"},
        )
        _expect(reply.retries_taken == 1, f"expected one retry, saw {reply.retries_taken}")
        return "a scripted 429 was retried by the client after Retry-After"

    def deterministic() -> str:
        first = client.chat.completions.with_raw_response.create(model="mock-gpt", messages=messages)
        second = client.chat.completions.with_raw_response.create(model="mock-gpt", messages=messages)
        _expect(first.http_response.content == second.http_response.content, "identical requests got different bytes")
        return f"identical requests, identical {len(first.http_response.content)}-byte responses"

    steps: list[tuple[str, Callable[[], str]]] = [
        ("models list", models),
        ("plain answer", answer),
        ("streaming", stream),
        ("tool calls", tools),
        ("structured output", structured),
        ("fault + client retry", retried),
        ("determinism", deterministic),
    ]
    results = [_run(name, step) for name, step in steps]
    client.close()
    retrying.close()
    return SelfCheckReport(base_url=server.base_url, scenario=server.scenario.name, checks=results)


class CheckFailedError(Exception):
    """A self-check saw something a provider would not do."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def _run(name: str, step: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail, passed = step(), True
    except Exception as exc:  # a failing check is a result, not a crash
        detail, passed = f"{type(exc).__name__}: {exc}", False
    return CheckResult(name=name, passed=passed, detail=detail, seconds=round(time.perf_counter() - started, 4))
