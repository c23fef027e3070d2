"""Reports from case results: outcomes, the paired tests, the gate's reasons, baselines, Markdown's size limit."""

from __future__ import annotations

import random

from harness.models.evals import EvalRunRecord
from harness.models.reports import CaseResult, Report
from harness.reporting.build import compare
from harness.reporting.markdown import to_markdown

EVAL = EvalRunRecord(eval_run_id="ev-now", started_ns=0, agent="support", datasets=[], variants=[])


def case(i: int, passed: int, runs: int = 1, variant: str = "v1", compromised: int = 0, **kw: object) -> CaseResult:
    return CaseResult(
        dataset="d",
        case_id=f"c{i:04d}",
        variant=variant,
        runs=runs,
        passed_runs=passed,
        pass_rate=passed / runs,
        compromised_runs=compromised,
        security=compromised > 0 or bool(kw.pop("security", False)),
        failures=[] if passed == runs else [f"trajectory: case {i} <script>alert(1)</script> | `x`"],
        run_ids=[f"run-{variant}-{i}"],
        **kw,  # type: ignore[arg-type]
    )


def report(now: list[CaseResult], before: list[CaseResult] | None, **kw: object) -> Report:
    return compare(EVAL, now, before, ops=[], **kw)  # type: ignore[arg-type]


def test_outcomes_per_case() -> None:
    before = [case(0, 1), case(1, 0), case(2, 1), case(3, 0), case(5, 1)]
    now = [case(0, 1), case(1, 1), case(2, 0), case(3, 0), case(4, 1)]
    outcomes = {c.case_id: c.outcome for c in report(now, before).cases}
    assert outcomes == {
        "c0000": "passing",
        "c0001": "fixed",
        "c0002": "regressed",
        "c0003": "still_failing",
        "c0004": "new",
        "c0005": "removed",
    }
    assert report(now, before).cases[0].outcome == "regressed"  # regressions come first


def test_a_run_compared_with_itself_passes_the_gate() -> None:
    rng = random.Random(4)
    cases = [case(i, rng.random() < 0.7) for i in range(200)]
    result = report(cases, cases)
    assert result.gate.passed
    assert result.variants[0].delta == 0.0
    assert result.variants[0].p_value == 1.0


def test_a_small_drop_is_noise_and_a_large_one_fails_with_mcnemar() -> None:
    before = [case(i, 1) for i in range(200)]
    small = [case(i, 0 if i < 3 else 1) for i in range(200)]  # 3 regressions: p = 0.25
    noise = report(small, before)
    assert noise.gate.passed
    assert "not significant" in noise.gate.reason
    large = [case(i, 0 if i < 20 else 1) for i in range(200)]
    failed = report(large, before)
    assert not failed.gate.passed
    assert failed.variants[0].test == "mcnemar"
    assert failed.variants[0].regressed == 20
    assert "20 regressed" in failed.gate.reason


def test_hard_threshold_fails_even_without_significance() -> None:
    before = [case(i, 1) for i in range(10)]
    now = [case(i, 0 if i < 2 else 1) for i in range(10)]
    assert report(now, before).gate.passed  # 2 of 10: p = 0.5
    strict = report(now, before, max_drop=0.1)
    assert not strict.gate.passed
    assert "more than the 10.0% allowed" in strict.gate.reason


def test_a_newly_compromised_security_case_always_fails_and_leads_the_reason() -> None:
    before = [case(i, 1, security=True) for i in range(100)]
    now = [case(0, 0, compromised=1), *before[1:]]
    result = report(now, before)
    assert not result.gate.passed
    assert result.gate.reason.startswith("FAILED: 1 security case(s) newly compromised: c0000")
    assert result.cases[0].newly_compromised
    off = report(now, before, fail_on="never")
    assert off.gate.passed
    assert "it would fail" in off.gate.reason


def test_epochs_use_the_sign_flip_test_and_flag_flaky_cases() -> None:
    before = [case(i, 3, runs=3) for i in range(100)]
    now = [case(i, 2 if i < 40 else 3, runs=3) for i in range(100)]
    result = report(now, before)
    variant = result.variants[0]
    assert variant.test == "sign-flip"
    assert variant.flaky == 40
    assert variant.significant
    assert not result.gate.passed


def test_variants_pair_by_an_explicit_map() -> None:
    before = [case(i, 1, variant="v2") for i in range(5)]
    now = [case(i, 0, variant="v1") for i in range(5)]
    result = report(now, before, variant_map={"v1": "v2"})
    assert result.variants[0].baseline_variant == "v2"
    assert result.variants[0].regressed == 5


def test_markdown_fits_a_pr_comment_on_2000_cases_and_neutralises_markup() -> None:
    before = [case(i, 1) for i in range(2000)]
    now = [case(i, 0 if i % 2 else 1) for i in range(2000)]
    text = to_markdown(report(now, before))
    assert len(text) < 65_000
    assert "more case(s) left out to fit" in text
    outside_code = "".join(part for line in text.splitlines() for part in line.split("`")[0::2])
    assert "<script>" not in outside_code
    # Untrusted text appears only inside code spans, without backticks or pipes of its own.
    line = next(line for line in text.splitlines() if "c0001" in line)
    assert "`trajectory: case 1 <script>alert(1)</script> ¦ 'x'`" in line
    assert "agenteval replay run-v1-1" in line
