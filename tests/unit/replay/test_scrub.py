from __future__ import annotations

import copy
import gzip
import json
import random
from pathlib import Path

import openai
import pytest
import vcr
from vcr.cassette import Cassette as VcrCassette
from vcr.request import Request

from harness.mockllm import MockLLMServer
from harness.replay import (
    PLACEHOLDER,
    AtomicFilesystemPersister,
    Cassette,
    Interaction,
    Scrubber,
    ScrubConfig,
    SecretPattern,
    before_record_request,
    before_record_response,
    dump_cassette,
    is_placeholder,
    json_body_matcher,
    load_cassette,
    scrub_interaction,
    to_vcrpy_interactions,
)
from harness.replay._http import header_values
from harness.replay._scan import scan_text
from harness.replay._verify import offline_client
from tests.unit.replay.factories import (
    ALL_CASSETTES,
    CREWAI,
    OPENLLMETRY,
    PlantedSecrets,
    secret_interaction,
    token,
)

SECRETS = PlantedSecrets()


def _all_interactions() -> list[Interaction]:
    found = [i for path in ALL_CASSETTES for i in load_cassette(path).interactions]
    return [*found, secret_interaction(SECRETS), secret_interaction(PlantedSecrets(seed=99))]


def test_planted_secrets_are_all_gone() -> None:
    original = secret_interaction(SECRETS)
    scrubbed = scrub_interaction(original)
    text = dump_cassette(_one(scrubbed))
    for secret in SECRETS.values():
        assert secret not in text, secret
        assert secret in dump_cassette(_one(original))  # it was there to begin with
    assert scan_text(text, "scrubbed.yaml") == []


def test_what_stays_and_what_goes() -> None:
    scrubbed = scrub_interaction(secret_interaction(SECRETS))
    request, response = scrubbed.request, scrubbed.response
    assert request.headers["Authorization"] == [PLACEHOLDER]  # kept, so a reader sees the call was authenticated
    assert request.headers["OpenAI-Organization"] == [PLACEHOLDER]
    assert request.headers["x-api-key"] == [PLACEHOLDER]
    assert header_values(request.headers, "cookie") == []
    assert header_values(response.headers, "set-cookie") == []
    assert header_values(response.headers, "x-request-id") == []
    assert response.headers["openai-organization"] == [PLACEHOLDER]  # a slug, not an org- id: removed by name
    assert request.uri == "https://api.openai.com/v1/chat/completions?key=REDACTED"
    # Bodies stay valid JSON, re-parsed, with content-length following the new size.
    assert json.loads(request.body or b"") == request.json
    assert request.json["messages"][0]["content"] == "Use key sk-<redacted> and org org-<redacted>."
    assert request.json["messages"][1]["content"] == "Authorization: Bearer <redacted> project proj_<redacted>"
    assert response.json["echo"] == "sk-<redacted>"
    assert response.json["choices"][0]["message"]["content"] == "cookie __cf_bm=<redacted>"
    assert header_values(request.headers, "content-length") == [str(len(request.body or b""))]
    assert header_values(response.headers, "content-length") == [str(len(response.body))]


def test_already_scrubbed_cassettes_are_left_as_they_are() -> None:
    # crewAI's convention (AUTHORIZATION-XXX, SET-COOKIE-XXX, X-REQUEST-ID-XXX) is clean: nothing to rewrite.
    cassette = load_cassette(CREWAI)
    assert Scrubber().scrub_cassette(cassette) == cassette


def test_a_half_scrubbed_header_is_scrubbed() -> None:
    headers = {
        "Cookie": [f"__cf_bm=<redacted>; session_token={SECRETS.bearer}"],
        "Authorization": [f"Bearer <redacted> {SECRETS.api_key}"],
        "Set-Cookie": ["SET-COOKIE-XXX; path=/; expires=Thu, 01 Jan 2026 00:00:00 GMT"],
    }
    assert Scrubber().scrub_headers(headers) == {
        "Authorization": ["Bearer <redacted> sk-<redacted>"],
        "Set-Cookie": ["SET-COOKIE-XXX; path=/; expires=Thu, 01 Jan 2026 00:00:00 GMT"],
    }


