"""Per-case cassettes: volatile fields, the record/replay life cycle, and the miss diff."""

from __future__ import annotations

import json
from pathlib import Path

from harness.replay import Cassette, Interaction, RecordedRequest, RecordedResponse, save_cassette
from harness.replay._router import CaseCassette

URI = "http://127.0.0.1:9/v1/chat/completions"


def _request(body: dict[str, object]) -> RecordedRequest:
    return RecordedRequest(method="POST", uri=URI, headers={}, body=json.dumps(body).encode(), json=body)


def _cassette(tmp_path: Path, body: dict[str, object]) -> Path:
    path = tmp_path / "c.yaml"
    response = RecordedResponse(
        status=200, headers={"content-type": ["application/json"]}, body=b'{"ok": true}', json={"ok": True}
    )
    save_cassette(Cassette(version=1, interactions=[Interaction(request=_request(body), response=response)]), path)
    return path


def test_ignored_volatile_fields_do_not_break_a_match(tmp_path: Path) -> None:
    path = _cassette(tmp_path, {"model": "m", "messages": [], "user": "session-1", "metadata": {"t": 1}})
    live = _request({"messages": [], "model": "m", "user": "session-2", "metadata": {"t": 2}})
    assert CaseCassette(path, "replay").answer(live) is None  # strict by default
    hit = CaseCassette(path, "replay", ignore=["user", "metadata"]).answer(live)
    assert hit is not None
    assert hit.json == {"ok": True}


def test_key_order_and_spacing_never_matter(tmp_path: Path) -> None:
    path = _cassette(tmp_path, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    live = RecordedRequest(
        method="POST", uri=URI, headers={}, body=b'{"messages":[{"content":"hi","role":"user"}],   "model":"m"}'
    )
    assert CaseCassette(path, "replay").answer(live) is not None


def test_a_miss_names_the_changed_field_and_unplayed_interactions_are_reported(tmp_path: Path) -> None:
    path = _cassette(tmp_path, {"model": "m", "temperature": 0})
    cassette = CaseCassette(path, "replay")
    live = _request({"model": "m", "temperature": 0.7})
    assert cassette.answer(live) is None
    assert "$.temperature: 0 != 0.7" in cassette.miss(live)
    assert "1 recorded interaction(s)" in cassette.finish()[0]


def test_record_mode_keeps_what_was_used_and_drops_the_rest(tmp_path: Path) -> None:
    path = _cassette(tmp_path, {"model": "m", "n": 1})
    cassette = CaseCassette(path, "record")
    assert cassette.answer(_request({"model": "m", "n": 2})) is None  # not recorded: the transport would go live
    assert cassette.finish() == []
    from harness.replay import load_cassette

    assert load_cassette(path).interactions == []  # the unused recording is gone; nothing new was added
