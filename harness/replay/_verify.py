"""Prove that cassettes replay through the official openai client, offline.

For each recorded chat-completions or Responses-API request, the recorded JSON body becomes the ``create()``
arguments (``stream`` included), the call goes through ``openai.OpenAI`` and vcrpy (``record_mode="none"``, matching
on method, scheme, host, port, path, query and the canonical JSON body), streams are read to the end, and the result
must be what the endpoint returns (a completion, a response, a stream that finished). Other endpoints
(``/v1/traces/ingest``, embeddings) are skipped.

The network cannot be reached: the client's transport is an ``httpx2.MockTransport`` that raises
:class:`NetworkBlockedError`, so a request vcrpy does not answer fails instead of leaving the machine. vcrpy patches
the transport classes process-wide while a cassette is in use: verify one file at a time, not alongside live traffic.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import computed_field

from harness.models import Record
from harness.replay._match import json_body_matcher
from harness.replay._persister import AtomicFilesystemPersister
from harness.replay._reader import load_cassette
from harness.replay._records import Interaction
from harness.replay._scan import cassette_files
from harness.replay.errors import CassetteError

if TYPE_CHECKING:
    import openai

MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "json_body")
"""vcrpy matchers used on replay: everything but headers, and the body compared as JSON (never as bytes)."""

Endpoint = Literal["chat.completions", "responses"]
_ENDPOINTS: tuple[tuple[str, Endpoint], ...] = (("/chat/completions", "chat.completions"), ("/responses", "responses"))
_TERMINAL_RESPONSE_EVENTS = {"response.completed", "response.incomplete", "response.failed"}
_MAX_FAILURE = 400


class NetworkBlockedError(ConnectionError):
    """A request during verification was about to leave the machine."""


class VerifyResult(Record):
    """How one cassette replayed through the openai client."""

    path: str
    """The cassette file."""
    interactions: int
    """Interactions in the file."""
    replayed: int
    """Chat-completions and Responses-API calls that replayed and gave a well-formed result."""
    skipped: int
    """Interactions with other endpoints (``/v1/traces/ingest``, ...), not replayed."""
    failures: list[str] = []
    """One line per call that did not replay (or the reason the file could not be read)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Literal["ok", "failed"]:
        """``ok`` when nothing failed."""
        return "failed" if self.failures else "ok"


class _ReplayError(Exception):
    """A call replayed but its result is not what the endpoint returns."""


def verify_cassettes(paths: Iterable[str | Path]) -> list[VerifyResult]:
    """Replay every chat-completions and Responses-API call of the cassettes at ``paths`` through ``openai.OpenAI``.

    Args:
        paths: Cassette files, or directories searched for ``*.yaml``/``*.yml``.

    Returns:
        One result per file, in path order. A file that cannot be read is a result with one failure.

    Raises:
        CassetteError: A path does not exist.
    """
    return [verify_cassette(path) for path in cassette_files(paths)]


def verify_cassette(path: str | Path) -> VerifyResult:
    """Replay one cassette (see :func:`verify_cassettes`)."""
    try:
        cassette = load_cassette(path)
    except CassetteError as exc:
        return VerifyResult(path=str(path), interactions=0, replayed=0, skipped=0, failures=[str(exc)])
    plan = [
        (number, item, endpoint)
        for number, item in enumerate(cassette.interactions, 1)
        if (endpoint := _endpoint(item))
    ]
    failures: list[str] = []
    with replay_session(path):
        for number, interaction, endpoint in plan:
            try:
                _replay(interaction, endpoint)
            except Exception as exc:  # any failure of one call is reported, and the next call still runs
                where = f"interaction {number} ({interaction.request.method} {interaction.request.path})"
                failures.append(_clip(f"{where}: {_describe(exc)}"))
    return VerifyResult(
        path=str(path),
        interactions=len(cassette.interactions),
        replayed=len(plan) - len(failures),
        skipped=len(cassette.interactions) - len(plan),
        failures=failures,
    )


