"""A cassette in memory: recorded requests and responses, normalised whatever dialect the file was written in.

These are frozen dataclasses, not pydantic records: they hold raw ``bytes`` bodies and arbitrary JSON trees, are
built for every interaction on the replay path (where load time counts, see ``benchmarks/cassette_load.py``), and are
never dumped as they are: the writer turns them into vcrpy's YAML. (A pydantic field named ``json`` would also shadow
``BaseModel.json``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Headers = dict[str, list[str]]
"""HTTP headers as vcrpy stores them: name (case as recorded) -> every value sent under that name."""

Dialect = Literal["vcrpy", "pydantic-ai"]
"""How the file stored bodies: ``vcrpy`` (``body`` strings or ``!!binary``), ``pydantic-ai`` (``parsed_body`` trees)."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One recorded HTTP request."""

    method: str
    """HTTP method, upper case."""
    uri: str
    """Full URL, with query string."""
    headers: Headers
    """Request headers."""
    body: bytes | None = None
    """The body as sent (JSON re-encoded when the file held a ``parsed_body`` tree); ``None`` when there was none."""
    json: Any = None
    """The body parsed as JSON, or ``None`` when it is not JSON."""

    @property
    def host(self) -> str:
        """Host name of the URL (``api.openai.com``)."""
        return urlsplit(self.uri).hostname or ""

    @property
    def path(self) -> str:
        """Path of the URL (``/v1/chat/completions``)."""
        return urlsplit(self.uri).path


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """One recorded HTTP response, its body decoded (gzip/deflate undone, ``Content-Encoding`` dropped)."""

    status: int
    """HTTP status code."""
    headers: Headers
    """Response headers (``content-length`` matches ``body``)."""
    body: bytes
    """The decoded body: JSON, SSE text, or whatever the server sent."""
    json: Any = None
    """The body parsed as JSON, or ``None`` when it is not JSON (a stream, an empty body, text)."""
    is_stream: bool = False
    """Whether the body is a server-sent-events stream (``text/event-stream``: ``data: {...}`` lines)."""
    message: str = ""
    """Reason phrase (``OK``), as vcrpy records it."""
    content_encoding: str | None = None
    """The ``Content-Encoding`` the body was stored with before it was decoded (``gzip``), or ``None``."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request and the response it got."""

    request: RecordedRequest
    """What the client sent."""
    response: RecordedResponse
    """What the server answered."""


@dataclass(frozen=True, slots=True)
class Cassette:
    """A cassette file: its format version, the dialect it was written in, and its interactions in recorded order."""

    version: int
    """vcrpy's cassette format version (always 1)."""
    interactions: list[Interaction]
    """Interactions in the order they were recorded."""
    dialect: Dialect = "vcrpy"
    """How the file stored bodies."""
    path: Path | None = None
    """The file it was read from, if any."""
