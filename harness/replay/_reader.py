"""Read a cassette in any dialect seen in the wild into one normalised :class:`Cassette`.

Dialects: stock vcrpy (``body`` strings, ``!!binary`` bodies, gzip/deflate with ``Content-Encoding``), pydantic-ai
(JSON bodies as ``parsed_body`` YAML trees), placeholder header values (``AUTHORIZATION-XXX``) which need nothing,
and vcrpy's pre-8 httpx responses (``status_code``/``content``). YAML is parsed with libyaml's ``CSafeLoader`` when
available (39x faster than the pure-Python loader on a 2.8 MB cassette) and never with an unsafe loader: cassettes
come from other people's repositories.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness._yaml import YamlDocument
from harness.replay._http import (
    decode_body,
    header_values,
    is_event_stream,
    parse_json_body,
    with_content_length,
    without_headers,
)
from harness.replay._records import Cassette, Dialect, Headers, Interaction, RecordedRequest, RecordedResponse
from harness.replay.errors import CassetteError

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

Loc = tuple[int | str, ...]


class CassetteLoader(SafeLoader):
    """The safe loader plus the three harmless Python tags vcrpy writes (``python/str``, ``python/unicode``,
    ``python/tuple``). Object-constructing tags (``python/object/apply`` and friends) stay refused."""


def _construct_str(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _construct_tuple(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    return tuple(loader.construct_sequence(node))  # type: ignore[arg-type]


CassetteLoader.add_constructor("tag:yaml.org,2002:python/str", _construct_str)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/unicode", _construct_str)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/tuple", _construct_tuple)

LOADER_NAME = SafeLoader.__name__
"""Which YAML loader cassettes are read with: ``CSafeLoader`` (libyaml) or ``SafeLoader`` (pure Python)."""


def load_cassette(path: str | Path) -> Cassette:
    """Read a cassette file in any supported dialect.

    Args:
        path: The cassette (``.yaml``).

    Returns:
        The cassette with every body decoded: gzip/deflate undone (``Content-Encoding`` dropped, ``content-length``
        fixed), ``parsed_body`` trees re-encoded as JSON bytes, JSON bodies parsed.

    Raises:
        CassetteError: The file does not exist, is not YAML (with the line) or is not a vcrpy cassette (with the line
            of the offending value).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteError(f"{path} does not exist.", [f"{path}: no such file. Check the path."]) from None
    except IsADirectoryError:
        raise CassetteError(f"{path} is a directory.", [f"{path}: give a cassette file (.yaml)."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{path} cannot be read.", [f"{path}: {exc}"]) from None
    return parse_cassette(text, path)


def parse_cassette(text: str, path: str | Path = "<cassette>") -> Cassette:
    """Parse cassette text (see :func:`load_cassette`); ``path`` is only used in error messages and the result."""
    path = Path(path)
    try:
        data = yaml.load(text, Loader=CassetteLoader)  # safe: CassetteLoader derives from (C)SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CassetteError(
            f"{path} is not valid YAML.",
            [f"{where}: {exc.problem or exc.context}. Fix the YAML there, or re-record the cassette."],
        ) from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{path} is not valid YAML.", [f"{path}: {exc}"]) from None
    return _Builder(text, path).cassette(data)


def cassette_from_data(data: Any, path: str | Path = "<cassette>") -> Cassette:
    """Normalise already-loaded cassette data (vcrpy's ``{"version": 1, "interactions": [...]}``), e.g. vcrpy's own
    in-memory interactions on their way to a file."""
    return _Builder("", Path(path)).cassette(data)


class _Builder:
    """Turns the loaded YAML data into records; on a problem, composes the node tree once to find its line."""

    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.dialect: Dialect = "vcrpy"

    def fail(self, loc: Loc, problem: str) -> CassetteError:
        try:
            root = yaml.compose(self.text, Loader=SafeLoader)
        except yaml.YAMLError:  # pragma: no cover - the text loaded a moment ago
            root = None
        line = YamlDocument(path=self.path, data=None, root=root).line_at(loc)
        where = f"{self.path}:{line}" if line else str(self.path)
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        subject = f"{dotted}: " if dotted else ""
        return CassetteError(f"{self.path} is not a valid vcrpy cassette.", [f"{where}: {subject}{problem}"])

    def cassette(self, data: Any) -> Cassette:
        if isinstance(data, list) and data and isinstance(data[0], dict) and "request" in data[0]:
            raise self.fail((), "this is a cassette from vcrpy < 1.0 (a bare list). Re-record it.")
        if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
            hint = (
                " (langchain's gzip cassettes use requests/responses lists: not supported)"
                if (isinstance(data, dict) and "requests" in data)
                else ""
            )
            raise self.fail((), f"expected a mapping with an 'interactions' list{hint}.")
        version = data.get("version", 1)
        if version != 1:
            raise self.fail(("version",), f"unsupported cassette format version {version!r}; vcrpy writes 1.")
        interactions = [self.interaction(item, index) for index, item in enumerate(data["interactions"])]
        return Cassette(version=1, interactions=interactions, dialect=self.dialect, path=self.path)

    def interaction(self, item: Any, index: int) -> Interaction:
        loc: Loc = ("interactions", index)
        if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
            raise self.fail(loc, "each interaction needs a 'request' mapping.")
        if not isinstance(item.get("response"), dict):
            raise self.fail(loc, "each interaction needs a 'response' mapping.")
        return Interaction(
            request=self.request(item["request"], (*loc, "request")),
            response=self.response(item["response"], (*loc, "response")),
        )

    def request(self, raw: dict[str, Any], loc: Loc) -> RecordedRequest:
        method, uri = raw.get("method"), raw.get("uri")
        if not isinstance(method, str) or not method:
            raise self.fail(loc, "the request has no 'method'.")
        if not isinstance(uri, str) or not uri:
            raise self.fail(loc, "the request has no 'uri'.")
        headers = self.headers(raw.get("headers"), (*loc, "headers"))
        if "parsed_body" in raw:
            body: bytes | None = self.reencode(raw["parsed_body"])
            headers = with_content_length(headers, body)
        else:
            body = self.body_bytes(raw.get("body"), (*loc, "body"))
        body, headers = self.decoded(body, headers, loc)
        content_type = ",".join(header_values(headers, "content-type"))
        return RecordedRequest(
            method=method.upper(),
            uri=uri,
            headers=headers,
            body=body,
            json=parse_json_body(body, content_type),
        )

    def response(self, raw: dict[str, Any], loc: Loc) -> RecordedResponse:
        headers = self.headers(raw.get("headers"), (*loc, "headers"))
        status = raw.get("status")
        if "status_code" in raw:  # vcrpy < 8 httpx stub: status_code / content
            code, message = raw["status_code"], ""
            body = self.body_bytes(raw.get("content"), (*loc, "content")) or b""
        elif isinstance(status, dict) and "code" in status:
            code, message = status["code"], str(status.get("message") or "")
            if "parsed_body" in raw:
                body = self.reencode(raw["parsed_body"])
                headers = with_content_length(headers, body)
            else:
                stored = raw.get("body")
                stored = stored.get("string") if isinstance(stored, dict) else stored
                body = self.body_bytes(stored, (*loc, "body", "string")) or b""
        else:
            raise self.fail(loc, "the response has no 'status: {code, message}'.")
        try:
            code = int(code)
        except (TypeError, ValueError):
            raise self.fail((*loc, "status"), f"status code {code!r} is not a number.") from None
        encoding = ",".join(header_values(headers, "content-encoding")) or None
        decoded, headers = self.decoded(body, headers, loc)
        body = decoded or b""
        content_type = ",".join(header_values(headers, "content-type"))
        stream = is_event_stream(body, content_type)
        return RecordedResponse(
            status=code,
            headers=headers,
            body=body,
            json=None if stream else parse_json_body(body, content_type),
            is_stream=stream,
            message=message,
            content_encoding=encoding,
        )

    def headers(self, raw: Any, loc: Loc) -> Headers:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise self.fail(loc, "headers must be a mapping of name -> list of values.")
        out: Headers = {}
        for name, values in raw.items():
            items = values if isinstance(values, list | tuple) else [values]
            # YAML turns unquoted numbers into ints (content-length: 419); header values are text.
            out[str(name)] = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in items]
        return out

    def body_bytes(self, raw: Any, loc: Loc) -> bytes | None:
        if raw is None:
            return None
        if isinstance(raw, bytes):
            return raw
        if isinstance(raw, str):
            return raw.encode("utf-8")
        if isinstance(raw, list) and all(isinstance(part, bytes | str) for part in raw):
            # Iterator request bodies: vcrpy stores their chunks as a list.
            return b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in raw)
        raise self.fail(loc, f"a body must be a string or !!binary, not {type(raw).__name__}.")

    def reencode(self, tree: Any) -> bytes:
        self.dialect = "pydantic-ai"
        return json.dumps(tree, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def decoded(self, body: bytes | None, headers: Headers, loc: Loc) -> tuple[bytes | None, Headers]:
        encodings = header_values(headers, "content-encoding")
        if not encodings or body is None:
            return body, headers
        try:
            decoded, complete = decode_body(body, encodings)
        except ValueError as exc:
            raise self.fail((*loc, "body"), f"{exc}. Re-record the cassette.") from None
        if not complete:
            return body, headers  # e.g. brotli without the brotli package: keep body and header as they are
        return decoded, with_content_length(without_headers(headers, "content-encoding"), decoded)
