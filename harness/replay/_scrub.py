"""Remove secrets from recorded traffic: request and response headers, URLs and bodies; idempotent, deterministic.

vcrpy runs the recording hooks on live requests before matching, on every interaction loaded from disk and before
saving (notes §1.3), so a hook that changes already-scrubbed data would corrupt cassettes on every load: here
``scrub(scrub(x)) == scrub(x)`` holds by construction (placeholders never match a pattern, and patterns are applied
until nothing changes). Compressed response bodies are decoded first: a pattern cannot see a key inside gzip bytes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.models import Record
from harness.replay._http import decode_body, header_values, parse_json_body, with_content_length, without_headers
from harness.replay._patterns import DEFAULT_PATTERNS, PLACEHOLDER, SecretPattern, header_secret
from harness.replay._reader import load_cassette
from harness.replay._records import Cassette, Headers, Interaction, RecordedRequest, RecordedResponse
from harness.replay._scan import cassette_files
from harness.replay._writer import save_cassette

_MAX_PASSES = 5


class ScrubConfig(Record):
    """What the scrubber removes. The defaults cover OpenAI-style traffic; extend them per project."""

    redact_headers: tuple[str, ...] = (
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "openai-organization",
        "openai-project",
    )
    """Headers (request or response, case-insensitive) whose values become the placeholder: kept, so a reader sees
    that the request was authenticated."""
    drop_headers: tuple[str, ...] = ("cookie", "set-cookie", "x-request-id", "request-id")
    """Headers removed entirely: cookies (Cloudflare ``__cf_bm``) and per-request ids carry no replay value and
    change on every recording."""
    redact_query_params: tuple[str, ...] = ("key", "api_key", "api-key", "access_token", "token")
    """URL query parameters whose values become ``REDACTED`` (Google-style ``?key=...``)."""
    patterns: tuple[SecretPattern, ...] = DEFAULT_PATTERNS
    """Secrets found anywhere in header values, URLs and bodies; only their ``secret`` group is replaced."""
    placeholder: str = PLACEHOLDER
    """What a redacted value becomes."""


class Scrubber:
    """Applies a :class:`ScrubConfig` to interactions, cassettes, and to vcrpy's live objects through its hooks.

    Example:
        >>> scrubber = Scrubber()
        >>> my_vcr = vcr.VCR(  # doctest: +SKIP
        ...     before_record_request=scrubber.before_record_request,
        ...     before_record_response=scrubber.before_record_response,
        ... )
    """

    def __init__(self, config: ScrubConfig | None = None) -> None:
        self.config = config or ScrubConfig()
        self._redact = {name.lower() for name in self.config.redact_headers}
        self._drop = {name.lower() for name in self.config.drop_headers}
        self._query = {name.lower() for name in self.config.redact_query_params}

    # -- values ----------------------------------------------------------------------------------------------------

    def scrub_text(self, text: str) -> str:
        """``text`` with every pattern's ``secret`` group replaced by the placeholder."""
        for _ in range(_MAX_PASSES):
            before = text
            for pattern in self.config.patterns:
                text = pattern.compiled.sub(self._replace, text)
            if text == before:
                break
        return text

    def _replace(self, match: Any) -> str:
        start, end = match.span("secret")
        whole: str = match.group(0)
        return whole[: start - match.start()] + self.config.placeholder + whole[end - match.start() :]

    def scrub_bytes(self, body: bytes) -> bytes:
        """``body`` scrubbed as text; bytes that are not UTF-8 survive unchanged (``surrogateescape``)."""
        text = body.decode("utf-8", errors="surrogateescape")
        scrubbed = self.scrub_text(text)
        return body if scrubbed == text else scrubbed.encode("utf-8", errors="surrogateescape")

    def scrub_headers(self, headers: Mapping[str, Sequence[str]]) -> Headers:
        """Headers with secrets dropped or replaced (names matched case-insensitively, case kept)."""
        out: Headers = {}
        for name, values in headers.items():
            lowered = name.lower()
            if lowered in self._drop | self._redact and all(header_secret(name, value) is None for value in values):
                # Already scrubbed, by us or by another project's convention (AUTHORIZATION-XXX): kept, so that a
                # clean cassette is never rewritten (patterns still apply: "Bearer <redacted> sk-..." is not clean).
                out[name] = [self.scrub_text(value) for value in values]
            elif lowered in self._drop:
                continue
            elif lowered in self._redact:
                out[name] = [self.config.placeholder for _ in values]
            else:
                out[name] = [self.scrub_text(value) for value in values]
        return out

    def scrub_uri(self, uri: str) -> str:
        """The URL with sensitive query values replaced and patterns scrubbed; unchanged when there is nothing."""
        parts = urlsplit(uri)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(key.lower() in self._query and value != "REDACTED" for key, value in pairs):
                pairs = [(k, "REDACTED" if k.lower() in self._query else v) for k, v in pairs]
                uri = urlunsplit(parts._replace(query=urlencode(pairs)))
        return self.scrub_text(uri)

    # -- records ---------------------------------------------------------------------------------------------------

    def scrub_request(self, request: RecordedRequest) -> RecordedRequest:
        """A scrubbed copy of ``request`` (``json`` re-parsed from the scrubbed body)."""
        body = self.scrub_bytes(request.body) if request.body is not None else None
        headers = with_content_length(self.scrub_headers(request.headers), body)
        content_type = ",".join(header_values(headers, "content-type"))
        json_value = request.json if body == request.body else parse_json_body(body, content_type)
        return replace(request, uri=self.scrub_uri(request.uri), headers=headers, body=body, json=json_value)

    def scrub_response(self, response: RecordedResponse) -> RecordedResponse:
        """A scrubbed copy of ``response``."""
        body = self.scrub_bytes(response.body)
        headers = with_content_length(self.scrub_headers(response.headers), body)
        if body == response.body:
            return replace(response, headers=headers)
        content_type = ",".join(header_values(headers, "content-type"))
        json_value = None if response.is_stream else parse_json_body(body, content_type)
        return replace(response, headers=headers, body=body, json=json_value)

    def scrub_interaction(self, interaction: Interaction) -> Interaction:
        """A scrubbed copy of one interaction."""
        return Interaction(
            request=self.scrub_request(interaction.request), response=self.scrub_response(interaction.response)
        )

    def scrub_cassette(self, cassette: Cassette) -> Cassette:
        """A scrubbed copy of a whole cassette."""
        return replace(cassette, interactions=[self.scrub_interaction(i) for i in cassette.interactions])

    # -- vcrpy hooks -----------------------------------------------------------------------------------------------

    def before_record_request(self, request: Any) -> Any:
        """vcrpy ``before_record_request`` hook: scrubs a ``vcr.request.Request`` (a copy; never returns ``None``).

        Returning ``None`` would tell vcrpy to ignore the request, and an ignored request goes to the real server
        even in ``record_mode="none"`` (``httpx_stubs._vcr_request``): this hook always returns the request.
        """
        request = copy.deepcopy(request)
        headers = self.scrub_headers({name: [str(value)] for name, value in request.headers.items()})
        for name in list(request.headers):
            if name in headers:
                request.headers[name] = headers[name][0]
            else:
                del request.headers[name]
        request.uri = self.scrub_uri(request.uri)
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            scrubbed = self.scrub_bytes(body)
            if scrubbed != body:
                request.body = scrubbed
                for name in list(request.headers):
                    if name.lower() == "content-length":
                        request.headers[name] = str(len(scrubbed))
        return request

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response`` hook: scrubs a response dict (a copy), decoding gzip/deflate first."""
        response = copy.deepcopy(response)
        headers: Headers = {k: list(v) if isinstance(v, list) else [v] for k, v in response.get("headers", {}).items()}
        holder = response.get("body")
        if isinstance(holder, dict) and isinstance(holder.get("string"), bytes | str):
            body = holder["string"]
            body = body.encode("utf-8") if isinstance(body, str) else body
            encodings = header_values(headers, "content-encoding")
            if encodings:
                # A corrupt body (or brotli without the brotli package, which httpx then never asks for) stays
                # encoded: there is nothing readable in it to scrub.
                try:
                    decoded, complete = decode_body(body, encodings)
                except ValueError:
                    complete = False
                if complete:
                    body = decoded
                    headers = without_headers(headers, "content-encoding")
            body = self.scrub_bytes(body)
            holder["string"] = body
            headers = with_content_length(headers, body)
        response["headers"] = self.scrub_headers(headers)
        return response


@cache
def _default_scrubber() -> Scrubber:
    return Scrubber()


def scrub_interaction(interaction: Interaction, config: ScrubConfig | None = None) -> Interaction:
    """A scrubbed copy of ``interaction`` (default :class:`ScrubConfig` unless ``config`` is given)."""
    scrubber = Scrubber(config) if config is not None else _default_scrubber()
    return scrubber.scrub_interaction(interaction)


def before_record_request(request: Any) -> Any:
    """vcrpy hook with the default :class:`ScrubConfig` (see :meth:`Scrubber.before_record_request`)."""
    return _default_scrubber().before_record_request(request)


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy hook with the default :class:`ScrubConfig` (see :meth:`Scrubber.before_record_response`)."""
    return _default_scrubber().before_record_response(response)


class ScrubbedFile(Record):
    """What scrubbing did to one cassette file."""

    path: str
    """The cassette file."""
    interactions: int
    """Interactions in the file."""
    changed: bool
    """Whether secrets were removed (the file was rewritten as stock vcrpy YAML); ``False``: left untouched."""


def scrub_cassette_files(paths: Iterable[str | Path], config: ScrubConfig | None = None) -> list[ScrubbedFile]:
    """Scrub cassette files in place; a file with nothing to remove is not rewritten (its dialect is kept).

    Raises:
        CassetteError: A path does not exist or a file is not a valid cassette.
    """
    scrubber = Scrubber(config) if config is not None else _default_scrubber()
    results = []
    for path in cassette_files(paths):
        cassette = load_cassette(path)
        scrubbed = scrubber.scrub_cassette(cassette)
        changed = scrubbed != cassette
        if changed:
            save_cassette(scrubbed, path)
        results.append(ScrubbedFile(path=str(path), interactions=len(cassette.interactions), changed=changed))
    return results
