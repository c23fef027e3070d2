"""Fault injection: which requests fail, and how.

A fault plan is a list of faults, each a *kind* (how the response breaks) and a *schedule* (which requests break).
It comes from the server's configuration (``--faults``, a scenario's ``faults:`` block, or a YAML file) or from one
request's ``x-mockllm-fault`` header. Inline form, comma-separated::

    429                  every request is rate-limited (Retry-After: 1)
    429:0.2@every 3      every 3rd request, Retry-After 0.2 s
    500@first 2          the first two requests
    drop@20%             a seeded 20% of requests (seed 0); ``drop@20% seed 7`` picks another set
    timeout:5@first 1    the first request stalls 5 s before answering

Kinds: ``rate_limit`` (429), ``server_error`` (500), ``unavailable`` (503), ``bad_request`` (400),
``unauthorized`` (401), ``not_found`` (404), ``context_length`` (400 ``context_length_exceeded``), ``timeout``
(answers only after ``seconds``), ``drop`` (closes the connection without answering), ``truncate`` (sends part of
the body, then closes), ``malformed_json`` (200 with a broken JSON body), ``bad_tool_args`` (tool-call arguments that
are not JSON).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from harness import _yaml
from harness.errors import FaultSpecError, FileFormatError
from harness.models import Record

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "unavailable",
    "bad_request",
    "unauthorized",
    "not_found",
    "context_length",
    "timeout",
    "drop",
    "truncate",
    "malformed_json",
    "bad_tool_args",
]

KIND_ALIASES: dict[str, str] = {
    "429": "rate_limit",
    "500": "server_error",
    "503": "unavailable",
    "400": "bad_request",
    "401": "unauthorized",
    "404": "not_found",
    "delay": "timeout",
    "hang": "timeout",
    "disconnect": "drop",
    "malformed": "malformed_json",
    "bad_json": "malformed_json",
    "bad_args": "bad_tool_args",
}
KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]

_SCHEDULE_HELP = "always | every N | first N | P% [seed S]"
_EVERY = re.compile(r"^(every|first)\s*[\s:=]\s*(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%(?:\s*[\s:,]\s*(?:seed)?\s*[\s:=]?\s*(\d+))?$")


class Schedule(Record):
    """Which requests a fault hits, counted from 1 in arrival order.

    Give at most one of ``every``, ``first`` or ``percent``; none of them means every request. In YAML a string is
    shorthand: ``"every 3"``, ``"first 2"``, ``"20%"``, ``"20% seed 7"``, ``"always"``.
    """

    every: int | None = Field(default=None, ge=1)
    """Hit requests N, 2N, 3N, ..."""
    first: int | None = Field(default=None, ge=0)
    """Hit the first N requests, then none: a fault the client's retries get past."""
    percent: float | None = Field(default=None, ge=0, le=100)
    """Hit this share of requests, chosen by a seeded hash of the request number (reproducible)."""
    seed: int = 0
    """Seed for ``percent``: another seed chooses another set of requests."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_schedule(data)
        return data

    @model_validator(mode="after")
    def _one_rule(self) -> Schedule:
        given = [n for n in ("every", "first", "percent") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of every/first/percent, not {' and '.join(given)}")
        return self

    def fires(self, number: int) -> bool:
        """Whether request ``number`` (1-based) is hit."""
        if self.every is not None:
            return number % self.every == 0
        if self.first is not None:
            return number <= self.first
        if self.percent is not None:
            digest = hashlib.blake2b(f"{self.seed}:{number}".encode(), digest_size=8).digest()
            return int.from_bytes(digest, "big") / 2**64 < self.percent / 100
        return True

    def describe(self) -> str:
        """Human wording of the schedule, for banners and logs."""
        if self.every is not None:
            return f"every {_ordinal(self.every)} request" if self.every > 1 else "every request"
        if self.first is not None:
            return f"the first {self.first} requests"
        if self.percent is not None:
            return f"{self.percent:g}% of requests (seed {self.seed})"
        return "every request"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def parse_schedule(text: str) -> dict[str, Any]:
    """Parse the string form of a schedule into its fields; raise ``ValueError`` naming the valid forms."""
    value = text.strip().lower()
    if value in ("", "always", "all"):
        return {}
    match = _EVERY.match(value)
    if match:
        return {match.group(1): int(match.group(2))}
    match = _PERCENT.match(value)
    if match:
        out: dict[str, Any] = {"percent": float(match.group(1))}
        if match.group(2):
            out["seed"] = int(match.group(2))
        return out
    raise ValueError(f"unknown schedule {text!r}; use one of: {_SCHEDULE_HELP}")


class FaultSpec(Record):
    """One injected fault: how the response breaks, and on which requests."""

    kind: FaultKind
    """How the response breaks (see the module docs for each kind)."""
    schedule: Schedule = Schedule()
    """Which requests it hits; every request by default."""
    retry_after: float | None = Field(default=None, ge=0)
    """Seconds sent in ``Retry-After`` / ``retry-after-ms`` (rate_limit and unavailable; default 1 for rate_limit)."""
    seconds: float | None = Field(default=None, gt=0)
    """How long a ``timeout`` fault stalls before answering (default 30, longer than any sane client timeout)."""
    message: str | None = None
    """Error message to return instead of the default one."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return _parse_item(data)
        if isinstance(data, dict) and isinstance(data.get("kind"), str | int):
            data = {**data, "kind": _canonical_kind(str(data["kind"]))}
        return data

    @model_validator(mode="after")
    def _fits_kind(self) -> FaultSpec:
        if self.seconds is not None and self.kind != "timeout":
            raise ValueError(f"'seconds' applies to timeout faults only, not {self.kind}")
        if self.retry_after is not None and self.kind not in ("rate_limit", "unavailable"):
            raise ValueError(f"'retry_after' applies to rate_limit and unavailable faults only, not {self.kind}")
        return self

    def describe(self) -> str:
        """Human wording, e.g. ``rate_limit (Retry-After 0.2s) on every 3rd request``."""
        extra = ""
        if self.retry_after is not None:
            extra = f" (Retry-After {self.retry_after:g}s)"
        if self.kind == "timeout":
            extra = f" ({self.stall_seconds:g}s)"
        return f"{self.kind}{extra} on {self.schedule.describe()}"

    @property
    def stall_seconds(self) -> float:
        """How long a ``timeout`` fault waits."""
        return self.seconds if self.seconds is not None else 30.0


