"""Reading a chat-completions response body without the SDK's per-call parsing (harness.agent._model)."""

from __future__ import annotations

import json

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
