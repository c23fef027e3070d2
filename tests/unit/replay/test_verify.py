from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from harness.replay import CassetteError, NetworkBlockedError, verify_cassettes
from harness.replay._verify import offline_client, replay_session
from tests.unit.replay.factories import ALL_CASSETTES, CREWAI, FIXTURES, OPENLLMETRY, PYDANTIC_AI


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if anything tries to open a network connection."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError(f"test blocked a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_every_vendored_cassette_replays_offline(no_sockets: list[Any]) -> None:
    results = verify_cassettes([FIXTURES])
    assert [Path(r.path) for r in results] == ALL_CASSETTES
    assert [r.failures for r in results] == [[]] * len(ALL_CASSETTES)
    assert {Path(r.path).name: (r.interactions, r.replayed, r.skipped) for r in results} == {
        CREWAI.name: (1, 1, 0),  # Responses API stream
        OPENLLMETRY.name: (3, 2, 1),  # two Responses calls (gzip bodies), /v1/traces/ingest skipped
        "test_openai_instructions_with_tool_calls_keep_instructions.yaml": (2, 2, 0),
        "test_openai_native_output.yaml": (2, 2, 0),
        "test_openai_text_output_function.yaml": (2, 2, 0),
        "test_openai_tool_output.yaml": (2, 2, 0),
        "test_run_stream_sync_streams_real_model.yaml": (2, 2, 0),  # chat completion streams
    }
    assert all(r.status == "ok" for r in results)
    assert no_sockets == []


def test_verify_never_writes(tmp_path: Path) -> None:
    copy = tmp_path / "c.yaml"
    shutil.copy(PYDANTIC_AI / "test_openai_native_output.yaml", copy)
    before = (copy.read_bytes(), copy.stat().st_mtime_ns)
    verify_cassettes([copy])
    assert (copy.read_bytes(), copy.stat().st_mtime_ns) == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def tampered(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1))
    return target


def test_a_response_that_is_not_a_completion_fails(tmp_path: Path) -> None:
    path = tampered(tmp_path, PYDANTIC_AI / "test_openai_tool_output.yaml", "      object: chat.completion\n", "")
    (result,) = verify_cassettes([path])
    assert result.status == "failed"
    assert (result.replayed, result.skipped) == (1, 0)
    assert result.failures == [
        "interaction 1 (POST /v1/chat/completions): the recorded response is not a chat completion "
        "(object=None, no choices)"
    ]


def test_a_truncated_chat_stream_fails(tmp_path: Path) -> None:
    source = PYDANTIC_AI / "test_run_stream_sync_streams_real_model.yaml"
    text = source.read_text()
    start = text.index(
        '        data: {"id":"chatcmpl-Dx0XpqH8w09uBXwq1zFGYdETjtnEl"', text.index("finish_reason") - 400
    )
    cut = text.index('"finish_reason":"tool_calls"')
    line_start = text.rindex("\n        data:", 0, cut)
    end = text.index("    headers:", cut)
    assert start < line_start
    path = tmp_path / source.name
    path.write_text(text[:line_start] + "\n\n" + text[end:])
    (result,) = verify_cassettes([path])
    assert result.failures == [
        "interaction 1 (POST /v1/chat/completions): the recorded stream ended before any choice had a "
        "finish_reason (truncated?)"
    ]


def test_a_truncated_responses_stream_fails(tmp_path: Path) -> None:
    text = CREWAI.read_text()
    path = tmp_path / CREWAI.name
    path.write_text(
        text[: text.index("        event: response.output_text.done")]
        + "        '\n"
        + text[text.index("    headers:\n      CF-RAY") :]
    )
    (result,) = verify_cassettes([path])
    assert len(result.failures) == 1
    assert "ended with 'response.output_text.delta', not response.completed" in result.failures[0]


def test_a_request_body_that_is_not_json_fails(tmp_path: Path) -> None:
    path = tampered(tmp_path, CREWAI, '    body: \'{"input"', '    body: \'not json {"input"')
    (result,) = verify_cassettes([path])
    assert result.failures == [
        "interaction 1 (POST /v1/responses): the recorded request body is not a JSON object, so it cannot become "
        "create() arguments"
    ]


def test_a_request_the_sdk_cannot_reproduce_fails_with_a_diff(tmp_path: Path) -> None:
    # `extra_headers` is a create() argument, not a body field: the SDK does not send it, so the recorded body
    # cannot be matched, as when an SDK upgrade changes what is sent.
    path = tampered(
        tmp_path,
        PYDANTIC_AI / "test_openai_tool_output.yaml",
        "    parsed_body:\n",
        "    parsed_body:\n      extra_headers: {}\n",
    )
    (result,) = verify_cassettes([path])
    assert (result.status, result.replayed) == ("failed", 1)
    (failure,) = result.failures
    assert failure.startswith("interaction 1 (POST /v1/chat/completions): no recorded response matches what the openai")
    assert "$.extra_headers: only in the second" in failure


def test_a_recorded_error_replays_as_the_sdk_error(tmp_path: Path) -> None:
    path = tampered(
        tmp_path,
        PYDANTIC_AI / "test_openai_tool_output.yaml",
        "    status:\n      code: 200\n      message: OK\n",
        "    status:\n      code: 429\n      message: Too Many Requests\n",
    )
    (result,) = verify_cassettes([path])
    assert (result.status, result.replayed) == ("ok", 2)


def test_an_unreadable_file_is_a_failed_result(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("interactions:\n- request: [\n")
    (result,) = verify_cassettes([tmp_path / "bad.yaml"])
    assert result.status == "failed"
    assert "bad.yaml:3" in result.failures[0]
    with pytest.raises(CassetteError, match="no such file"):
        verify_cassettes([tmp_path / "missing.yaml"])


def test_a_request_the_cassette_does_not_hold_never_reaches_the_network(no_sockets: list[Any]) -> None:
    messages = [{"role": "user", "content": "not recorded"}]
    # openai wraps only httpx2 errors: vcrpy's refusal reaches the caller as it is.
    with (
        replay_session(PYDANTIC_AI / "test_openai_tool_output.yaml"),
        offline_client("https://api.openai.com/v1") as client,
        pytest.raises(CannotOverwriteExistingCassetteException, match="json_body"),
    ):
        client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    # Outside any cassette the transport itself refuses: there is no path to a socket.
    with offline_client("https://api.openai.com/v1") as client, pytest.raises(NetworkBlockedError, match="blocked"):
        client.models.list()
    assert no_sockets == []