def _canonical_kind(kind: str) -> str:
    key = kind.strip().lower().replace("-", "_")
    return KIND_ALIASES.get(key, key)


def _parse_item(text: str) -> dict[str, Any]:
    item = text.strip()
    if not item:
        raise ValueError("empty fault; write e.g. '429@every 3'")
    head, _, schedule = item.partition("@")
    kind_text, _, param = head.partition(":")
    kind = _canonical_kind(kind_text)
    if kind not in KINDS:
        raise ValueError(
            f"unknown fault kind {kind_text.strip()!r}; valid kinds: {', '.join(KINDS)} (or 429, 500, ...)"
        )
    out: dict[str, Any] = {"kind": kind}
    if param.strip():
        try:
            number = float(param)
        except ValueError:
            raise ValueError(f"{param.strip()!r} after ':' in {item!r} must be a number of seconds") from None
        if kind in ("rate_limit", "unavailable"):
            out["retry_after"] = number
        elif kind == "timeout":
            out["seconds"] = number
        else:
            raise ValueError(f"fault {kind} takes no ':' parameter (only rate_limit, unavailable and timeout do)")
    if schedule.strip():
        out["schedule"] = parse_schedule(schedule)
    return out


def parse_faults(spec: str, source: str = "--faults") -> list[FaultSpec]:
    """Parse an inline spec such as ``"429@every 3, drop@10%"``; errors name ``source`` and the valid forms."""
    faults: list[FaultSpec] = []
    for item in (part for part in spec.split(",") if part.strip()):
        try:
            faults.append(FaultSpec.model_validate(item))
        except ValueError as exc:
            raise FaultSpecError(f"{source}: bad fault {item.strip()!r}: {_reason(exc)}. {SPEC_HELP}") from None
    return faults


SPEC_HELP = "Write KIND[:SECONDS][@SCHEDULE], comma-separated, e.g. '429:0.5@every 3, drop@20%'."


def _reason(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        message = str(first["msg"])
        return message.removeprefix("Value error, ")
    return str(exc)


class FaultFile(Record):
    """A YAML file holding a fault plan: ``faults:`` followed by a list of faults (strings or mappings)."""

    faults: list[FaultSpec]
    """The faults, tried in order; the first whose schedule hits a request decides its fate."""


def load_faults(path: Path) -> list[FaultSpec]:
    """Load a fault plan from YAML, either ``faults: [...]`` or a bare list; errors carry ``file:line``."""
    doc = _yaml.load_yaml(path, FileFormatError)
    data = doc.data
    if isinstance(data, list):
        doc = _yaml.YamlDocument(path=doc.path, data={"faults": data}, root=doc.root)
        try:
            return _yaml.validate_document(doc, FaultFile, data={"faults": data}).faults
        except FileFormatError as exc:
            # A bare list has no 'faults' key in the file: drop it from the locations we report.
            raise FaultSpecError(str(exc).replace(": faults[", ": [")) from None
    try:
        return _yaml.validate_document(doc, FaultFile).faults
    except FileFormatError as exc:
        raise FaultSpecError(str(exc)) from None


def resolve_faults(spec: str | Path | None) -> list[FaultSpec]:
    """Faults from ``--faults``: a path to a YAML file when one exists there, otherwise the inline form."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return []
    text = str(spec)
    if isinstance(spec, Path) or text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return load_faults(Path(text))
    return parse_faults(text)


class FaultPlan:
    """Decides, request by request, which fault (if any) applies. Not thread-safe: the server's loop owns it."""

    def __init__(self, faults: list[FaultSpec]) -> None:
        self.faults = list(faults)
        self.requests_seen = 0
        self._header_counts: dict[str, int] = {}
        self._header_specs: dict[str, list[FaultSpec]] = {}

    def next_fault(self) -> FaultSpec | None:
        """Count one request and return the first configured fault whose schedule hits it."""
        self.requests_seen += 1
        return _first_hit(self.faults, self.requests_seen)

    def fault_from_header(self, header: str, request_key: str) -> FaultSpec | None:
        """The fault a request's ``x-mockllm-fault`` header asks for.

        The schedule counts requests carrying the same header *and* the same body, so ``500@first 1`` fails the
        first attempt and lets the client's retry of the identical request through, even when other tests share
        the server.
        """
        specs = self._header_specs.get(header)
        if specs is None:
            specs = parse_faults(header, source="x-mockllm-fault header")
            self._header_specs[header] = specs
        key = f"{header}\x00{request_key}"
        count = self._header_counts.get(key, 0) + 1
        self._header_counts[key] = count
        return _first_hit(specs, count)


def _first_hit(faults: list[FaultSpec], number: int) -> FaultSpec | None:
    for fault in faults:
        if fault.schedule.fires(number):
            return fault
    return None
