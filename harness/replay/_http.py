"""HTTP details shared by the reader, the writer, the scrubber and the matcher: headers, encodings, JSON bodies."""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from harness.replay._records import Headers

_GZIP_MAGIC = b"\x1f\x8b"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: equal values give equal text, whatever the key order.

    The openai SDK rebuilds request bodies with its own key order and separators (they changed between SDK versions),
    so requests are compared and stored in this form, never as the bytes that were sent.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def header_values(headers: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    return [value for key, values in headers.items() if key.lower() == wanted for value in values]


def without_headers(headers: Mapping[str, Sequence[str]], *names: str) -> Headers:
    """A copy of ``headers`` without the named headers (case-insensitive)."""
    dropped = {name.lower() for name in names}
    return {key: list(values) for key, values in headers.items() if key.lower() not in dropped}


def with_content_length(headers: Mapping[str, Sequence[str]], body: bytes | None) -> Headers:
    """A copy of ``headers`` whose ``content-length`` (if there is one) is the length of ``body``.

    Bodies change size when they are decoded, re-encoded or scrubbed; a stale length makes strict clients (botocore)
    reject the replayed response. A header that was absent stays absent.
    """
    out = {key: list(values) for key, values in headers.items()}
    for key in out:
        if key.lower() == "content-length":
            out[key] = [str(len(body or b""))]
    return out


def decode_body(body: bytes, encodings: Sequence[str]) -> tuple[bytes, bool]:
    """Undo ``Content-Encoding`` (gzip, deflate, br when ``brotli`` is installed), last-applied first.

    Returns the body and whether every encoding could be handled. A body that does not start like its encoding says
    is taken as already decoded: httpx records the decoded body but keeps the header (vcrpy PR #591), and decoding it
    twice would fail.

    Raises:
        ValueError: The body looks encoded but is corrupt.
    """
    for encoding in reversed([e.strip().lower() for value in encodings for e in value.split(",") if e.strip()]):
        if encoding in ("identity", ""):
            continue
        if encoding in ("gzip", "x-gzip"):
            if body.startswith(_GZIP_MAGIC):
                body = _decompress(body, 16 + zlib.MAX_WBITS, encoding)
        elif encoding == "deflate":
            body = _inflate(body)
        elif encoding == "br":
            try:
                import brotli  # type: ignore[import-not-found]
            except ImportError:
                return body, False
            with contextlib.suppress(brotli.error):  # already decoded, see above
                body = brotli.decompress(body)
        else:
            return body, False
    return body, True


def _decompress(body: bytes, wbits: int, encoding: str) -> bytes:
    try:
        return zlib.decompress(body, wbits)
    except zlib.error as exc:
        raise ValueError(f"the {encoding} body is corrupt ({exc})") from None


def _inflate(body: bytes) -> bytes:
    # "deflate" is zlib-wrapped by the standard, raw deflate in practice (some servers); plain text means decoded.
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        try:
            return zlib.decompress(body, wbits)
        except zlib.error:
            continue
    return body


def parse_json_body(body: bytes | None, content_type: str = "") -> Any:
    """The body parsed as JSON when it is JSON (by content type or by its first character), else ``None``."""
    if not body:
        return None
    stripped = body.lstrip()
    if "json" not in content_type.lower() and not stripped.startswith((b"{", b"[")):
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def is_event_stream(body: bytes, content_type: str = "") -> bool:
    """Whether the body is server-sent events (openai streams: ``data: {...}`` blocks, Responses API ``event:``)."""
    if "text/event-stream" in content_type.lower():
        return True
    return body.lstrip().startswith((b"data:", b"event:"))
