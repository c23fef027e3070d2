"""What a secret looks like in recorded traffic: headers by name, values by pattern; shared by scrubber and scan.

Every pattern has a named group ``secret``: the scrubber replaces only that group (``Bearer <redacted>``,
``sk-<redacted>``, ``__cf_bm=<redacted>``), the scan masks only that group in its report. The placeholder contains
``<``, which no secret group accepts, so a scrubbed value never matches again: scrubbing is idempotent.
"""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import field_validator

from harness.models import Record

PLACEHOLDER = "<redacted>"
"""What a scrubbed header value or secret becomes."""


class SecretPattern(Record):
    """A kind of secret and the regular expression that finds it in header values and bodies."""

    kind: str
    """Short name in reports: ``api_key``, ``bearer_token``, ``organization``, ``project``, ``cookie``, ..."""
    regex: str
    """Python regular expression with a named group ``secret`` (the part that is replaced or masked)."""

    @field_validator("regex")
    @classmethod
    def _has_secret_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        if "secret" not in compiled.groupindex:
            raise ValueError(f"{value!r} needs a named group (?P<secret>...) marking the part to redact")
        return value

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        """The compiled expression."""
        return re.compile(self.regex)


DEFAULT_PATTERNS: tuple[SecretPattern, ...] = (
    # Order matters: a bearer token that is itself an sk- key is reported (and replaced) once, as a bearer token.
    SecretPattern(kind="bearer_token", regex=r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{16,})"),
    SecretPattern(kind="jwt", regex=r"\b(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
    # OpenAI (sk-..., sk-proj-..., sk-svcacct-...), Anthropic (sk-ant-...) and compatible providers.
    SecretPattern(kind="api_key", regex=r"\bsk-(?P<secret>[A-Za-z0-9_-]{16,})"),
    SecretPattern(kind="api_key", regex=r"\bAIza(?P<secret>[0-9A-Za-z_-]{35})"),
    SecretPattern(kind="api_key", regex=r"\b(?:AKIA|ASIA)(?P<secret>[0-9A-Z]{16})\b"),
    SecretPattern(kind="organization", regex=r"\borg-(?P<secret>[A-Za-z0-9]{16,})"),
    SecretPattern(kind="project", regex=r"\bproj_(?P<secret>[A-Za-z0-9]{16,})"),
    # Cloudflare bot-management cookies sit in every OpenAI response (set-cookie) and the next request (cookie).
    SecretPattern(
        kind="cookie",
        regex=r"(?<![\w-])(?:__cf_bm|_cfuvid|__Secure-[\w-]+|__Host-[\w-]+|sessionid)=(?P<secret>[^;\s\"'<>,\\]+)",
    ),
)
"""The patterns scrubbed and scanned for unless a :class:`~harness.replay.ScrubConfig` says otherwise."""

HEADER_KINDS: dict[str, str] = {
    "authorization": "credential",
    "proxy-authorization": "credential",
    "api-key": "api_key",
    "x-api-key": "api_key",
    "x-goog-api-key": "api_key",
    "openai-organization": "organization",
    "openai-project": "project",
    "cookie": "cookie",
    "set-cookie": "cookie",
}
"""Headers whose value is a secret whatever it looks like, and the kind reported for them."""

_PLACEHOLDER_MARKS = ("redacted", "xxx", "***", "<", "placeholder", "dummy", "filtered", "scrubbed", "...", "…")
_KNOWN_PREFIX = re.compile(r"^(?:bearer\s+|basic\s+|sk-(?:proj-|ant-|svcacct-)?|org-|proj_)", re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    """Whether a value is a stand-in rather than a secret: ``AUTHORIZATION-XXX``, ``Bearer <redacted>``,
    ``sk-...XXXX``, ``***``, ``OPENAI-PROJECT-XXX``, ``sk-000000000000``."""
    lowered = value.strip().lower()
    if not lowered or any(mark in lowered for mark in _PLACEHOLDER_MARKS):
        return True
    core = _KNOWN_PREFIX.sub("", lowered)
    return len(set(core) - set("-_.=")) <= 2


def header_secret(name: str, value: str) -> tuple[str, str] | None:
    """The secret in a value of a :data:`HEADER_KINDS` header, as ``(label, secret)``; ``None`` for a placeholder.

    A cookie header is a secret when one of its cookies has a real value (``a=1; b=<redacted>`` still is); a
    ``set-cookie`` value is one cookie followed by attributes (``path=/``), which are not secrets.
    """
    name = name.lower()
    if name in ("cookie", "set-cookie"):
        parts = value.replace("\n", " ").split(";")
        for part in parts if name == "cookie" else parts[:1]:
            cookie_name, sep, cookie = part.strip().partition("=")
            if sep and cookie.strip() and not is_placeholder(cookie.strip()):
                return f"{cookie_name}=", cookie.strip()
        return None
    return None if is_placeholder(value) else ("", value)


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it: ``sk-p…Xa (51 chars)``."""
    if len(secret) <= 8:
        return f"{secret[:1]}… ({len(secret)} chars)"
    keep = 4 if len(secret) >= 16 else 2
    return f"{secret[:keep]}…{secret[-2:]} ({len(secret)} chars)"


def masked_match(match: re.Match[str]) -> str:
    """The matched text with its ``secret`` group masked: ``Bearer sk-p…Xa (51 chars)``."""
    start, end = match.span("secret")
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + mask(match.group("secret")) + whole[end - offset :]
