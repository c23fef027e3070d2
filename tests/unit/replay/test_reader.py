from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest

from harness.replay import LOADER_NAME, CassetteError, load_cassette, parse_cassette
from harness.replay._http import header_values
from tests.unit.replay.factories import ALL_CASSETTES, CREWAI, FIXTURES, OPENLLMETRY, PYDANTIC_AI

# (file, interactions, dialect): read off the vendored files by hand.
EXPECTED = [
    ("crewai/test_openai_responses_api_streaming.yaml", 1, "vcrpy"),
    ("openllmetry/test_agent_with_function_tool_spans.yaml", 3, "vcrpy"),
    ("pydantic-ai/test_openai_instructions_with_tool_calls_keep_instructions.yaml", 2, "pydantic-ai"),
    ("pydantic-ai/test_openai_native_output.yaml", 2, "pydantic-ai"),
    ("pydantic-ai/test_openai_text_output_function.yaml", 2, "pydantic-ai"),
    ("pydantic-ai/test_openai_tool_output.yaml", 2, "pydantic-ai"),
    ("pydantic-ai/test_run_stream_sync_streams_real_model.yaml", 2, "pydantic-ai"),
]


def test_every_vendored_cassette_is_covered() -> None:
    assert sorted(str(p.relative_to(FIXTURES)) for p in ALL_CASSETTES) == [name for name, _, _ in EXPECTED]


@pytest.mark.parametrize(("name", "count", "dialect"), EXPECTED)
def test_reads_every_vendored_cassette(name: str, count: int, dialect: str) -> None:
    cassette = load_cassette(FIXTURES / name)
    assert len(cassette.interactions) == count
    assert cassette.dialect == dialect
    for interaction in cassette.interactions:
        assert interaction.request.method == "POST"
        assert interaction.request.host == "api.openai.com"
        assert isinstance(interaction.request.json, dict)


def test_uses_libyaml() -> None:
    assert LOADER_NAME == "CSafeLoader"


def test_gzip_binary_bodies_are_decoded_and_the_header_dropped() -> None:
    cassette = load_cassette(OPENLLMETRY)
    first, ingest, last = cassette.interactions
    for interaction in (first, last):
        response = interaction.response
        assert response.content_encoding == "gzip"
        assert header_values(response.headers, "content-encoding") == []
        assert response.json["object"] == "response"
        assert json.loads(response.body) == response.json
        assert not response.is_stream
    assert first.response.json["output"][0]["type"] == "function_call"
    assert last.response.json["output"][0]["type"] == "message"
    assert ingest.request.path == "/v1/traces/ingest"
    assert (ingest.response.status, ingest.response.body, ingest.response.json) == (204, b"", None)


def test_parsed_body_trees_are_reencoded_as_json() -> None:
    cassette = load_cassette(PYDANTIC_AI / "test_openai_native_output.yaml")
    request, response = cassette.interactions[0].request, cassette.interactions[0].response
    assert request.json["model"] == "gpt-4o"
    assert json.loads(request.body or b"") == request.json
    assert response.json["object"] == "chat.completion"
    assert json.loads(response.body) == response.json
    # The re-encoded body is shorter than the original: content-length follows it.
    assert header_values(response.headers, "content-length") == [str(len(response.body))]
    assert header_values(request.headers, "content-length") == [str(len(request.body or b""))]


def test_streams_are_detected_in_both_apis() -> None:
    chat = load_cassette(PYDANTIC_AI / "test_run_stream_sync_streams_real_model.yaml")
    assert all(i.response.is_stream and i.response.json is None for i in chat.interactions)
    assert chat.interactions[0].response.body.rstrip().endswith(b"data: [DONE]")
    responses = load_cassette(CREWAI).interactions[0].response
    assert responses.is_stream
    assert responses.body.startswith(b"event: response.created\ndata: {")


