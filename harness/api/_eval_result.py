"""What an eval test runs and what it gets back: :class:`EvalItem` and :class:`EvalResult` (with the explanation a
failed eval test shows)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.models import Record
from harness.models.cases import Case
from harness.models.scores import ScoreRecord
from harness.models.traces import RunTrace

_TRACE_LINES = 12


@dataclass(frozen=True)
class EvalItem:
    """One eval test: a case of a dataset under a variant (what a marked test is parametrized over)."""

    dataset: str
    """Dataset name."""
    path: str
    """Dataset file."""
    case_id: str
    """Case id."""
    variant: str
    """Variant name."""
    epoch: int = 1
    """Epoch."""


class EvalResult(Record):
    """One eval test's outcome: the stored run with its scores, and whether it passed."""

    dataset: str
    """Dataset name."""
    case: Case
    """The case."""
    variant: str
    """Variant name."""
    trace: RunTrace
    """The stored run and its spans."""
    scores: list[ScoreRecord]
    """The scores written for the run."""
    passed: bool
    """Every score passed (a run without scores: it completed or escalated), and the run itself did not fail."""
    failures: list[str]
    """Why it did not pass: ``scorer: explanation`` per failing score, or the run's status and detail."""
    replay_command: str
    """The command that re-executes the run from the trace store."""

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.trace.run.run_id

    @property
    def output(self) -> str | None:
        """The agent's final answer."""
        return self.trace.run.output_text

    def score(self, scorer: str) -> ScoreRecord:
        """The score of one scorer (KeyError when the run has none)."""
        for row in self.scores:
            if row.scorer == scorer:
                return row
        raise KeyError(f"no score {scorer!r} for run {self.run_id}; scored by: {', '.join(self.scorer_names)}")

    @property
    def scorer_names(self) -> list[str]:
        """Names of the scorers that scored the run."""
        return [row.scorer for row in self.scores]

    def explain(self) -> str:
        """What a failed eval shows: the case, the failing scores, a compact trace and the replay command."""
        run = self.trace.run
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"eval {verdict}: {self.dataset} :: {self.case.id} [{self.variant}]"]
        lines.append(f"  input:   {_clip(self.case.user_message, 160)}")
        steps = sum(1 for s in self.trace.spans if s.operation == "chat")
        lines.append(
            f"  run:     {run.run_id}  status {run.status}, {steps} model call(s), "
            f"{run.input_tokens + run.output_tokens} tokens, {run.duration_ms or 0:.0f} ms"
        )
        if self.failures:
            lines.append("  failing:")
            lines += [f"    ✗ {_clip(f, 400)}" for f in self.failures]
        passing = [r.scorer for r in self.scores if r.passed is True]
        if passing:
            lines.append(f"  passing: {', '.join(passing)}")
        lines.append("  trace:")
        lines += [f"    {line}" for line in trace_summary(self.trace)]
        lines.append(f"  output:  {_clip(run.output_text or '', 300)!r}")
        lines.append(f"  replay:  {self.replay_command}")
        return "\n".join(lines)


def trace_summary(trace: RunTrace, limit: int = _TRACE_LINES) -> list[str]:
    """One line per span below the root (model calls, tool calls), clipped to ``limit`` lines."""
    lines = []
    for span in sorted(trace.spans, key=lambda s: s.seq):
        if span.parent_span_id is None and len(trace.spans) > 1:
            continue
        mark = "✗ " if span.status_code == "ERROR" else ""
        detail = f": {_clip(span.status_message, 120)}" if span.status_message else ""
        lines.append(f"{mark}{span.name}{detail}")
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"… {len(lines) - limit + 1} more span(s)"]
    return lines or ["(no spans)"]


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
