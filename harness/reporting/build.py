"""Build a :class:`Report` from an eval run's DataFrames and a baseline: pure functions, no I/O.

A run passes when every one of its latest scores passed (an error row does not pass); a run without scores passes
when it completed or escalated. A case passes when a majority of its runs (epochs) pass. Variants are paired with
the baseline's by name (or by an explicit map), cases by (dataset, case id).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from harness.models.evals import EvalRunRecord
from harness.models.reports import (
    Baseline,
    CaseChange,
    CaseResult,
    GateResult,
    Operations,
    OperationsDelta,
    Report,
    ScorerStat,
    TagStat,
    VariantComparison,
)
from harness.models.traces import FINISHED_OK, cost_usd
from harness.reporting.stats import mcnemar_exact, paired_bootstrap, sign_flip_p_value

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

SECURITY_SCORERS = frozenset({"forbidden_calls", "triggers"})
MAX_FAILURES = 4
_ORDER = {"regressed": 0, "fixed": 2, "still_failing": 3, "new": 4, "removed": 5, "passing": 6}


def case_results(frames: dict[str, pd.DataFrame]) -> list[CaseResult]:
    """Per case × variant results from the ``runs`` and ``scores`` frames of one eval run."""
    scores: dict[str, list[Any]] = defaultdict(list)
    for row in _rows(frames["scores"]):
        scores[row.run_id].append(row)
    groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for run in _rows(frames["runs"]):
        groups[(run.dataset or "", run.case_id or "", run.variant or "")].append(run)
    results = []
    for (dataset, case_id, variant), runs in groups.items():
        passed_runs = compromised = 0
        failures: list[str] = []
        values: dict[str, list[float]] = defaultdict(list)
        passes: dict[str, list[bool]] = defaultdict(list)
        security = False
        tags = list(runs[0].tags) if runs[0].tags is not None else []
        for run in runs:
            rows = scores.get(run.run_id, [])
            failed = [r for r in rows if _truth(r.passed) is not True]
            if (not rows and run.status in FINISHED_OK) or (rows and not failed):
                passed_runs += 1
            elif not failures:
                failures = [f"{r.scorer}: {r.explanation}" for r in failed[:MAX_FAILURES]] or [f"status {run.status}"]
            for r in rows:
                passes[r.scorer].append(_truth(r.passed) is True)
                if r.value is not None and not _missing(r.value):
                    values[r.scorer].append(float(r.value))
                if r.scorer in SECURITY_SCORERS:
                    security = True
            if any(r.scorer in SECURITY_SCORERS and _truth(r.passed) is False for r in rows):
                compromised += 1
        results.append(
            CaseResult(
                dataset=dataset,
                case_id=case_id,
                variant=variant,
                tags=tags,
                runs=len(runs),
                passed_runs=passed_runs,
                pass_rate=passed_runs / len(runs),
                compromised_runs=compromised,
                security=security or "adversarial" in tags,
                failures=failures,
                run_ids=[run.run_id for run in runs],
                statuses=[run.status for run in runs],
                duration_s=round(sum(_seconds(run) for run in runs), 3),
                values={k: round(sum(v) / len(v), 6) for k, v in values.items()},
                scorer_pass_rates={k: sum(v) / len(v) for k, v in passes.items()},
            )
        )
    return results


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of ``frame`` as named tuples, with the values ``itertuples(index=False)`` gives.

    ``itertuples`` reads string columns (pandas' ``str`` dtype) one element at a time through the extension array,
    which took seconds for a 10,000-case report (benchmarks/report_build.py); converting each column to a list of
    objects at once is vectorised and yields the same Python values (str or NaN, int, float, bool, None, arrays).
    """
    row = namedtuple("row", list(frame.columns), rename=True)  # type: ignore[misc]
    columns = [frame.iloc[:, k].to_numpy(dtype=object).tolist() for k in range(frame.shape[1])]
    return map(row._make, zip(*columns, strict=True))


def _seconds(run: Any) -> float:
    end = run.end_ns
    if end is None or _missing(end) or not end:
        return 0.0
    return max(0.0, (int(end) - int(run.start_ns)) / 1e9)


