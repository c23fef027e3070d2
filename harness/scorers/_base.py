"""What every built-in scorer shares: a name, a version, and which ``expected`` fields make it apply."""

from __future__ import annotations

from typing import ClassVar

from harness.models.cases import Case
from harness.models.scores import ScoreResult, ScoreSource
from harness.scorers._protocol import ScoreContext


class BuiltinScorer:
    """A deterministic scorer driven by a case's ``expected`` block."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    source: ClassVar[ScoreSource] = "deterministic"
    fields: ClassVar[tuple[str, ...]] = ()
    """``Expected`` fields this scorer checks; it applies to a case that sets any of them."""
    summary: ClassVar[str] = ""
    """One line for ``agenteval score --list``."""

    def applies_to(self, case: Case) -> bool:
        expected = case.expected
        return any(_is_set(getattr(expected, name)) for name in self.fields)

    def score(self, ctx: ScoreContext) -> ScoreResult:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<scorer {self.name}@{self.version}>"


def _is_set(value: object) -> bool:
    """Whether an ``Expected`` field asks for something: unset is ``None``, ``False`` or an empty list or dict (a
    number is set even when it is 0: ``max_tool_calls: 0`` is a limit)."""
    return not (value is None or value is False or (isinstance(value, list | dict) and not value))


def verdict(failures: list[str], ok: str, **extra: object) -> ScoreResult:
    """A pass/fail result: passed when there are no failures; the explanation lists them, or says what held."""
    if failures:
        return ScoreResult(passed=False, explanation="; ".join(failures), **extra)
    return ScoreResult(passed=True, explanation=ok, **extra)


def clip(text: str, limit: int = 160) -> str:
    """Text shortened for an explanation."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
