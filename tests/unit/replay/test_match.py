from __future__ import annotations

import json

import pytest
from vcr.request import Request

from harness.replay import CassetteIndex, body_fingerprint, json_body_matcher, load_cassette, request_key
from harness.replay._match import json_diff
from tests.unit.replay.factories import PYDANTIC_AI

URI = "https://api.openai.com/v1/chat/completions"


def test_canonical_body_ignores_key_order_and_spacing() -> None:
    assert body_fingerprint(b'{"a": 1, "b": [1, 2]}') == body_fingerprint(b'{"b":[1,2],"a":1}')
    assert body_fingerprint(b'{"a": 1}') != body_fingerprint(b'{"a": 2}')
    assert body_fingerprint(b'{"stream": true}') != body_fingerprint(b'{"stream": 1}')
    assert body_fingerprint(b"not json").startswith("raw:")
    assert body_fingerprint(None) == body_fingerprint(b"") == ""


def test_request_key_normalises_method_host_and_query_order() -> None:
    assert request_key("post", "https://API.openai.com/v1/x?b=2&a=1", None) == request_key(
        "POST", "https://api.openai.com/v1/x?a=1&b=2", None
    )
    assert request_key("POST", URI, None) != request_key("POST", "https://other.example/v1/chat/completions", None)


def test_index_finds_each_recorded_request_once_in_order() -> None:
    cassette = load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml")
    index = CassetteIndex(cassette.interactions)
    assert len(index) == 2
    second = cassette.interactions[1]
    # The SDK sends its own key order and separators: still found.
    resent = json.dumps(dict(reversed(list(second.request.json.items())))).encode()
    assert index.match("POST", URI, resent) is second
    assert index.match("POST", URI, resent) is None  # played once
    assert index.unplayed == [cassette.interactions[0]]


def test_index_replays_identical_requests_in_recorded_order() -> None:
    interactions = load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml").interactions
    twice = [interactions[0], interactions[0]]
    index = CassetteIndex(twice)
    body = interactions[0].request.body
    assert index.match("POST", URI, body) is twice[0]
    assert index.match("POST", URI, body) is twice[1]
    assert index.match("POST", URI, body) is None


def test_vcrpy_matcher_compares_json_and_explains_differences() -> None:
    recorded = Request("POST", URI, b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}', {})
    same = Request("POST", URI, '{"messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o"}', {})
    json_body_matcher(same, recorded)
    changed = Request("POST", URI, b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}', {})
    with pytest.raises(AssertionError, match=r'\$\.messages\[0\]\.content: "hello" != "hi"'):
        json_body_matcher(changed, recorded)
    with pytest.raises(AssertionError, match="not both JSON"):
        json_body_matcher(Request("POST", URI, b"plain", {}), recorded)


def test_json_diff_lists_the_first_differences() -> None:
    assert json_diff({"a": 1, "b": [1]}, {"a": 2, "b": [1, 2], "c": 0}) == [
        "$.a: 1 != 2",
        "$.b: 1 items != 2 items",
        "$.c: only in the second",
    ]
    many = json_diff({str(i): i for i in range(9)}, {str(i): -i for i in range(1, 10)})
    assert len(many) == 6
    assert many[-1].startswith("... (")