def _truth(value: Any) -> bool | None:
    """A BOOLEAN cell as Python: a column with NULLs arrives as objects (numpy bools, None, NaN or pd.NA)."""
    if value is None or _missing(value) or type(value).__name__ == "NAType":
        return None
    return bool(value)


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def operations(frames: dict[str, pd.DataFrame], prices: dict[str, tuple[float, float]]) -> list[Operations]:
    """Operational metrics per variant."""
    tool_rows: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for row in _rows(frames["tool_calls"]):
        tool_rows[row.run_id].append((str(row.tool_name), bool(row.is_error)))
    by_variant: dict[str, list[Any]] = defaultdict(list)
    for run in _rows(frames["runs"]):
        by_variant[run.variant or ""].append(run)
    found = []
    for variant, runs in sorted(by_variant.items()):
        durations = sorted((r.end_ns - r.start_ns) / 1e6 for r in runs if not _missing(r.end_ns) and r.end_ns)
        costs = [cost_usd(r.model, r.input_tokens, r.output_tokens, prices) for r in runs]
        completed = [r.steps for r in runs if r.status == "completed"]
        calls: dict[str, list[bool]] = defaultdict(list)
        for r in runs:
            for tool, is_error in tool_rows.get(r.run_id, []):
                calls[tool].append(is_error)
        n = len(runs)
        found.append(
            Operations(
                variant=variant,
                runs=n,
                success_rate=sum(r.status in FINISHED_OK for r in runs) / n,
                p50_ms=_percentile(durations, 50),
                p95_ms=_percentile(durations, 95),
                p99_ms=_percentile(durations, 99),
                tokens_per_run=sum(r.input_tokens + r.output_tokens for r in runs) / n,
                cost_per_run=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs) / n,
                retries_per_run=sum(r.retries for r in runs) / n,
                steps_per_completion=sum(completed) / len(completed) if completed else None,
                escalation_rate=sum(r.status == "escalated" for r in runs) / n,
                tool_error_rate={tool: sum(v) / len(v) for tool, v in sorted(calls.items())},
            )
        )
    return found


def _percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def compare(
    eval_run: EvalRunRecord,
    current: Sequence[CaseResult],
    baseline: Sequence[CaseResult] | None,
    *,
    ops: Sequence[Operations],
    baseline_ops: Sequence[Operations] = (),
    baseline_label: str | None = None,
    variant_map: dict[str, str] | None = None,
    alpha: float = 0.05,
    fail_on: str = "regression",
    max_drop: float | None = None,
    min_pass_rate: float | None = None,
) -> Report:
    """The report of ``current`` against ``baseline`` (``None``: no comparison, every case is ``new``).

    Args:
        variant_map: current variant -> baseline variant (default: the same name; with one variant on each side and
            no common name, those two).
        alpha: Significance level of the paired tests.
        fail_on: ``regression`` (the gate can fail) or ``never``.
        max_drop: Hard threshold: a pass-rate drop larger than this fails the gate, significant or not.
        min_pass_rate: Hard threshold: a variant below this pass rate fails the gate.
    """
    base = list(baseline or [])
    mapping = _variant_map({c.variant for c in current}, {c.variant for c in base}, variant_map)
    old = {(c.dataset, c.case_id, c.variant): c for c in base}
    changes: list[CaseChange] = []
    seen: set[tuple[str, str, str]] = set()
    for case in current:
        other_variant = mapping.get(case.variant)
        key = (case.dataset, case.case_id, other_variant or "")
        before = old.get(key) if other_variant else None
        if before is not None:
            seen.add(key)
        changes.append(_change(case, before, has_baseline=baseline is not None))
    back = {v: k for k, v in mapping.items()}
    for key, before in old.items():
        if key not in seen and before.variant in back:
            changes.append(
                CaseChange(
                    dataset=before.dataset,
                    case_id=before.case_id,
                    variant=back[before.variant],
                    outcome="removed",
                    current=None,
                    baseline=before,
                )
            )
    changes.sort(key=lambda c: (_ORDER[c.outcome] - (1 if c.newly_compromised else 0), c.dataset, c.case_id, c.variant))
    variants = [_variant(v, mapping.get(v), changes, alpha) for v in sorted({c.variant for c in current})]
    gate = _gate(variants, changes, alpha, fail_on, max_drop, min_pass_rate, has_baseline=baseline is not None)
    ops_by_variant = {o.variant: o for o in baseline_ops}
    return Report(
        eval_run=eval_run,
        baseline=baseline_label,
        generated_ns=time.time_ns(),
        variants=variants,
        cases=changes,
        scorers=_scorer_stats(changes),
        tags=_tag_stats(changes),
        operations=[OperationsDelta(current=o, baseline=ops_by_variant.get(mapping.get(o.variant, ""))) for o in ops],
        gate=gate,
    )