def test_placeholder_headers_are_kept_as_they_are() -> None:
    request = load_cassette(CREWAI).interactions[0].request
    assert header_values(request.headers, "authorization") == ["AUTHORIZATION-XXX"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cassette.yaml"
    path.write_text(text)
    return path


RESPONSE = (
    "  response:\n    body:\n      string: ok\n    headers: {}\n    status:\n      code: 200\n      message: OK\n"
)


def test_unsafe_tags_are_refused_with_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "interactions:\n- request:\n    body: !!python/object/apply:os.system ['echo pwned']\n"
        "    method: POST\n    uri: https://x/v1\n" + RESPONSE + "version: 1\n",
    )
    with pytest.raises(CassetteError, match=rf"{path}:3: .*python/object/apply"):
        load_cassette(path)


def test_yaml_syntax_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "interactions:\n- request:\n    method: POST\n    uri: [unclosed\nversion: 1\n")
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    assert f"{path}:5:" in str(info.value)
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- request: {}\n", "vcrpy < 1.0"),
        ("requests: []\nresponses: []\n", "langchain"),
        ("interactions: []\nversion: 2\n", ":2: version: unsupported cassette format version 2"),
        (
            "interactions:\n- request:\n    method: POST\n" + RESPONSE,
            ":2: interactions[0].request: the request has no 'uri'",
        ),
        (
            "interactions:\n- request:\n    method: POST\n    uri: https://x/v1\n  response:\n    headers: {}\n",
            ":5: interactions[0].response: the response has no 'status",
        ),
        (
            "interactions:\n- request:\n    method: POST\n    uri: https://x/v1\n    body: {a: 1}\n" + RESPONSE,
            ":5: interactions[0].request.body: a body must be a string or !!binary, not dict",
        ),
    ],
)
def test_structural_errors_point_at_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    assert expected in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="does not exist"):
        load_cassette(tmp_path / "nope.yaml")


def _binary_cassette(body: bytes, encoding: str) -> str:
    import base64

    encoded = base64.b64encode(body).decode()
    return (
        "interactions:\n- request:\n    body: null\n    headers: {}\n    method: GET\n"
        "    uri: https://x/v1/models\n  response:\n    body:\n"
        f"      string: !!binary {encoded}\n    headers:\n      Content-Encoding: [{encoding}]\n"
        "      Content-Length: ['1']\n      Content-Type: [application/json]\n"
        "    status: {code: 200, message: OK}\nversion: 1\n"
    )


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        # mtime=0: gzip stamps the time into its header, and test ids built from the bytes would differ between
        # pytest-xdist workers collecting in different seconds ("Different tests were collected").
        (gzip.compress(b'{"ok": true}', mtime=0), "gzip"),
        (zlib.compress(b'{"ok": true}'), "deflate"),
        (zlib.compress(b'{"ok": true}')[2:-4], "deflate"),  # raw deflate, as some servers send it
        (b'{"ok": true}', "gzip"),  # httpx recorded the decoded body but kept the header (vcrpy #591)
    ],
    ids=["gzip", "zlib-deflate", "raw-deflate", "decoded-but-labelled-gzip"],
)
def test_compressed_bodies_are_decoded(body: bytes, encoding: str) -> None:
    response = parse_cassette(_binary_cassette(body, encoding)).interactions[0].response
    assert response.json == {"ok": True}
    assert header_values(response.headers, "content-encoding") == []
    assert header_values(response.headers, "content-length") == [str(len(response.body))]


def test_corrupt_gzip_is_an_error_with_the_line() -> None:
    text = _binary_cassette(gzip.compress(b"{}")[:12], "gzip")
    with pytest.raises(CassetteError, match=r"<cassette>:\d+: .*gzip body is corrupt"):
        parse_cassette(text)


def test_pre_8_httpx_responses_are_read() -> None:
    text = (
        "interactions:\n- request:\n    body: '{\"a\": 1}'\n    headers: {}\n    method: post\n"
        "    uri: https://x/v1\n"
        "  response:\n    status_code: 201\n    headers: {content-type: [application/json]}\n"
        "    content: '{\"b\": 2}'\n"
        "version: 1\n"
    )
    interaction = parse_cassette(text).interactions[0]
    assert interaction.request.method == "POST"
    assert interaction.request.json == {"a": 1}
    assert (interaction.response.status, interaction.response.json) == (201, {"b": 2})
