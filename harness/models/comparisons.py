"""Comparisons: two or more variants of one eval run side by side, case by case and in aggregate.

What ``agenteval compare`` renders in every format (terminal, Markdown, HTML) and prints with ``--json``. Like a
:class:`~harness.models.reports.Report`, it is computed from the trace store alone (runs, their latest scores and
output text) plus, when a pairwise rubric is given, the verdicts of a pairwise judge.
"""

from __future__ import annotations

from harness.models._base import Record
from harness.models.evals import EvalRunRecord

COMPARISON_SCHEMA_VERSION = 1
"""Bumped when a field of :class:`Comparison` changes meaning or goes away."""


class VariantCell(Record):
    """One case under one variant: what the matrix shows in a cell."""

    variant: str
    """Variant."""
    status: str
    """Run status (the most common one over the epochs): completed, escalated, error, timeout, ..."""
    passed: bool
    """Whether the case passes under this variant (a majority of its runs passed every score; as in reports)."""
    passed_runs: int
    """Runs that passed."""
    runs: int
    """Runs (epochs)."""
    failure: str | None = None
    """The first failing scorer's ``scorer: explanation`` (``None`` when it passed)."""
    output: str | None = None
    """The first run's final answer as text: model output, untrusted (every renderer escapes it)."""
    run_id: str | None = None
    """The first run, for ``agenteval replay`` and ``agenteval traces show``."""


class MatrixRow(Record):
    """One case of the matrix, with a cell per variant that ran it."""

    dataset: str
    """Dataset name."""
    case_id: str
    """Case id."""
    cells: dict[str, VariantCell]
    """Per variant (a variant missing here did not run the case)."""
    differs: bool
    """Whether the variants disagree on pass/fail or status, or one of them did not run the case."""


class VariantAggregate(Record):
    """One variant over all the cases of the comparison."""

    variant: str
    """Variant."""
    cases: int
    """Cases it ran."""
    passed: int
    """Cases that passed."""
    pass_rate: float
    """``passed / cases``."""
    ci_low: float
    """Lower end of the 95% Wilson interval of ``pass_rate``."""
    ci_high: float
    """Upper end of the 95% Wilson interval of ``pass_rate``."""
    scorer_pass_rates: dict[str, float] = {}
    """Per scorer: mean over the cases it scored of the share of runs it passed."""
    runs: int = 0
    """Runs (cases × epochs)."""
    tokens_per_run: float | None = None
    """Mean input + output tokens per run."""
    p50_ms: float | None = None
    """Median run duration in milliseconds."""


class JudgeSummary(Record):
    """A pairwise judge's verdicts on the runs of two variants (both orders per pair): ``b``'s win rate over ``a``."""

    rubric: str
    """``name@version`` of the pairwise rubric."""
    judge: str
    """Where the verdicts came from (endpoint, or the in-process scripted server)."""
    pairs: int
    """Pairs judged (case × epoch both variants ran)."""
    wins_a: int
    """Pairs both orders gave to ``a``."""
    wins_b: int
    """Pairs both orders gave to ``b``."""
    ties: int
    """Ties, position-inconsistent pairs included."""
    errors: int
    """Pairs without a verdict."""
    win_rate_b: float | None
    """``wins_b / (wins_a + wins_b)``; ``None`` when no pair was decided."""
    ci_low: float | None
    """Lower end of the 95% Wilson interval of ``win_rate_b``."""
    ci_high: float | None
    """Upper end of the 95% Wilson interval of ``win_rate_b``."""
    position_consistency: float | None
    """Share of judged pairs whose two orders agreed."""


class PairComparison(Record):
    """Two variants compared: exact McNemar on case-level pass/fail, and the pairwise judge's win rate."""

    variant_a: str
    """First variant."""
    variant_b: str
    """Second variant (the win rate and ``b_only`` are ``b``'s)."""
    paired: int
    """Cases both ran (the test's sample)."""
    a_only: int
    """Paired cases that pass under ``a`` and fail under ``b``."""
    b_only: int
    """Paired cases that fail under ``a`` and pass under ``b``."""
    p_value: float
    """Two-sided exact McNemar p-value of ``a_only`` against ``b_only`` (1 when there is no discordant case)."""
    significant: bool
    """``p_value < alpha``."""
    judge: JudgeSummary | None = None
    """The pairwise judge's verdicts (``None``: no pairwise rubric)."""


class Comparison(Record):
    """Variants of one eval run side by side: what ``agenteval compare`` renders."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    """Format version."""
    eval_run: EvalRunRecord
    """The eval run compared."""
    variants: list[str]
    """The variants, in the order asked for (matrix columns)."""
    generated_ns: int
    """When the comparison was built."""
    alpha: float
    """Significance level of the McNemar tests."""
    rows: list[MatrixRow]
    """Case × variant matrix: cases where the variants differ first, then by dataset and case id."""
    aggregates: list[VariantAggregate]
    """Per variant."""
    pairs: list[PairComparison]
    """Per pair of variants, in the order asked for."""
    notes: list[str] = []
    """Anything the reader should know (no rubric, datasets changed since the eval run, ...)."""

    @property
    def differing(self) -> int:
        """Rows where the variants differ."""
        return sum(row.differs for row in self.rows)
