"""Rule matching, choice, rendering and limits, driven through the engine without a socket."""

from __future__ import annotations

import collections
import json
from typing import Any

from harness.mockllm import scenario_from_text
from harness.mockllm._engine import HttpRequest, MockEngine, Planned

SUPPORT = """
name: support
models: [{id: small, context_window: 60}]
rules:
  - name: lookup
    when:
      last_user: {regex: 'order #?(?P<order_id>\\d+)'}
      tools_offered: [get_order]
      tools_not_called: [get_order]
    tool_calls:
      - {name: get_order, arguments: {order_id: "{{ match.order_id }}"}}
  - name: shipped
    when: {last_tool_result: {tool: get_order, contains: shipped}}
    text: "Order {{ tool_json.id }} has shipped."
  - name: second turn
    when: {turn: 1, last_role: user}
    text: second
  - name: system says pirate
    when: {system: {contains: pirate, ignore_case: true}}
    text: Arr.
  - name: noisy
    when: {last_user: noisy}
    alternatives:
      - {weight: 3, text: common}
      - {weight: 1, text: rare}
  - name: structured
    when: {structured_output: true}
    json: {verdict: pass}
fallback: null
"""


def _engine(text: str = SUPPORT) -> MockEngine:
    return MockEngine(scenario_from_text(text))


def _post(engine: MockEngine, body: dict[str, Any], **headers: str) -> Planned:
    raw = json.dumps(body).encode()
    return engine.handle(HttpRequest("POST", "/v1/chat/completions", headers, raw))


def _user(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mock-gpt", "messages": [{"role": "user", "content": text}], **extra}


def _message(planned: Planned) -> dict[str, Any]:
    assert planned.status == 200, planned.body
    return json.loads(planned.body)["choices"][0]["message"]


GET_ORDER = {"type": "function", "function": {"name": "get_order", "parameters": {"type": "object"}}}


def test_regex_groups_fill_tool_call_arguments() -> None:
    planned = _post(_engine(), _user("Where is order #4521?", tools=[GET_ORDER]))
    call = _message(planned)["tool_calls"][0]
    assert call["function"] == {"name": "get_order", "arguments": '{"order_id":"4521"}'}
    assert planned.rule == "lookup"


def test_tool_results_are_matched_by_tool_name_and_parsed_for_templates() -> None:
    body = {
        "model": "mock-gpt",
        "tools": [GET_ORDER],
        "messages": [
            {"role": "user", "content": "order 7"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_order", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"id": 7, "status": "shipped"}'},
        ],
    }
    assert _message(_post(_engine(), body))["content"] == "Order 7 has shipped."
    # The same text from another tool does not count, and get_order was already called: nothing matches.
    body["messages"][1]["tool_calls"][0]["function"]["name"] = "other"
    body["messages"][1]["tool_calls"].append(
        {"id": "c2", "type": "function", "function": {"name": "get_order", "arguments": "{}"}}
    )
    planned = _post(_engine(), body)
    assert planned.status == 400
    assert "no rule of scenario 'support' matched" in json.loads(planned.body)["error"]["message"]


def test_turn_and_system_conditions() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ],
    }
    assert _message(_post(_engine(), body))["content"] == "second"
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": "You are a PIRATE."}, {"role": "user", "content": "hello"}],
    }
    assert _message(_post(_engine(), body))["content"] == "Arr."


def test_alternatives_follow_weights_and_seed_and_temperature() -> None:
    engine = _engine()
    picks = collections.Counter(
        _message(_post(engine, _user("noisy", seed=seed, temperature=1.0)))["content"] for seed in range(400)
    )
    assert set(picks) == {"common", "rare"}
    assert 0.65 < picks["common"] / 400 < 0.85  # weights 3:1
    # Same seed, same answer; temperature 0 is greedy.
    assert {_message(_post(engine, _user("noisy", seed=5)))["content"] for _ in range(5)} == {
        _message(_post(engine, _user("noisy", seed=5)))["content"]
    }
    assert {_message(_post(engine, _user("noisy", seed=s, temperature=0)))["content"] for s in range(50)} == {"common"}
    # Low temperature sharpens the odds.
    cold = sum(
        _message(_post(engine, _user("noisy", seed=s, temperature=0.3)))["content"] == "common" for s in range(400)
    )
    assert cold > picks["common"]


def test_n_choices_vary_and_usage_adds_up() -> None:
    planned = _post(_engine(), _user("noisy", n=40, seed=1))
    payload = json.loads(planned.body)
    assert [c["index"] for c in payload["choices"]] == list(range(40))
    assert {c["message"]["content"] for c in payload["choices"]} == {"common", "rare"}
    usage = payload["usage"]
    assert usage["completion_tokens"] == 40
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_structured_output_fills_schema_and_keeps_rule_values() -> None:
    schema = {
        "type": "object",
        "properties": {"verdict": {"type": "string"}, "score": {"type": "integer", "minimum": 1}},
        "required": ["verdict", "score"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "v", "schema": schema, "strict": True}}
    content = _message(_post(_engine(), _user("judge this", response_format=fmt)))["content"]
    assert json.loads(content) == {"verdict": "pass", "score": 1}


def test_max_tokens_truncates_with_length_finish() -> None:
    engine = _engine("rules:\n  - text: one two three four five six seven\n")
    payload = json.loads(_post(engine, _user("x", max_tokens=3)).body)
    assert payload["choices"][0]["message"]["content"] == "one two three"
    assert payload["choices"][0]["finish_reason"] == "length"
    assert payload["usage"]["completion_tokens"] == 3


def test_context_window_is_enforced_for_listed_models() -> None:
    planned = _post(_engine(), {"model": "small", "messages": [{"role": "user", "content": "word " * 80}]})
    error = json.loads(planned.body)["error"]
    assert planned.status == 400
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length is 60 tokens" in error["message"]


def test_invalid_requests_get_openai_shaped_errors() -> None:
    engine = _engine()
    bad_json = engine.handle(HttpRequest("POST", "/v1/chat/completions", {}, b"{not json"))
    assert bad_json.status == 400
    assert "could not parse the JSON body" in json.loads(bad_json.body)["error"]["message"]
    no_model = _post(engine, {"messages": [{"role": "user", "content": "x"}]})
    assert json.loads(no_model.body)["error"]["param"] == "model"
    assert engine.handle(HttpRequest("GET", "/v1/chat/completions", {}, b"")).status == 405
    assert engine.handle(HttpRequest("GET", "/v1/nowhere", {}, b"")).status == 404
    assert engine.handle(HttpRequest("GET", "/v1/models/unknown", {}, b"")).status == 404
    assert engine.handle(HttpRequest("GET", "/v1/models/small", {}, b"")).status == 200
    bad_header = _post(engine, _user("x"), **{"x-mockllm-fault": "bogus"})
    assert bad_header.status == 400
    assert "unknown fault kind 'bogus'" in json.loads(bad_header.body)["error"]["message"]


def test_identical_requests_plan_identical_bytes_and_different_requests_differ() -> None:
    engine = _engine()
    first, second = _post(engine, _user("noisy", seed=3)), _post(engine, _user("noisy", seed=3))
    assert (first.headers, first.body) == (second.headers, second.body)
    other = _post(engine, _user("noisy", seed=4))
    assert json.loads(other.body)["id"] != json.loads(first.body)["id"]
