"""Verdicts: read one from the judge's answer, and combine several samples into one score with their agreement."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from typing import Any

from harness.models._base import Record
from harness.scorers.judges._rubric import RubricHeader

_FENCED = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class VerdictError(ValueError):
    """The judge's answer is not a valid verdict; the message says why (it is sent back in the repair request)."""


class Verdict(Record):
    """One judge sample's verdict."""

    reasoning: str
    """The judge's evidence."""
    score: float | None = None
    """The score, for a rubric with a scale."""
    label: str | None = None
    """The label, for a rubric with labels (``A``/``B``/``tie`` for a pairwise one)."""


class JudgeSample(Record):
    """One sample: its seed, its verdict (or why it has none) and what it cost."""

    seed: int
    """Seed sent with the request."""
    verdict: Verdict | None = None
    """The verdict; ``None`` when the answer stayed invalid after the repair retry, or the call failed."""
    error: str | None = None
    """Why there is no verdict."""
    repaired: bool = False
    """Whether the first answer was invalid and the repair retry was needed."""
    calls: int = 0
    """Model calls made (1, or 2 with a repair)."""
    input_tokens: int = 0
    """Prompt tokens over the calls."""
    output_tokens: int = 0
    """Completion tokens over the calls."""


class Aggregate(Record):
    """Samples combined."""

    value: float | None = None
    """The mean (``mean``) or most common (``majority``) score, for a scale."""
    label: str | None = None
    """The most common label, for labels."""
    agreement: float
    """Share of valid samples that agree with the aggregate verdict (1.0 for a single sample). For ``mean``, the
    share within half a point of the mean."""
    stdev: float | None = None
    """Population standard deviation of the scores (scale only)."""
    samples: int
    """Valid samples combined."""


def parse_verdict(content: str | None, rubric: RubricHeader) -> Verdict:
    """Read a verdict from the judge's message content, checked against the rubric's schema.

    Raises:
        VerdictError: not JSON, not an object, a missing or extra key, a score off the scale, an unknown label.
    """
    if content is None or not content.strip():
        raise VerdictError("the answer is empty")
    text = content.strip()
    fenced = _FENCED.match(text)
    if fenced:  # some models wrap JSON in a code fence even when asked not to
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerdictError(f"the answer is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise VerdictError(f"the answer is JSON but not an object (got {type(data).__name__})")
    labels = rubric.verdict_labels
    wanted = {"reasoning", "label" if labels is not None else "score"}
    missing, extra = sorted(wanted - set(data)), sorted(set(data) - wanted)
    if missing or extra:
        parts = ([f"missing key(s) {missing}"] if missing else []) + ([f"unexpected key(s) {extra}"] if extra else [])
        raise VerdictError(f"the object has {' and '.join(parts)}; the keys are exactly {sorted(wanted)}")
    reasoning = data["reasoning"]
    if not isinstance(reasoning, str):
        raise VerdictError("'reasoning' must be a string")
    if labels is not None:
        label = data["label"]
        if label not in labels:
            raise VerdictError(f"'label' is {label!r}; it must be one of {labels}")
        return Verdict(reasoning=reasoning, label=label)
    return Verdict(reasoning=reasoning, score=_score(data["score"], rubric))


def _score(value: Any, rubric: RubricHeader) -> float:
    scale = rubric.scale
    assert scale is not None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise VerdictError(f"'score' is {value!r}; it must be a number from {scale.min:g} to {scale.max:g}")
    if scale.is_integer and not float(value).is_integer():
        raise VerdictError(f"'score' is {value!r}; it must be a whole number from {scale.min:g} to {scale.max:g}")
    if not scale.min <= value <= scale.max:
        raise VerdictError(f"'score' {value!r} is off the scale; it must be from {scale.min:g} to {scale.max:g}")
    return float(value)


def aggregate(verdicts: list[Verdict], rubric: RubricHeader) -> Aggregate:
    """Combine valid verdicts: ``mean`` or ``majority`` (most common score or label; a tie goes to the lower score,
    or to the label listed first in the rubric), with their agreement."""
    if not verdicts:
        raise ValueError("no verdict to aggregate")
    labels = rubric.verdict_labels
    if labels is not None:
        counts = Counter(v.label for v in verdicts)
        top = max(counts.values())
        label = next(name for name in labels if counts.get(name) == top)
        return Aggregate(label=label, agreement=top / len(verdicts), samples=len(verdicts))
    scores = [v.score for v in verdicts if v.score is not None]
    stdev = statistics.pstdev(scores) if len(scores) > 1 else 0.0
    if rubric.aggregation == "mean":
        mean = statistics.fmean(scores)
        close = sum(abs(s - mean) <= 0.5 for s in scores)
        return Aggregate(
            value=round(mean, 6), agreement=close / len(scores), stdev=round(stdev, 6), samples=len(scores)
        )
    counts_by_score = Counter(scores)
    top = max(counts_by_score.values())
    mode = min(s for s, n in counts_by_score.items() if n == top)
    return Aggregate(value=mode, agreement=top / len(scores), stdev=round(stdev, 6), samples=len(scores))
