"""A deterministic stand-in for a BPE tokenizer.

It does not need to agree with tiktoken; it needs to be stable, cheap, and roughly proportional to what a provider
would bill, so that token budgets and cost figures computed from ``usage`` behave like the real thing. English prose
comes out close to OpenAI's counts: short words are one token, long words one token per six characters, every
punctuation mark one token.
"""

from __future__ import annotations

import re

_PIECE = re.compile(r"\w+|[^\w\s]")
# Per-message framing overhead and reply priming, as in OpenAI's published counting recipe.
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3


def count_tokens(text: str | None) -> int:
    """Number of tokens in ``text`` under the approximation."""
    if not text:
        return 0
    return sum(1 + (len(piece) - 1) // 6 for piece in _PIECE.findall(text))


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that costs at most ``limit`` tokens (used for ``finish_reason='length'``)."""
    spent = 0
    end = 0
    for match in _PIECE.finditer(text):
        cost = 1 + (len(match.group()) - 1) // 6
        if spent + cost > limit:
            return text[:end]
        spent += cost
        end = match.end()
    return text


_WORD_START = re.compile(r"(?<=\s)(?=\S)")


def split_for_stream(text: str) -> list[str]:
    """Split text into stream deltas, one word with its leading whitespace each; ``"".join`` gives ``text`` back."""
    if not text:
        return []
    return [piece for piece in _WORD_START.split(text) if piece]