class _ReadOnlyPersister(AtomicFilesystemPersister):
    """Verification never writes: even a vcrpy bug that marked the cassette dirty cannot change the file."""

    @classmethod
    def save_cassette(cls, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        """Do nothing."""


@contextmanager
def replay_session(path: str | Path) -> Iterator[Any]:
    """vcrpy replaying ``path`` (``record_mode="none"``, :data:`MATCH_ON`); yields vcrpy's ``Cassette``."""
    import vcr

    recorder = vcr.VCR(record_mode="none", match_on=MATCH_ON, decode_compressed_response=False)
    recorder.register_matcher("json_body", json_body_matcher)
    recorder.register_persister(_ReadOnlyPersister)
    with recorder.use_cassette(str(path), allow_playback_repeats=False) as cassette:
        yield cassette


def offline_client(base_url: str) -> openai.OpenAI:
    """An ``openai.OpenAI`` for ``base_url`` whose transport refuses the network (vcrpy answers before it)."""
    import httpx2
    import openai

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise NetworkBlockedError(f"{request.method} {request.url}: no recorded response, and the network is blocked")

    return openai.OpenAI(
        api_key="replay-needs-no-key",
        base_url=base_url,
        max_retries=0,  # a retry would be a second request the cassette does not hold
        http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)),
    )


def _endpoint(interaction: Interaction) -> Endpoint | None:
    if interaction.request.method != "POST":
        return None
    path = interaction.request.path.rstrip("/")
    return next((endpoint for suffix, endpoint in _ENDPOINTS if path.endswith(suffix)), None)


def _replay(interaction: Interaction, endpoint: Endpoint) -> None:
    import openai

    request = interaction.request
    if not isinstance(request.json, dict):
        raise _ReplayError("the recorded request body is not a JSON object, so it cannot become create() arguments")
    uri = request.uri.split("?", 1)[0]
    suffix = next(s for s, e in _ENDPOINTS if e == endpoint)
    base_url = uri[: uri.rstrip("/").rindex(suffix)]
    with offline_client(base_url) as client:
        create = client.chat.completions.create if endpoint == "chat.completions" else client.responses.create
        accepted = inspect.signature(create).parameters
        body: dict[str, Any] = request.json
        # Parameters this SDK version does not name still reach the wire unchanged, through extra_body.
        kwargs: dict[str, Any] = {key: value for key, value in body.items() if key in accepted}
        extra = {key: value for key, value in body.items() if key not in accepted}
        if extra:
            kwargs["extra_body"] = extra
        query = _query(request.uri)
        if query:
            kwargs["extra_query"] = query
        try:
            result = create(**kwargs)
            if body.get("stream") is True:
                _check_stream(list(result), endpoint)
            else:
                _check_result(result, endpoint)
        except openai.APIStatusError as exc:
            # A recorded error (400, 429) replays as the SDK's exception: that is a faithful replay.
            if exc.status_code != interaction.response.status:
                raise


def _check_result(result: Any, endpoint: Endpoint) -> None:
    obj = getattr(result, "object", None)
    if endpoint == "chat.completions" and (obj != "chat.completion" or not getattr(result, "choices", None)):
        raise _ReplayError(f"the recorded response is not a chat completion (object={obj!r}, no choices)")
    if endpoint == "responses" and (obj != "response" or getattr(result, "output", None) is None):
        raise _ReplayError(f"the recorded response is not a Responses-API response (object={obj!r})")


def _check_stream(events: list[Any], endpoint: Endpoint) -> None:
    if not events:
        raise _ReplayError("the recorded stream holds no events")
    if endpoint == "chat.completions":
        finished = any(choice.finish_reason for event in events for choice in (getattr(event, "choices", None) or []))
        if not finished:
            raise _ReplayError("the recorded stream ended before any choice had a finish_reason (truncated?)")
    elif getattr(events[-1], "type", None) not in _TERMINAL_RESPONSE_EVENTS:
        raise _ReplayError(
            f"the recorded stream ended with {getattr(events[-1], 'type', '?')!r}, not response.completed (truncated?)"
        )


def _query(uri: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(uri).query, keep_blank_values=True))


def _describe(exc: BaseException) -> str:
    """The most useful line of an exception chain: the openai client wraps transport errors in its own."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, CannotOverwriteExistingCassetteException):
            failed = [f"{name}: {message}" for _, _, fails in item.similar_requests for name, message in fails]
            detail = "; ".join(" ".join(line.split()) for line in failed[:3]) or item.reason
            return f"no recorded response matches what the openai client sent ({detail})"
        if isinstance(item, NetworkBlockedError | _ReplayError):
            return str(item)
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_FAILURE else text[: _MAX_FAILURE - 1] + "…"
