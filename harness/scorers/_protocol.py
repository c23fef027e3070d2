"""The scorer protocol: one method that gets a stored run and its case and returns a :class:`ScoreResult`.

Scorers see only what the trace store holds (a :class:`RunTrace`) and the case, never live objects, so any eval run
can be re-scored later. ``score`` may be sync or async; the engine awaits what needs awaiting.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from harness.models import semconv as sc
from harness.models.cases import Case
from harness.models.scores import ScoreResult, ScoreSource
from harness.models.traces import RunRecord, RunTrace, cost_usd


@dataclass(frozen=True)
class ToolCallMade:
    """A tool call the agent asked for, in order, with what became of it."""

    name: str
    """Tool name."""
    arguments: dict[str, Any]
    """Arguments as the model gave them (``{}`` when they were not a JSON object)."""
    call_id: str | None = None
    """The model's call id, linking it to its ``execute_tool`` span."""
    executed: bool = False
    """Whether the tool ran and returned a result (refused, denied or failed calls did not)."""
    result: str | None = None
    """The tool's result text, when it ran."""


@dataclass(frozen=True)
class ScoreContext:
    """What a scorer gets: the stored trace, the case, and the settings scores may need."""

    trace: RunTrace
    """The run and its spans, as stored."""
    case: Case
    """The case the run executed."""
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    """USD per million input and output tokens by model (for cost limits)."""

    @property
    def run(self) -> RunRecord:
        """The run row."""
        return self.trace.run

    @property
    def output_text(self) -> str:
        """The final answer as text (empty when there is none)."""
        return self.trace.run.output_text or ""

    @cached_property
    def output_data(self) -> Any:
        """The structured answer: the run's ``output_data``, else the final text parsed as JSON, else ``None``."""
        if self.trace.run.output_data is not None:
            return self.trace.run.output_data
        text = self.output_text.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return None
        return None

    @cached_property
    def tool_calls(self) -> list[ToolCallMade]:
        """Tool calls the agent asked for, in order: the ``tool_call`` parts of every chat span's output.

        The model's requests are what the agent decided, whatever happened next (a guard may refuse a forbidden
        call; it was still attempted). ``execute_tool`` spans tell which of them ran.
        """
        spans = sorted(self.trace.spans, key=lambda s: s.seq)
        ran: dict[str, tuple[bool, str | None]] = {}
        for span in spans:
            if span.operation == sc.OP_EXECUTE_TOOL:
                call_id = span.attributes.get(sc.TOOL_CALL_ID)
                if call_id is not None:
                    result = span.attributes.get(sc.TOOL_CALL_RESULT)
                    ok = span.status_code != "ERROR"
                    ran[str(call_id)] = (ok, None if result is None else str(result))
        calls: list[ToolCallMade] = []
        for name, arguments, call_id in self.trace.requested_tool_calls():
            executed, result = ran.get(call_id, (False, None)) if call_id else (False, None)
            calls.append(ToolCallMade(name, arguments, call_id, executed, result))
        return calls

    @property
    def duration_ms(self) -> float | None:
        """Wall-clock duration of the run, when it ended."""
        return self.trace.run.duration_ms

    @property
    def cost_usd(self) -> float | None:
        """Cost of the run's tokens at :attr:`prices`, or ``None`` when the model has no price."""
        run = self.trace.run
        return cost_usd(run.model, run.input_tokens, run.output_tokens, self.prices)


@runtime_checkable
class Scorer(Protocol):
    """Anything with a name, a version, a source and a ``score`` method (sync or async)."""

    @property
    def name(self) -> str:
        """Unique name, used in ``--scorer`` and in the ``scores`` table."""
        ...

    @property
    def version(self) -> str:
        """Bumped when the scorer's verdicts change, so that old and new rows can be told apart."""
        ...

    @property
    def source(self) -> ScoreSource:
        """Where its scores come from."""
        ...

    def applies_to(self, case: Case) -> bool:
        """Whether the case asks for this scorer (its ``expected`` block names something it checks)."""
        ...

    def score(self, ctx: ScoreContext) -> ScoreResult | Awaitable[ScoreResult]:
        """Judge one run."""
        ...