@pytest.mark.parametrize("interaction", _all_interactions(), ids=lambda i: f"{i.request.path}")
def test_scrubbing_is_idempotent_and_deterministic(interaction: Interaction) -> None:
    once = scrub_interaction(interaction)
    assert scrub_interaction(once) == once
    assert Scrubber().scrub_interaction(interaction) == once  # a fresh scrubber gives the same answer


def test_text_scrubbing_is_idempotent_on_random_mixtures() -> None:
    # Property-style: secrets, placeholders, separators and noise glued in random orders.
    rng = random.Random(20240601)
    scrubber = Scrubber()
    pieces = [
        lambda: "sk-" + token(rng, rng.randint(10, 60), "abcXYZ019_-"),
        lambda: "sk-proj-" + token(rng, 40),
        lambda: "Bearer " + token(rng, rng.randint(12, 50), "abcXYZ019._~+/=-"),
        lambda: "org-" + token(rng, rng.randint(10, 30)),
        lambda: "proj_" + token(rng, rng.randint(10, 30)),
        lambda: "__cf_bm=" + token(rng, rng.randint(1, 80), "abcXYZ019._-"),
        lambda: "AIza" + token(rng, 35, "abcXYZ019_-"),
        lambda: "eyJ" + token(rng, 20) + "." + token(rng, 20) + "." + token(rng, 20),
        lambda: rng.choice([PLACEHOLDER, "AUTHORIZATION-XXX", "sk-...XXXX", "***", "Bearer <redacted>"]),
        lambda: rng.choice([" ", "; ", '"', "\n", "=", ",", "\\", "-", "_", ""]),
        lambda: token(rng, rng.randint(0, 12), "abc XYZ 019-_.=;<>"),
    ]
    for _ in range(400):
        text = "".join(rng.choice(pieces)() for _ in range(rng.randint(1, 12)))
        once = scrubber.scrub_text(text)
        assert scrubber.scrub_text(once) == once, text
        for pattern in scrubber.config.patterns:
            for match in pattern.compiled.finditer(once):
                assert is_placeholder(match.group("secret")), (text, once)


def test_custom_patterns_extend_the_defaults() -> None:
    config = ScrubConfig(
        patterns=(*ScrubConfig().patterns, SecretPattern(kind="api_key", regex=r"\bghp_(?P<secret>[A-Za-z0-9]{36})"))
    )
    github = "ghp_" + "a1B2" * 9
    assert Scrubber(config).scrub_text(f"token {github}") == "token ghp_<redacted>"
    with pytest.raises(ValueError, match="named group"):
        SecretPattern(kind="x", regex=r"ghp_[a-z]+")


# -- vcrpy hooks -----------------------------------------------------------------------------------------------------


def _vcr_request() -> Request:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"key {SECRETS.api_key}"}]}).encode()
    headers = {
        "Authorization": f"Bearer {SECRETS.api_key}",
        "Cookie": f"__cf_bm={SECRETS.cf_bm}",
        "OpenAI-Project": SECRETS.project_id,
        "Content-Length": str(len(body)),
        "Content-Type": "application/json",
    }
    return Request("POST", "https://api.openai.com/v1/chat/completions", body, headers)