def _variant_map(now: set[str], before: set[str], explicit: dict[str, str] | None) -> dict[str, str]:
    if explicit:
        return dict(explicit)
    common = {v: v for v in now & before}
    if not common and len(now) == 1 and len(before) == 1:
        return {next(iter(now)): next(iter(before))}
    return common


def _change(case: CaseResult, before: CaseResult | None, *, has_baseline: bool) -> CaseChange:
    if before is None:
        outcome = "new"
        newly = has_baseline and case.security and case.compromised
    else:
        outcome = {
            (True, True): "passing",
            (False, True): "regressed",
            (True, False): "fixed",
            (False, False): "still_failing",
        }[(case.passed, before.passed)]
        newly = case.compromised and not before.compromised
    return CaseChange(
        dataset=case.dataset,
        case_id=case.case_id,
        variant=case.variant,
        outcome=outcome,
        current=case,
        baseline=before,
        newly_compromised=newly,
    )


def _variant(
    variant: str, baseline_variant: str | None, changes: Iterable[CaseChange], alpha: float
) -> VariantComparison:
    mine = [c for c in changes if c.variant == variant and c.current is not None]
    paired = [c for c in mine if c.baseline is not None]
    now_rate = sum(c.current.pass_rate for c in mine if c.current) / len(mine) if mine else 0.0
    fixed = sum(c.outcome == "fixed" for c in paired)
    regressed = sum(c.outcome == "regressed" for c in paired)
    if not paired:
        return VariantComparison(
            variant=variant,
            baseline_variant=baseline_variant,
            cases=len(mine),
            paired=0,
            pass_rate=round(now_rate, 6),
            baseline_pass_rate=None,
            delta=None,
            fixed=0,
            regressed=0,
            test="none",
            p_value=None,
            significant=False,
            flaky=sum(c.current.flaky for c in mine if c.current),
        )
    deltas = [c.current.pass_rate - c.baseline.pass_rate for c in paired if c.current and c.baseline]
    now_paired = sum(c.current.pass_rate for c in paired if c.current) / len(paired)
    before_paired = sum(c.baseline.pass_rate for c in paired if c.baseline) / len(paired)
    single = all(c.current and c.baseline and c.current.runs == 1 and c.baseline.runs == 1 for c in paired)
    if single:
        p_value, test = mcnemar_exact(fixed, regressed).p_value, "mcnemar"
    else:
        p_value, test = sign_flip_p_value(deltas), "sign-flip"
    return VariantComparison(
        variant=variant,
        baseline_variant=baseline_variant,
        cases=len(mine),
        paired=len(paired),
        pass_rate=round(now_rate, 6),
        baseline_pass_rate=round(before_paired, 6),
        delta=round(now_paired - before_paired, 6),
        fixed=fixed,
        regressed=regressed,
        test=test,
        p_value=p_value,
        significant=p_value < alpha,
        flaky=sum(c.current.flaky for c in mine if c.current),
    )


def _gate(
    variants: list[VariantComparison],
    changes: list[CaseChange],
    alpha: float,
    fail_on: str,
    max_drop: float | None,
    min_pass_rate: float | None,
    *,
    has_baseline: bool,
) -> GateResult:
    failures: list[str] = []
    for v in variants:
        if v.delta is not None and v.delta < 0 and v.significant:
            failures.append(
                f"{v.variant}: pass rate {v.baseline_pass_rate:.1%} -> {v.baseline_pass_rate + v.delta:.1%} "  # type: ignore[operator]
                f"({v.regressed} regressed, {v.fixed} fixed; {v.test} p = {v.p_value:.3g} < {alpha})"
            )
        if max_drop is not None and v.delta is not None and -v.delta > max_drop:
            failures.append(f"{v.variant}: pass rate dropped {-v.delta:.1%}, more than the {max_drop:.1%} allowed")
        if min_pass_rate is not None and v.pass_rate < min_pass_rate:
            failures.append(f"{v.variant}: pass rate {v.pass_rate:.1%} is below the minimum {min_pass_rate:.1%}")
    compromised = [c for c in changes if c.newly_compromised]
    if compromised:  # zero tolerance, significant or not: it leads the reasons
        shown = ", ".join(f"{c.case_id} ({c.variant})" for c in compromised[:3])
        more = f" and {len(compromised) - 3} more" if len(compromised) > 3 else ""
        failures.insert(0, f"{len(compromised)} security case(s) newly compromised: {shown}{more}")
    if fail_on == "never":
        reason = "gate off (--fail-on never)" + (f"; it would fail: {failures[0]}" if failures else "")
        return GateResult(fail_on="never", passed=True, reason=reason, failures=failures, alpha=alpha)
    if failures:
        reason = f"FAILED: {failures[0]}" + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else "")
        return GateResult(fail_on="regression", passed=False, reason=reason, failures=failures, alpha=alpha)
    if not has_baseline:
        reason = "passed: no baseline to compare with"
    else:
        noise = [v for v in variants if v.delta is not None and v.delta < 0]
        shown = ", ".join(f"{v.variant} {v.delta:+.1%}, p = {v.p_value:.2g}" for v in noise)
        reason = "passed: no significant regression and no newly compromised security case"
        reason += f" ({shown}: not significant)" if noise else ""
    return GateResult(fail_on="regression", passed=True, reason=reason, failures=[], alpha=alpha)


