"""PII redaction for stored traces: e-mail addresses, phone numbers and payment card numbers.

Applied to every run and span before it reaches a trace sink, so raw values are never written. Replacements keep
what a reviewer needs and nothing identifying: an e-mail keeps its domain (``[EMAIL]@evil.example`` still shows
where a hijacked agent sent mail), a card keeps its last four digits (as receipts do), a phone number keeps nothing.
Redaction is idempotent: redacting redacted text changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.models import semconv as sc
from harness.models.traces import RunTrace, Span

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b")
_CARD = re.compile(r"(?<![\d*])\d(?:[ -]?\d){12,18}(?!\d)")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{6,22}\d(?![\w])")
_DECIMAL = re.compile(r"^\d+\.\d+$")
# What every built-in pattern needs: an "@" (e-mail), or 8+ digits-and-separators from a digit to a digit (a card's
# digits with spaces or hyphens, a phone number's). One search rules out most strings before the three substitutions.
_MAYBE_PII = re.compile(r"@|\d[\d\s().-]{6,}\d")
_CACHED_LEN = 8_000
_CACHE_SIZE = 2048  # at most ~16 MB of cached text

# Keys whose values are identifiers, never PII: redacting them could corrupt ids that happen to contain digits.
_ID_KEYS = frozenset({"id", "tool_call_id", "trace_id", "span_id", "parent_span_id", "run_id", "response_id"})


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass
class Redactor:
    """Replaces PII in text and in nested JSON values; counts what it replaced."""

    emails: bool = True
    """Redact e-mail addresses (the domain is kept)."""
    phones: bool = True
    """Redact phone numbers (9 to 15 digits written with separators or a leading +)."""
    cards: bool = True
    """Redact payment card numbers (13 to 19 digits passing the Luhn check; the last four are kept)."""
    patterns: list[tuple[str, str]] = field(default_factory=list)
    """Extra ``(regex, replacement)`` pairs, e.g. ``(r"ACCT-\\d+", "[ACCOUNT]")``."""

    def __post_init__(self) -> None:
        self._extra = [(re.compile(p), r) for p, r in self.patterns]
        # The same strings (system prompts, tool schemas, role names) recur in every span of every run: remember
        # results for strings up to _CACHED_LEN characters, at most _CACHE_SIZE of them.
        self._cache: dict[str, tuple[str, int]] = {}

    def text(self, value: str) -> tuple[str, int]:
        """Redact one string; return it and how many values were replaced."""
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        result = self._text(value)
        if len(value) <= _CACHED_LEN:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[value] = result
        return result

    def _text(self, value: str) -> tuple[str, int]:
        count = 0

        def card(match: re.Match[str]) -> str:
            nonlocal count
            digits = re.sub(r"\D", "", match.group())
            if not 13 <= len(digits) <= 19 or not _luhn_ok(digits):
                return match.group()
            count += 1
            return f"[CARD ****{digits[-4:]}]"

        def email(match: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"[EMAIL]@{match.group(1)}"

        def phone(match: re.Match[str]) -> str:
            nonlocal count
            text = match.group()
            digits = re.sub(r"\D", "", text)
            has_separator = text.startswith("+") or any(ch in text for ch in " ()-")
            if not 9 <= len(digits) <= 15 or not has_separator or _DECIMAL.match(text):
                return text
            count += 1
            return "[PHONE]"

        if _MAYBE_PII.search(value) is not None:
            if self.cards:
                value = _CARD.sub(card, value)
            if self.emails:
                value = _EMAIL.sub(email, value)
            if self.phones:
                value = _PHONE.sub(phone, value)
        for pattern, replacement in self._extra:
            value, found = pattern.subn(replacement, value)
            count += found
        return value, count

    def value(self, data: Any, key: str | None = None) -> tuple[Any, int]:
        """Redact every string inside a JSON value (dict keys and identifier fields are left alone)."""
        if isinstance(data, str):
            if key is not None and (key in _ID_KEYS or key.endswith((".id", "_id"))):
                return data, 0
            return self.text(data)
        if isinstance(data, dict):
            total = 0
            out: dict[str, Any] = {}
            for name, item in data.items():
                out[name], found = self.value(item, str(name))
                total += found
            return out, total
        if isinstance(data, list | tuple):
            items: list[Any] = []
            total = 0
            for item in data:
                redacted, found = self.value(item, key)
                items.append(redacted)
                total += found
            return items, total
        return data, 0

    def texts(self, values: Iterable[str | None]) -> list[str | None]:
        """Redact several optional strings."""
        return [None if v is None else self.text(v)[0] for v in values]

    def span(self, span: Span) -> Span:
        """A copy of ``span`` with PII redacted from its attributes, events and status message; the number of
        values replaced is kept in ``agenteval.redacted``."""
        attributes, count = self.value(span.attributes)
        events = []
        for event in span.events:
            event_attributes, found = self.value(event.attributes)
            count += found
            events.append(event.model_copy(update={"attributes": event_attributes}))
        message = self.text(span.status_message)[0] if span.status_message else span.status_message
        if count:
            attributes[sc.REDACTED] = count
        return span.model_copy(update={"attributes": attributes, "events": events, "status_message": message})

    def trace(self, trace: RunTrace) -> RunTrace:
        """A copy of a whole run with PII redacted: every span, and the run's input, answer, errors and metadata.
        What every agent does before a trace is stored."""
        run = trace.run
        text_input, output_text, detail, message = self.texts(
            [run.input, run.output_text, run.status_detail, run.error_message]
        )
        update: dict[str, Any] = {
            "input": text_input,
            "output_text": output_text,
            "status_detail": detail,
            "error_message": message,
            "output_data": self.value(run.output_data)[0] if run.output_data is not None else None,
            "metadata": self.value(run.metadata)[0],
        }
        return RunTrace(run=run.model_copy(update=update), spans=[self.span(s) for s in trace.spans])


NO_REDACTION = Redactor(emails=False, phones=False, cards=False)
"""Keep everything (for traces that hold no personal data)."""
