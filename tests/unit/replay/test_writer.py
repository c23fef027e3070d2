from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import vcr
import yaml
from vcr.cassette import Cassette as VcrCassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.serializers import yamlserializer

from harness.replay import (
    AtomicFilesystemPersister,
    CassetteError,
    canonical_json,
    dump_cassette,
    load_cassette,
    save_cassette,
)
from harness.replay._http import header_values
from harness.replay._verify import offline_client
from tests.unit.replay.factories import ALL_CASSETTES, PYDANTIC_AI


@pytest.mark.parametrize("source", ALL_CASSETTES, ids=lambda p: p.name)
def test_round_trip_keeps_every_interaction(source: Path, tmp_path: Path) -> None:
    original = load_cassette(source)
    target = tmp_path / "out.yaml"
    save_cassette(original, target)
    again = load_cassette(target)
    assert again.dialect == "vcrpy"
    assert len(again.interactions) == len(original.interactions)
    for before, after in zip(original.interactions, again.interactions, strict=True):
        assert (after.request.method, after.request.uri) == (before.request.method, before.request.uri)
        assert after.request.json == before.request.json
        assert after.response.status == before.response.status
        assert after.response.body == before.response.body
        assert after.response.headers == before.response.headers
        assert after.response.is_stream == before.response.is_stream
    # Saving what was loaded from our own output changes nothing: the format is a fixed point.
    save_cassette(again, tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text() == target.read_text()


@pytest.mark.parametrize("source", ALL_CASSETTES, ids=lambda p: p.name)
def test_stock_vcrpy_loads_what_we_write(source: Path, tmp_path: Path) -> None:
    original = load_cassette(source)
    target = tmp_path / "out.yaml"
    save_cassette(original, target)
    # vcrpy's own persister and serializer, no help from us.
    cassette = VcrCassette.load(path=str(target))
    assert len(cassette) == len(original.interactions)
    for request, response, interaction in zip(
        cassette.requests, cassette.responses, original.interactions, strict=True
    ):
        assert request.uri == interaction.request.uri
        assert json.loads(request.body) == interaction.request.json
        assert response["body"]["string"] == interaction.response.body
        assert response["status"]["code"] == interaction.response.status


def test_stock_vcrpy_replays_what_we_write_through_openai(tmp_path: Path) -> None:
    # pydantic-ai's dialect cannot be loaded by vcrpy itself; rewritten by us, it replays with vcrpy's defaults.
    source = PYDANTIC_AI / "test_openai_tool_output.yaml"
    with pytest.raises(TypeError, match="parsed_body"):
        VcrCassette.load(path=str(source))
    target = tmp_path / "out.yaml"
    save_cassette(load_cassette(source), target)
    recorder = vcr.VCR(record_mode="none", match_on=("method", "scheme", "host", "port", "path", "query", "body"))
    with recorder.use_cassette(str(target)) as cassette:
        for interaction in load_cassette(target).interactions:
            with offline_client("https://api.openai.com/v1") as client:
                completion = client.chat.completions.create(**interaction.request.json)
            assert completion.id == interaction.response.json["id"]
        assert cassette.all_played


def test_json_request_bodies_are_canonical(tmp_path: Path) -> None:
    cassette = load_cassette(PYDANTIC_AI / "test_openai_native_output.yaml")
    data = yaml.safe_load(dump_cassette(cassette))
    for stored, interaction in zip(data["interactions"], cassette.interactions, strict=True):
        body = stored["request"]["body"]
        assert body == canonical_json(interaction.request.json)
        assert stored["request"]["headers"]["content-length"] == [str(len(body.encode()))]
        assert stored["response"]["status"] == {"code": 200, "message": "OK"}


def test_streams_are_written_as_readable_literal_blocks() -> None:
    text = dump_cassette(load_cassette(PYDANTIC_AI / "test_run_stream_sync_streams_real_model.yaml"))
    assert "string: |" in text
    assert '\n        data: {"id":"chatcmpl-Dx0XpqH8w09uBXwq1zFGYdETjtnEl"' in text
    assert "!!binary" not in text


def test_non_utf8_bodies_are_binary(tmp_path: Path) -> None:
    cassette = load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml")
    first = cassette.interactions[0]
    odd = replace(cassette, interactions=[replace(first, response=replace(first.response, body=b"\xff\xfe\x00bin"))])
    save_cassette(odd, tmp_path / "binary.yaml")
    assert "!!binary" in (tmp_path / "binary.yaml").read_text()
    assert load_cassette(tmp_path / "binary.yaml").interactions[0].response.body == b"\xff\xfe\x00bin"


# -- atomicity -----------------------------------------------------------------------------------------------------


def test_a_failure_mid_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "case.yaml"
    save_cassette(load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml"), target)
    before = target.read_bytes()
    newer = load_cassette(PYDANTIC_AI / "test_run_stream_sync_streams_real_model.yaml")

    written: list[int] = []
    real_fsync = os.fsync

    def crash(fd: int) -> None:
        # The new text is in the temporary file (partly on disk) when the "power cut" happens.
        written.append(os.fstat(fd).st_size)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("harness.replay._writer.os.fsync", crash)
    with pytest.raises(OSError, match="No space left"):
        save_cassette(newer, target)
    monkeypatch.setattr("harness.replay._writer.os.fsync", real_fsync)

    assert written
    assert written[0] > 0
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]  # no temporary file left behind
    assert len(load_cassette(target).interactions) == 2


def test_a_crash_while_writing_bytes_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "case.yaml"
    target.write_text("interactions: []\nversion: 1\n")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fd: int, mode: str) -> None:
            self.handle = real_fdopen(fd, mode)

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            raise KeyboardInterrupt  # the process is stopped half-way through the write

    monkeypatch.setattr("harness.replay._writer.os.fdopen", HalfWriter)
    with pytest.raises(KeyboardInterrupt):
        save_cassette(load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml"), target)
    assert target.read_text() == "interactions: []\nversion: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.yaml"]


