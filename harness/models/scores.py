"""Scores: what a scorer says about one stored run, and the row that keeps it.

A scorer returns a small closed :class:`ScoreResult`; the scoring engine wraps it into a :class:`ScoreRecord` with
the run's keys, the scorer's name and version, and where it came from. A scorer that raises becomes a
:class:`ScoreRecord` with ``error_type`` set (and ``passed`` None): the run's other scores still count.
"""

from __future__ import annotations

from typing import Any, Literal

from harness.models._base import Record

ScoreSource = Literal["deterministic", "judge", "pairwise", "custom"]
"""Where a score comes from: a rule over the trace, an LLM judge, a pairwise judge, or a user's scorer."""


class ScoreResult(Record):
    """A scorer's verdict on one run. At least one of ``passed``, ``value`` or ``label`` is set."""

    passed: bool | None = None
    """Pass/fail, when the scorer decides one (``None`` for purely informative scores)."""
    value: float | None = None
    """A number, e.g. an F1 between 0 and 1, a judge's mean score, a latency."""
    label: str | None = None
    """A label, e.g. ``compromised``, ``helpful``, a judge's class."""
    explanation: str = ""
    """Why: what was expected and what happened (shown in reports and failed assertions)."""
    metadata: dict[str, Any] = {}
    """Details for reports (judge samples and their agreement, matched calls, ...)."""


class ScoreRecord(Record):
    """The ``scores`` row: one scorer's verdict on one run, or its error."""

    score_id: str
    """Unique id of the row."""
    scoring_id: str
    """The scoring pass that wrote it (``agenteval run`` or one ``agenteval score`` call); re-scoring adds rows."""
    run_id: str
    """The run scored."""
    eval_run_id: str | None = None
    """Eval run of the run."""
    dataset: str | None = None
    """Dataset of the case."""
    case_id: str | None = None
    """Case id."""
    variant: str | None = None
    """Variant name."""
    epoch: int | None = None
    """Epoch."""
    scorer: str
    """Scorer name, e.g. ``trajectory``, ``forbidden_calls``, ``judge:helpfulness``."""
    version: str
    """Scorer version: a built-in's version, or a rubric's ``name@version``; a changed scorer gets a new one."""
    source: ScoreSource
    """Where the score comes from."""
    passed: bool | None = None
    """Pass/fail (``None`` when the scorer does not decide one, or raised)."""
    value: float | None = None
    """Numeric score."""
    label: str | None = None
    """Label."""
    explanation: str = ""
    """Why."""
    error_type: str | None = None
    """Exception type when the scorer raised (the row is then an error score)."""
    error_message: str | None = None
    """Exception message."""
    traceback: str | None = None
    """Traceback, for debugging a user's scorer."""
    created_ns: int
    """When the score was computed, Unix nanoseconds."""
    metadata: dict[str, Any] = {}
    """The scorer's details (see :attr:`ScoreResult.metadata`)."""

    @property
    def is_error(self) -> bool:
        """Whether the scorer raised instead of deciding."""
        return self.error_type is not None


class ScorerTally(Record):
    """One scorer's verdicts over the runs of one variant."""

    scorer: str
    """Scorer name."""
    version: str
    """Scorer version."""
    variant: str | None
    """Variant (``None``: runs without one)."""
    scored: int
    """Runs scored."""
    passed: int
    """Runs that passed."""
    failed: int
    """Runs that failed."""
    errors: int
    """Runs where the scorer raised (error rows)."""
    mean_value: float | None
    """Mean of the numeric values, when the scorer gives them."""
    labels: dict[str, int] = {}
    """Runs per label (e.g. ``compromised``)."""


class ScoringSummary(Record):
    """What one scoring pass did: ``agenteval score`` prints it, ``agenteval run`` shows it after the run table."""

    eval_run_id: str
    """The eval run scored."""
    scoring_id: str
    """Id of this pass (written on every row)."""
    runs: int
    """Runs scored."""
    rows: int
    """Score rows written."""
    errors: int
    """Error rows (scorers that raised)."""
    tallies: list[ScorerTally]
    """Per scorer × variant."""
    notes: list[str] = []
    """Anything the user should know (runs whose case is gone, datasets changed since the run)."""
    failures: list[ScoreRecord] = []
    """Failed and error rows, for the terminal's "what failed" list (at most a few hundred)."""


def tally(records: list[ScoreRecord]) -> list[ScorerTally]:
    """Per scorer × variant counts, in first-seen scorer order."""
    groups: dict[tuple[str, str, str | None], list[ScoreRecord]] = {}
    for record in records:
        groups.setdefault((record.scorer, record.version, record.variant), []).append(record)
    tallies = []
    for (scorer, version, variant), rows in groups.items():
        values = [r.value for r in rows if r.value is not None and not r.is_error]
        labels: dict[str, int] = {}
        for r in rows:
            if r.label is not None:
                labels[r.label] = labels.get(r.label, 0) + 1
        tallies.append(
            ScorerTally(
                scorer=scorer,
                version=version,
                variant=variant,
                scored=len(rows),
                passed=sum(r.passed is True for r in rows),
                failed=sum(r.passed is False for r in rows),
                errors=sum(r.is_error for r in rows),
                mean_value=round(sum(values) / len(values), 4) if values else None,
                labels=labels,
            )
        )
    return tallies
