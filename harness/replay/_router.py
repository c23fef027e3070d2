"""Per-case cassettes under asyncio: one transport for the whole eval run, routed by a ContextVar.

vcrpy patches transports process-wide, and its patches stack: with several cases in flight, one case's requests land
in another case's cassette (reproduced while building this). So :func:`install_routing` patches httpx2's transports
once, and each request asks :data:`_CURRENT` (set around each case, copied into every task and ``to_thread`` worker
the case starts) which :class:`CaseCassette` it belongs to. A request made outside a case goes to the network.

Modes: ``replay`` answers only from the cassette and never touches the network (a request with no recording fails
with a diff against the closest recorded request); ``record`` answers what it can from the cassette and records the
rest; ``rerecord`` records everything anew. Recordings are scrubbed before they are kept, and saved atomically.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import httpx2

from harness.replay._http import canonical_json
from harness.replay._match import CassetteIndex, json_diff
from harness.replay._reader import load_cassette
from harness.replay._records import Cassette, Interaction, RecordedRequest, RecordedResponse
from harness.replay._scrub import Scrubber
from harness.replay._writer import save_cassette

RecordMode = Literal["replay", "record", "rerecord"]
RECORD_MODES: tuple[str, ...] = ("replay", "record", "rerecord")
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


class CassetteMissError(Exception):
    """A request the cassette has no recording for, while replaying."""

    is_cassette_miss = True  # read by the agent's retry policy, which must not retry this (it cannot import us)


class CaseCassette:
    """The cassette of one case execution."""

    def __init__(
        self, path: Path, mode: RecordMode, scrubber: Scrubber | None = None, ignore: Iterable[str] = ()
    ) -> None:
        self.path = path
        self.mode = mode
        self.scrubber = scrubber or Scrubber()
        self.ignore = frozenset(ignore)
        existing: list[Interaction] = []
        if mode != "rerecord" and path.exists():
            existing = load_cassette(path).interactions
        self.index = CassetteIndex([self._normalized(i) for i in existing])
        self.recorded = existing
        self.new: list[Interaction] = []
        self.in_memory = False

    @classmethod
    def from_interactions(cls, interactions: list[Interaction], scrubber: Scrubber | None = None) -> CaseCassette:
        """A replay-only cassette held in memory (a stored trace replayed as if it were a cassette)."""
        cassette = cls(Path("<trace>"), "replay", scrubber)
        cassette.index = CassetteIndex(interactions)
        cassette.recorded = list(interactions)
        cassette.in_memory = True
        return cassette

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def answer(self, request: RecordedRequest) -> RecordedResponse | None:
        """The recorded response for ``request``, if there is one.

        Request bodies rarely hold secrets, so the request is matched as sent first; only when that fails is it
        scrubbed the way recordings are and matched again (scrubbing is half the cost of a replayed call).
        """
        request = self._normalized_request(request)
        hit = self.index.match(request.method, request.uri, request.body)
        if hit is None:
            clean = self.scrubber.scrub_request(request)
            if clean.body != request.body:
                hit = self.index.match(clean.method, clean.uri, clean.body)
        return hit.response if hit is not None else None

    def _normalized_request(self, request: RecordedRequest) -> RecordedRequest:
        """The request without the volatile top-level fields named in ``ignore`` (timestamps, ``user``, ...)."""
        if not self.ignore or not isinstance(request.json, dict):
            return request
        kept = {k: v for k, v in request.json.items() if k not in self.ignore}
        return replace(request, body=canonical_json(kept).encode(), json=kept)

    def _normalized(self, interaction: Interaction) -> Interaction:
        if not self.ignore:
            return interaction
        return replace(interaction, request=self._normalized_request(interaction.request))

    def miss(self, request: RecordedRequest) -> str:
        """Why ``request`` has no recording: a diff against the closest recorded request to the same path."""
        clean = self.scrubber.scrub_request(request)
        same_path = [i.request for i in self.recorded if i.request.path == clean.path]
        where = f"{clean.method} {clean.path}"
        if not same_path:
            return (
                f"no recorded request for {where} in {self.path} ({len(self.recorded)} recorded). "
                "Record it with `agenteval run --record-mode record`."
            )
        live = _json_of(clean.body)
        closest = min(same_path, key=lambda r: len(json_diff(r.json, live)))
        changes = json_diff(closest.json, live)
        shown = "\n    ".join(changes) if changes else "(same JSON, already replayed: the request was made once more)"
        return (
            f"the request to {where} does not match the cassette {self.path}. Recorded → now:\n    {shown}\n"
            "If the change is intended (a new prompt, model or parameter), re-record with "
            "`agenteval run --record-mode record` (or rerecord)."
        )

    def add(self, request: RecordedRequest, response: RecordedResponse) -> None:
        """Keep a live interaction (scrubbed) for saving."""
        self.new.append(self.scrubber.scrub_interaction(Interaction(request=request, response=response)))

    def finish(self) -> list[str]:
        """Save what was recorded; return problems (interactions left unplayed in a replay)."""
        if self.mode == "replay":
            left = self.index.unplayed
            if left:
                first = left[0].request
                return [
                    f"{len(left)} recorded interaction(s) of {self.path} were not replayed (first: "
                    f"{first.method} {first.path}): the agent made fewer calls than when it was recorded."
                ]
            return []
        unused = {id(i) for i in self.index.unplayed}
        if self.in_memory:
            return []  # a fork of a stored trace: nothing to save
        if self.new or unused or self.mode == "rerecord":
            # Keep what this execution replayed or recorded: recordings it no longer makes (a prompt changed) go,
            # or the next replay would find them unplayed.
            kept = [i for i in self.recorded if id(i) not in unused] if self.mode == "record" else []
            save_cassette(Cassette(version=1, interactions=kept + self.new), self.path)
        return []


_CURRENT: ContextVar[CaseCassette | None] = ContextVar("agenteval_case_cassette", default=None)
_FORWARDING: ContextVar[bool] = ContextVar("agenteval_forwarding", default=False)


@contextlib.contextmanager
def using_cassette(cassette: CaseCassette | None) -> Iterator[None]:
    """Route the model calls made inside the block (and the tasks it starts) to ``cassette``."""
    token = _CURRENT.set(cassette)
    try:
        yield
    finally:
        _CURRENT.reset(token)


async def _route_async(
    cassette: CaseCassette, request: httpx2.Request, forward: Callable[[], Awaitable[httpx2.Response]]
) -> httpx2.Response:
    body = await request.aread()
    recorded_request = _recorded(request, body)
    answer = cassette.answer(recorded_request)
    if answer is not None:
        return _response(answer, request)
    if cassette.mode == "replay":
        raise CassetteMissError(cassette.miss(recorded_request))
    live = await forward()
    content = await live.aread()
    await live.aclose()
    return _keep(cassette, recorded_request, live, content, request)


def _route_sync(
    cassette: CaseCassette, request: httpx2.Request, forward: Callable[[], httpx2.Response]
) -> httpx2.Response:
    body = request.read()
    recorded_request = _recorded(request, body)
    answer = cassette.answer(recorded_request)
    if answer is not None:
        return _response(answer, request)
    if cassette.mode == "replay":
        raise CassetteMissError(cassette.miss(recorded_request))
    live = forward()
    content = live.read()
    live.close()
    return _keep(cassette, recorded_request, live, content, request)


def _recorded(request: httpx2.Request, body: bytes) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        uri=str(request.url),
        headers=_headers(request.headers),
        body=body or None,
        json=_json_of(body),
    )


def _keep(
    cassette: CaseCassette,
    recorded_request: RecordedRequest,
    live: httpx2.Response,
    content: bytes,
    request: httpx2.Request,
) -> httpx2.Response:
    recorded_response = RecordedResponse(
        status=live.status_code,
        headers=_headers(live.headers),
        body=content,
        json=_json_of(content),
        is_stream="text/event-stream" in live.headers.get("content-type", ""),
        message=live.reason_phrase,
    )
    cassette.add(recorded_request, recorded_response)
    return _response(recorded_response, request)


_installed = False
_install_lock = threading.Lock()


def install_routing() -> None:
    """Route every httpx2 client of the process (openai clients of user agents included, sync and async) to the
    current case's cassette while a case runs; outside a case nothing changes. Idempotent.

    Unlike vcrpy's stacked patches, this is installed once and decides per request from a ContextVar, which each
    case's tasks (and ``asyncio.to_thread`` workers) inherit, so concurrent cases never share a cassette.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        original_async = httpx2.AsyncHTTPTransport.handle_async_request
        original_sync = httpx2.HTTPTransport.handle_request

        async def routed_async(self: httpx2.AsyncHTTPTransport, request: httpx2.Request) -> httpx2.Response:
            cassette = _CURRENT.get()
            if cassette is None or _FORWARDING.get():
                return await original_async(self, request)
            token = _FORWARDING.set(True)  # a live call below must not be routed again by a nested transport
            try:
                return await _route_async(cassette, request, lambda: original_async(self, request))
            finally:
                _FORWARDING.reset(token)

        def routed_sync(self: httpx2.HTTPTransport, request: httpx2.Request) -> httpx2.Response:
            cassette = _CURRENT.get()
            if cassette is None or _FORWARDING.get():
                return original_sync(self, request)
            token = _FORWARDING.set(True)
            try:
                return _route_sync(cassette, request, lambda: original_sync(self, request))
            finally:
                _FORWARDING.reset(token)

        httpx2.AsyncHTTPTransport.handle_async_request = routed_async  # type: ignore[method-assign]
        httpx2.HTTPTransport.handle_request = routed_sync  # type: ignore[method-assign]
        _installed = True


def _headers(headers: httpx2.Headers) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers.multi_items():
        out.setdefault(name.lower(), []).append(value)
    return out


def _response(recorded: RecordedResponse, request: httpx2.Request) -> httpx2.Response:
    headers = [
        (name, value) for name, values in recorded.headers.items() if name.lower() not in _DROPPED for value in values
    ]
    return httpx2.Response(status_code=recorded.status, headers=headers, content=recorded.body, request=request)


def _json_of(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