def test_existing_permissions_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "case.yaml"
    target.write_text("interactions: []\nversion: 1\n")
    target.chmod(0o640)
    save_cassette(load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml"), target)
    assert target.stat().st_mode & 0o777 == 0o640
    save_cassette(load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml"), tmp_path / "sub" / "new.yaml")
    assert (tmp_path / "sub" / "new.yaml").stat().st_mode & 0o777 == 0o644


# -- the vcrpy persister ---------------------------------------------------------------------------------------------


def test_persister_loads_every_dialect_for_vcrpy() -> None:
    requests, responses = AtomicFilesystemPersister.load_cassette(
        PYDANTIC_AI / "test_openai_native_output.yaml", yamlserializer
    )
    assert [r.path for r in requests] == ["/v1/chat/completions"] * 2
    assert json.loads(requests[0].body)["model"] == "gpt-4o"
    assert json.loads(responses[0]["body"]["string"])["object"] == "chat.completion"


def test_persister_missing_or_empty_means_not_found(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError):
        AtomicFilesystemPersister.load_cassette(tmp_path / "none.yaml", yamlserializer)
    (tmp_path / "empty.yaml").write_text("\n")
    with pytest.raises(CassetteNotFoundError):
        AtomicFilesystemPersister.load_cassette(tmp_path / "empty.yaml", yamlserializer)


def test_persister_refuses_a_broken_cassette_instead_of_rerecording_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions:\n- request: [\n")
    recorder = vcr.VCR(record_mode="once")
    recorder.register_persister(AtomicFilesystemPersister)
    with pytest.raises(CassetteError, match=r"broken\.yaml:"), recorder.use_cassette(str(broken)):
        pass
    assert broken.read_text() == "interactions:\n- request: [\n"


def test_persister_saves_atomically_through_vcrpy(tmp_path: Path) -> None:
    source = load_cassette(PYDANTIC_AI / "test_openai_tool_output.yaml")
    requests, responses = AtomicFilesystemPersister.load_cassette(
        PYDANTIC_AI / "test_openai_tool_output.yaml", yamlserializer
    )
    target = tmp_path / "saved.yaml"
    AtomicFilesystemPersister.save_cassette(target, {"requests": requests, "responses": responses}, yamlserializer)
    saved = load_cassette(target)
    assert [i.response.json for i in saved.interactions] == [i.response.json for i in source.interactions]
    assert header_values(saved.interactions[0].request.headers, "host") == ["api.openai.com"]