def test_request_hook_scrubs_a_copy_and_never_returns_none() -> None:
    live = _vcr_request()
    scrubbed = before_record_request(live)
    assert scrubbed is not None
    assert scrubbed is not live
    assert live.headers["Authorization"] == f"Bearer {SECRETS.api_key}"  # the caller's request is untouched
    assert scrubbed.headers["Authorization"] == PLACEHOLDER
    assert "Cookie" not in scrubbed.headers
    assert scrubbed.headers["OpenAI-Project"] == PLACEHOLDER
    assert SECRETS.api_key.encode() not in scrubbed.body
    assert scrubbed.headers["Content-Length"] == str(len(scrubbed.body))
    again = before_record_request(scrubbed)
    assert (again.uri, again.body, dict(again.headers)) == (scrubbed.uri, scrubbed.body, dict(scrubbed.headers))
    # A request with nothing to scrub still comes back: None would send it to the real server.
    plain = Request("GET", "https://api.openai.com/v1/models", None, {})
    assert before_record_request(plain) is not None


def test_response_hook_decodes_gzip_then_scrubs_idempotently() -> None:
    # vcrpy's own loader leaves openllmetry's bodies gzip-compressed, as they are when recorded live.
    recorded = VcrCassette.load(path=str(OPENLLMETRY)).responses[0]
    assert recorded["body"]["string"][:2] == b"\x1f\x8b"
    planted = copy.deepcopy(recorded)
    planted["body"]["string"] = gzip.compress(json.dumps({"object": "response", "k": SECRETS.api_key}).encode())
    for response in (recorded, planted):
        once = before_record_response(response)
        assert once["body"]["string"][:1] == b"{"
        assert "Content-Encoding" not in once["headers"]
        assert once["headers"]["openai-project"] == [PLACEHOLDER]
        assert "x-request-id" not in once["headers"]
        assert SECRETS.api_key.encode() not in once["body"]["string"]
        assert before_record_response(once) == once
    assert response["body"]["string"][:2] == b"\x1f\x8b"  # the hook worked on a copy


def test_hooks_are_idempotent_on_every_vendored_interaction() -> None:
    for path in ALL_CASSETTES:
        requests, responses = to_vcrpy_interactions(load_cassette(path))
        for request, response in zip(requests, responses, strict=True):
            once, twice = before_record_request(request), before_record_request(before_record_request(request))
            assert (once.uri, once.body, dict(once.headers)) == (twice.uri, twice.body, dict(twice.headers))
            assert before_record_response(before_record_response(response)) == before_record_response(response)


def test_recording_through_vcrpy_with_the_hooks_writes_no_secret(mockllm: MockLLMServer, tmp_path: Path) -> None:
    # The future recorder's path, against the in-process scripted server on loopback (no provider, no internet).
    path = tmp_path / "recorded.yaml"
    recorder = vcr.VCR(
        record_mode="once",
        match_on=("method", "scheme", "host", "port", "path", "query", "json_body"),
        before_record_request=before_record_request,
        before_record_response=before_record_response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", json_body_matcher)
    recorder.register_persister(AtomicFilesystemPersister)
    messages = [{"role": "user", "content": f"hello, my key is {SECRETS.other_key}"}]
    with recorder.use_cassette(str(path)):
        client = openai.OpenAI(base_url=mockllm.base_url, api_key=SECRETS.api_key, max_retries=0)
        recorded = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    text = path.read_text()
    assert SECRETS.api_key not in text
    assert SECRETS.other_key not in text
    assert f"authorization:\n      - {PLACEHOLDER}\n" in text  # the call was authenticated, with what is gone
    assert scan_text(text, path) == []
    # And the scrubbed cassette replays the same completion with the network blocked. The replayer needs the same
    # request hook: vcrpy scrubs the live request before matching it against the scrubbed recording.
    replayer = vcr.VCR(
        record_mode="none", match_on=("method", "path", "json_body"), before_record_request=before_record_request
    )
    replayer.register_matcher("json_body", json_body_matcher)
    replayer.register_persister(AtomicFilesystemPersister)
    with replayer.use_cassette(str(path)) as cassette, offline_client(mockllm.base_url) as offline:
        replayed = offline.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        assert cassette.all_played
    assert replayed.choices[0].message.content == recorded.choices[0].message.content


def _one(interaction: Interaction) -> Cassette:
    return Cassette(version=1, interactions=[interaction])
