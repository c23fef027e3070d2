"""The redactor's one-search prefilter must never change what is redacted, only skip work."""

from __future__ import annotations

import random
import re

import pytest

from harness.agent import redaction
from harness.agent.redaction import Redactor

SAMPLES = [
    "Mail me at jane.doe+orders@example.co.uk or call +1 (415) 555-0134 today.",
    "Card 4111 1111 1111 1111, exp 12/29; backup 5500-0000-0000-0004.",
    "Order A1001 shipped 2026-06-15, total 1234567.89, tracking 1Z999AA10123456784.",
    "phone 415.555.0134 and 0044 20 7946 0958; not a phone: 3.14159265",
    "[EMAIL]@evil.example [CARD ****1111] [PHONE]",
    "",
    "no digits or at-signs here at all",
]
ALPHABET = "0123456789" * 4 + " -().+@_%abcxyzABC\n\t/:*"


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60))) for _ in range(count)]


@pytest.mark.parametrize("flags", [(True, True, True), (True, False, True), (False, True, False)])
def test_the_prefilter_changes_no_result(monkeypatch: pytest.MonkeyPatch, flags: tuple[bool, bool, bool]) -> None:
    emails, phones, cards = flags
    texts = SAMPLES + _random_texts(4000, seed=7)
    filtered = [Redactor(emails=emails, phones=phones, cards=cards)._text(t) for t in texts]
    skipped = sum(redaction._MAYBE_PII.search(t) is None for t in texts)
    monkeypatch.setattr(redaction, "_MAYBE_PII", re.compile(""))  # matches every string: no prefiltering
    unfiltered = [Redactor(emails=emails, phones=phones, cards=cards)._text(t) for t in texts]
    assert filtered == unfiltered
    # The comparison is not vacuous: the inputs include strings that are redacted and strings that are skipped.
    assert sum(count > 0 for _, count in unfiltered) > 10
    assert skipped > 500


def test_the_prefilter_skips_plain_text_and_extra_patterns_still_apply() -> None:
    assert redaction._MAYBE_PII.search("Question number 7: what is 7 + 7?") is None
    redactor = Redactor(patterns=[(r"ACCT-\d+", "[ACCOUNT]")])
    assert redactor.text("see ACCT-42 now") == ("see [ACCOUNT] now", 1)
    assert redactor.text("write to a@b.example about ACCT-7") == ("write to [EMAIL]@b.example about [ACCOUNT]", 2)