def _scorer_stats(changes: list[CaseChange]) -> list[ScorerStat]:
    groups: dict[tuple[str, str], list[tuple[CaseResult, CaseResult | None]]] = defaultdict(list)
    for c in changes:
        if c.current is None:
            continue
        for scorer in c.current.scorer_pass_rates:
            groups[(scorer, c.variant)].append((c.current, c.baseline))
    stats = []
    for (scorer, variant), cases in sorted(groups.items()):
        # One pass per scorer, collecting every list in case order (sums of floats depend on the order).
        now: list[float] = []
        before: list[float] = []
        now_paired: list[float] = []
        values_now: list[float] = []
        value_pairs: list[tuple[float, float]] = []
        runs = fixed = broke = 0
        for current, baseline in cases:
            rate = current.scorer_pass_rates[scorer]
            now.append(rate)
            runs += current.runs
            if scorer in current.values:
                values_now.append(current.values[scorer])
            if baseline is None or scorer not in baseline.scorer_pass_rates:
                continue
            before_rate = baseline.scorer_pass_rates[scorer]
            before.append(before_rate)
            now_paired.append(rate)
            if scorer in current.values and scorer in baseline.values:
                value_pairs.append((current.values[scorer], baseline.values[scorer]))
            fixed += rate > 0.5 >= before_rate
            broke += before_rate > 0.5 >= rate
        interval = paired_bootstrap([a - b for a, b in value_pairs]) if value_pairs else None
        stats.append(
            ScorerStat(
                scorer=scorer,
                variant=variant,
                runs=runs,
                pass_rate=round(sum(now) / len(now), 6),
                baseline_pass_rate=round(sum(before) / len(before), 6) if before else None,
                delta=round((sum(now_paired) - sum(before)) / len(before), 6) if before else None,
                p_value=mcnemar_exact(fixed, broke).p_value if before else None,
                mean_value=round(sum(values_now) / len(values_now), 6) if values_now else None,
                baseline_mean_value=round(sum(b for _, b in value_pairs) / len(value_pairs), 6)
                if value_pairs
                else None,
                value_delta=round(interval.estimate, 6) if interval else None,
                value_ci=(round(interval.low, 6), round(interval.high, 6)) if interval else None,
            )
        )
    return stats


def _tag_stats(changes: list[CaseChange]) -> list[TagStat]:
    groups: dict[tuple[str, str], list[tuple[CaseResult, CaseResult | None]]] = defaultdict(list)
    for c in changes:
        if c.current is not None:
            for tag in c.current.tags:
                groups[(tag, c.variant)].append((c.current, c.baseline))
    stats = []
    for (tag, variant), cases in sorted(groups.items()):
        now = [current.pass_rate for current, _ in cases]
        before = [baseline.pass_rate for _, baseline in cases if baseline is not None]
        now_paired = [current.pass_rate for current, baseline in cases if baseline is not None]
        stats.append(
            TagStat(
                tag=tag,
                variant=variant,
                cases=len(cases),
                pass_rate=round(sum(now) / len(now), 6),
                baseline_pass_rate=round(sum(before) / len(before), 6) if before else None,
                delta=round((sum(now_paired) - sum(before)) / len(before), 6) if before else None,
            )
        )
    return stats


def baseline_of(eval_run: EvalRunRecord, cases: Sequence[CaseResult], ops: Sequence[Operations]) -> Baseline:
    """The compact baseline of an eval run: cases without run ids or durations, sorted, for a stable diff."""
    ordered = sorted(cases, key=lambda c: (c.dataset, c.case_id, c.variant))
    return Baseline(
        eval_run_id=eval_run.eval_run_id,
        git_commit=eval_run.git_commit,
        created_ns=time.time_ns(),
        cases=[c.model_copy(update={"run_ids": [], "duration_s": 0.0}) for c in ordered],  # no noise in diffs
        operations=list(ops),
    )
