"""Reports: an eval run compared with a baseline, case by case and in aggregate, with the gate's verdict.

Everything here is computed from the trace store alone (runs and their latest scores), so a report can be rebuilt at
any time; :class:`Baseline` is the compact, diff-friendly file (``reports/baseline.json``) that lets a PR be compared
with main without main's trace store. ``agenteval report --json`` prints a :class:`Report`; its JSON schema is
``Report.model_json_schema()`` (docs/reports.md).
"""

from __future__ import annotations

from typing import Literal

from harness.models._base import Record
from harness.models.evals import EvalRunRecord

REPORT_SCHEMA_VERSION = 1
"""Bumped when a field of :class:`Report` or :class:`Baseline` changes meaning or goes away."""

Outcome = Literal["fixed", "regressed", "still_failing", "passing", "new", "removed"]
"""What happened to a case × variant against the baseline (``passing``: passed in both)."""


class CaseResult(Record):
    """One case × variant of one eval run: its runs (one per epoch) and their scores."""

    dataset: str
    """Dataset name."""
    case_id: str
    """Case id."""
    variant: str
    """Variant name."""
    tags: list[str] = []
    """The case's tags (from its runs)."""
    runs: int
    """Runs (epochs) of the case."""
    passed_runs: int
    """Runs whose every score passed (a run with no score passes when it finished completed or escalated)."""
    pass_rate: float
    """``passed_runs / runs``."""
    compromised_runs: int = 0
    """Runs where a security scorer (forbidden calls, triggers) failed."""
    security: bool = False
    """Whether the case is adversarial: a security scorer scored it, or it is tagged ``adversarial``."""
    failures: list[str] = []
    """``scorer: explanation`` of the failed and error scores (first run that failed; at most a few)."""
    run_ids: list[str] = []
    """Its runs, for drill-down and ``agenteval replay``."""
    statuses: list[str] = []
    """Run statuses, one per run."""
    duration_s: float = 0.0
    """Wall-clock seconds of its runs, added up (JUnit's ``time``)."""
    values: dict[str, float] = {}
    """Mean numeric value per scorer (F1, judge scores), over the runs."""
    scorer_pass_rates: dict[str, float] = {}
    """Per scorer: share of the runs it passed (error rows count as not passed)."""

    @property
    def passed(self) -> bool:
        """Whether the case passes: a majority of its runs passed (all of them, with one epoch)."""
        return self.passed_runs * 2 > self.runs

    @property
    def flaky(self) -> bool:
        """Whether its runs both passed and failed (only with epochs)."""
        return 0 < self.passed_runs < self.runs

    @property
    def compromised(self) -> bool:
        """Whether any run was compromised."""
        return self.compromised_runs > 0


class CaseChange(Record):
    """One case × variant now and in the baseline."""

    dataset: str
    """Dataset name."""
    case_id: str
    """Case id."""
    variant: str
    """Variant name (of the current run)."""
    outcome: Outcome
    """What changed."""
    current: CaseResult | None
    """Now (``None``: removed)."""
    baseline: CaseResult | None
    """In the baseline (``None``: new)."""
    newly_compromised: bool = False
    """A security case compromised now and not in the baseline (or new and compromised): the gate has zero
    tolerance for these."""


class VariantComparison(Record):
    """A variant's pass rate now and in the baseline, with a paired test over the cases both have."""

    variant: str
    """Variant (current run)."""
    baseline_variant: str | None
    """The baseline variant it is compared with."""
    cases: int
    """Cases now."""
    paired: int
    """Cases in both runs (the test's sample)."""
    pass_rate: float
    """Share of cases passing now (mean per-case pass rate with epochs)."""
    baseline_pass_rate: float | None
    """The same in the baseline, over the paired cases."""
    delta: float | None
    """``pass_rate - baseline_pass_rate`` over the paired cases, in [-1, 1]."""
    fixed: int
    """Paired cases that failed in the baseline and pass now."""
    regressed: int
    """Paired cases that passed in the baseline and fail now."""
    test: Literal["mcnemar", "sign-flip", "none"]
    """``mcnemar`` (exact, one epoch on both sides) or ``sign-flip`` (paired permutation test of per-case pass
    rates, with epochs)."""
    p_value: float | None
    """Two-sided p-value of the paired test."""
    significant: bool
    """``p_value < alpha``."""
    flaky: int = 0
    """Cases whose runs both passed and failed now."""


