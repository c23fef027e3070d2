"""How a live request finds its recorded interaction: method, host, path and the canonical JSON body, never bytes.

vcrpy scans every interaction for every request (O(n) per call) and compares bodies as bytes or by content type.
:class:`CassetteIndex` is the constant-time equivalent for the replay path, and :func:`json_body_matcher` is the same
rule as a vcrpy matcher, with a diff that says which field changed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.replay._http import canonical_json
from harness.replay._records import Interaction

RequestKey = tuple[str, str, str, str, str]
"""(METHOD, host, path, sorted query, body fingerprint): what two requests must share to match."""

_MAX_DIFFS = 5


_WORDS = re.compile(r"\w+|\s+|[^\w\s]")


def body_fingerprint(body: bytes | str | None, parsed: Any = None) -> str:
    """SHA-256 of the canonical JSON of ``body`` when it is JSON, else of its bytes; ``""`` for no body.

    ``parsed``: the body already parsed as JSON (a recorded request's ``json``), which saves parsing it again.
    """
    if body is None or body == b"" or body == "":
        return ""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if parsed is None:
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return "raw:" + hashlib.sha256(raw).hexdigest()
    return "json:" + hashlib.sha256(canonical_json(parsed).encode("utf-8")).hexdigest()


def request_key(method: str, uri: str, body: bytes | str | None, parsed: Any = None) -> RequestKey:
    """The matching key of a request (see :data:`RequestKey`); ``parsed`` as in :func:`body_fingerprint`."""
    parts = urlsplit(uri)
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (method.upper(), (parts.hostname or "").lower(), parts.path, query, body_fingerprint(body, parsed))


class CassetteIndex:
    """Recorded interactions by :func:`request_key`; each one answers once, in recorded order among equal keys.

    Example:
        >>> index = CassetteIndex(cassette.interactions)  # doctest: +SKIP
        >>> index.match("POST", "https://api.openai.com/v1/chat/completions", body)  # doctest: +SKIP
    """

    def __init__(self, interactions: Iterable[Interaction]) -> None:
        self._queues: dict[RequestKey, deque[Interaction]] = {}
        self._total = 0
        for interaction in interactions:
            request = interaction.request
            key = request_key(request.method, request.uri, request.body, request.json)
            self._queues.setdefault(key, deque()).append(interaction)
            self._total += 1
        self._played = 0

    def match(self, method: str, uri: str, body: bytes | str | None) -> Interaction | None:
        """The first not-yet-played interaction recorded for this request, or ``None``; marks it played."""
        queue = self._queues.get(request_key(method, uri, body))
        if not queue:
            return None
        self._played += 1
        return queue.popleft()

    @property
    def unplayed(self) -> list[Interaction]:
        """Interactions no request has matched yet (a replay that leaves some is incomplete)."""
        return [interaction for queue in self._queues.values() for interaction in queue]

    def __len__(self) -> int:
        return self._total


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies are equal as JSON values (key order and spacing ignored), else as bytes.

    Register it with ``vcr.register_matcher("json_body", json_body_matcher)``.

    Raises:
        AssertionError: The bodies differ; the message lists the first differing fields (vcrpy shows it when no
            recorded request matches).
    """
    b1, b2 = _body_of(r1), _body_of(r2)
    if b1 == b2:
        return
    try:
        v1, v2 = json.loads(b1 or b"null"), json.loads(b2 or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AssertionError(f"bodies differ ({len(b1 or b'')} vs {len(b2 or b'')} bytes, not both JSON)") from None
    # Compared as canonical text, not with ==: in Python True == 1, in JSON true is not 1.
    if canonical_json(v1) != canonical_json(v2):
        raise AssertionError("JSON bodies differ: " + "; ".join(json_diff(v1, v2)))


def json_diff(old: Any, new: Any, path: str = "$") -> list[str]:
    """The first few differences between two JSON values, as ``path: old != new`` lines."""
    out: list[str] = []
    _diff(old, new, path, out)
    return out[:_MAX_DIFFS] + ([f"... ({len(out) - _MAX_DIFFS} more)"] if len(out) > _MAX_DIFFS else [])


def _diff(old: Any, new: Any, path: str, out: list[str]) -> None:
    if len(out) > _MAX_DIFFS:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                out.append(f"{path}.{key}: only in the first")
            elif key not in old:
                out.append(f"{path}.{key}: only in the second")
            else:
                _diff(old[key], new[key], f"{path}.{key}", out)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{path}: {len(old)} items != {len(new)} items")
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            _diff(a, b, f"{path}[{index}]", out)
    elif isinstance(old, str) and isinstance(new, str) and old != new:
        out.append(f"{path}: {_changed_words(old, new)}")
    elif canonical_json(old) != canonical_json(new):
        out.append(f"{path}: {_short(old)} != {_short(new)}")


def _changed_words(old: str, new: str) -> str:
    """Where two texts first differ, with a little context: long prompts differ by a word, and that word is what a
    reader needs to see (``…as untrusted data, never [instructions → commands]. Always…``)."""
    if len(old) <= 60 and len(new) <= 60:
        return f"{_short(old)} != {_short(new)}"
    a, b = _WORDS.findall(old), _WORDS.findall(new)  # word-level: a changed word shows whole
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    _, i1, i2, j1, j2 = next(op for op in matcher.get_opcodes() if op[0] != "equal")
    before = "".join(a[max(0, i1 - 8) : i1])
    after = "".join(a[i2 : i2 + 6])
    removed, added = "".join(a[i1:i2])[:80], "".join(b[j1:j2])[:80]
    return f"…{before}[{removed} → {added}]{after}…"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def _body_of(request: Any) -> bytes | None:
    body = getattr(request, "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    if body is None or isinstance(body, bytes):
        return body
    read = getattr(body, "read", None)  # vcrpy hands file-like bodies back as BytesIO
    return bytes(read()) if callable(read) else None