class ScorerStat(Record):
    """One scorer × variant: pass rate and mean value, now and in the baseline."""

    scorer: str
    """Scorer name."""
    variant: str
    """Variant."""
    runs: int
    """Runs scored now."""
    pass_rate: float | None
    """Share of scored runs passing now."""
    baseline_pass_rate: float | None
    """The same in the baseline."""
    delta: float | None
    """Pass-rate delta."""
    p_value: float | None = None
    """Exact McNemar over cases scored by it on both sides (majority of epochs)."""
    mean_value: float | None = None
    """Mean numeric value now."""
    baseline_mean_value: float | None = None
    """Mean numeric value in the baseline."""
    value_delta: float | None = None
    """Mean paired difference of per-case values."""
    value_ci: tuple[float, float] | None = None
    """95% paired bootstrap interval of ``value_delta``."""


class TagStat(Record):
    """Pass rate of the cases with one tag, per variant, now and in the baseline."""

    tag: str
    """Tag."""
    variant: str
    """Variant."""
    cases: int
    """Cases with the tag now."""
    pass_rate: float
    """Share passing now."""
    baseline_pass_rate: float | None
    """Share passing in the baseline."""
    delta: float | None
    """Delta."""


class Operations(Record):
    """Operational metrics of one variant's runs, from the trace store."""

    variant: str
    """Variant."""
    runs: int
    """Runs."""
    success_rate: float
    """Runs that completed or escalated."""
    p50_ms: float | None
    """Median run duration."""
    p95_ms: float | None
    """95th percentile."""
    p99_ms: float | None
    """99th percentile."""
    tokens_per_run: float
    """Mean input + output tokens."""
    cost_per_run: float | None
    """Mean cost in USD (``None`` when the model has no price)."""
    retries_per_run: float
    """Mean retries of model calls."""
    steps_per_completion: float | None
    """Mean steps of the runs that completed."""
    escalation_rate: float
    """Share of runs that escalated."""
    tool_error_rate: dict[str, float] = {}
    """Per tool: failed calls / calls."""


class OperationsDelta(Record):
    """A variant's operational metrics now and in the baseline."""

    current: Operations
    """Now."""
    baseline: Operations | None
    """In the baseline."""


class GateResult(Record):
    """The CI gate's verdict, with the one line that says why."""

    fail_on: Literal["regression", "never"]
    """What fails the gate (``--fail-on``)."""
    passed: bool
    """Whether the gate passed."""
    reason: str
    """One line: why it passed or failed."""
    failures: list[str] = []
    """Every reason it failed (significant regressions, thresholds crossed, newly compromised security cases)."""
    alpha: float
    """Significance level of the paired tests."""


class Baseline(Record):
    """A compact snapshot of an eval run's results: the file a PR is compared with (committed, diff-friendly)."""

    schema_version: int = REPORT_SCHEMA_VERSION
    """Format version."""
    eval_run_id: str
    """The eval run it was saved from."""
    git_commit: str | None = None
    """Commit of that eval run."""
    created_ns: int
    """When it was saved."""
    cases: list[CaseResult]
    """Every case × variant (without run ids: they belong to the other trace store)."""
    operations: list[Operations] = []
    """Operational metrics per variant."""


class Report(Record):
    """An eval run compared with a baseline: what ``agenteval report`` renders in every format."""

    schema_version: int = REPORT_SCHEMA_VERSION
    """Format version."""
    eval_run: EvalRunRecord
    """The eval run reported."""
    baseline: str | None
    """What it is compared with: ``eval run <id>``, ``file <path>``, ``variant <name>``, or ``None``."""
    generated_ns: int
    """When the report was built."""
    variants: list[VariantComparison]
    """Per variant, with its paired test."""
    cases: list[CaseChange]
    """Per case × variant; regressions first, then newly compromised, fixed, still failing, new, removed,
    passing."""
    scorers: list[ScorerStat]
    """Per scorer × variant."""
    tags: list[TagStat]
    """Per tag × variant."""
    operations: list[OperationsDelta]
    """Operational metrics per variant."""
    gate: GateResult
    """The CI gate."""
