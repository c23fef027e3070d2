"""The pure comparison: matrix order, pass/fail as in reports, McNemar per pair, aggregates, Markdown and HTML."""

from __future__ import annotations

import pytest

from harness.models.cases import Variant
from harness.models.comparisons import Comparison, JudgeSummary
from harness.models.evals import EvalRunRecord
from harness.models.reports import CaseResult, Operations
from harness.reporting.compare import build_comparison, to_html, to_markdown
from harness.reporting.stats import mcnemar_exact

EVIL = "<script>alert('x')</script> & `rm -rf` | done"


def _record() -> EvalRunRecord:
    return EvalRunRecord(
        eval_run_id="e1",
        started_ns=1,
        agent="support",
        datasets=[],
        variants=[Variant(name="a", prompt_version="v1"), Variant(name="b", prompt_version="v2")],
    )


def _case(case_id: str, variant: str, passed: bool, *, status: str = "completed", epochs: int = 1) -> CaseResult:
    passed_runs = epochs if passed else 0
    return CaseResult(
        dataset="d",
        case_id=case_id,
        variant=variant,
        runs=epochs,
        passed_runs=passed_runs,
        pass_rate=passed_runs / epochs,
        failures=[] if passed else ["status: expected completed"],
        run_ids=[f"{case_id}-{variant}-{e}" for e in range(epochs)],
        statuses=[status] * epochs,
        scorer_pass_rates={"status": 1.0 if passed else 0.0},
    )


def _ops(variant: str) -> Operations:
    return Operations(
        variant=variant,
        runs=3,
        success_rate=1.0,
        p50_ms=12.0,
        p95_ms=None,
        p99_ms=None,
        tokens_per_run=100.0,
        cost_per_run=None,
        retries_per_run=0.0,
        steps_per_completion=None,
        escalation_rate=0.0,
    )


def _judge() -> JudgeSummary:
    return JudgeSummary(
        rubric="r@1",
        judge="scripted",
        pairs=3,
        wins_a=0,
        wins_b=2,
        ties=1,
        errors=0,
        win_rate_b=1.0,
        ci_low=0.34,
        ci_high=1.0,
        position_consistency=1.0,
    )


@pytest.fixture
def comparison() -> Comparison:
    cases = [
        _case("same-pass", "a", True),
        _case("same-pass", "b", True),
        _case("fixed", "a", False),
        _case("fixed", "b", True),
        _case("status-only", "a", True, status="escalated"),
        _case("status-only", "b", True),
        _case("only-a", "a", True),
        _case("ignored", "c", False),
    ]
    return build_comparison(
        _record(),
        ["a", "b"],
        cases,
        [_ops("a"), _ops("b")],
        outputs={"fixed-b-0": EVIL, "same-pass-a-0": "fine"},
        judges={("a", "b"): _judge()},
    )


def test_rows_that_differ_come_first_sorted_by_case(comparison: Comparison) -> None:
    assert [(r.case_id, r.differs) for r in comparison.rows] == [
        ("fixed", True),
        ("only-a", True),  # b did not run it
        ("status-only", True),  # both pass, statuses differ
        ("same-pass", False),
    ]
    assert comparison.differing == 3
    assert "c" not in {v for r in comparison.rows for v in r.cells}


def test_cells_show_status_first_failure_and_the_first_runs_output(comparison: Comparison) -> None:
    fixed = comparison.rows[0].cells
    assert fixed["a"].passed is False
    assert fixed["a"].failure == "status: expected completed"
    assert fixed["b"].failure is None
    assert fixed["b"].output == EVIL
    assert fixed["b"].run_id == "fixed-b-0"
    assert comparison.rows[2].cells["a"].status == "escalated"


def test_pass_fail_is_the_reports_majority_of_epochs() -> None:
    flaky = _case("x", "a", True, epochs=3).model_copy(update={"passed_runs": 2, "pass_rate": 2 / 3})
    broken = _case("x", "b", True, epochs=3).model_copy(update={"passed_runs": 1, "pass_rate": 1 / 3})
    result = build_comparison(_record(), ["a", "b"], [flaky, broken], [])
    cells = result.rows[0].cells
    assert (cells["a"].passed, cells["b"].passed) == (flaky.passed, broken.passed) == (True, False)
    assert result.pairs[0].a_only == 1


def test_pairs_use_exact_mcnemar_on_the_paired_cases(comparison: Comparison) -> None:
    (pair,) = comparison.pairs
    assert (pair.paired, pair.a_only, pair.b_only) == (3, 0, 1)
    assert pair.p_value == mcnemar_exact(1, 0).p_value == 1.0
    assert pair.significant is False
    assert pair.judge == _judge()


def test_many_discordant_cases_are_significant() -> None:
    cases = [c for i in range(10) for c in (_case(f"c{i}", "a", False), _case(f"c{i}", "b", True))]
    (pair,) = build_comparison(_record(), ["a", "b"], cases, []).pairs
    assert pair.b_only == 10
    assert pair.p_value == pytest.approx(2 * 0.5**10)
    assert pair.significant


def test_aggregates_have_wilson_intervals_and_operations(comparison: Comparison) -> None:
    a, b = comparison.aggregates
    assert (a.variant, a.cases, a.passed) == ("a", 4, 3)
    assert a.pass_rate == 0.75
    assert 0 < a.ci_low < 0.75 < a.ci_high < 1
    assert (b.cases, b.passed, b.pass_rate, b.ci_high) == (3, 3, 1.0, 1.0)
    assert a.scorer_pass_rates == {"status": 0.75}
    assert (a.tokens_per_run, a.p50_ms) == (100.0, 12.0)


def test_three_variants_give_three_pairs_in_the_order_asked() -> None:
    cases = [_case("x", v, True) for v in ("c", "a", "b")]
    result = build_comparison(_record(), ["c", "a", "b"], cases, [])
    assert [(p.variant_a, p.variant_b) for p in result.pairs] == [("c", "a"), ("c", "b"), ("a", "b")]
    assert all(p.judge is None for p in result.pairs)


def test_markdown_keeps_model_output_in_neutral_code_spans(comparison: Comparison) -> None:
    text = to_markdown(comparison)
    assert "| a vs b | 3 | 0 | 1 | 1 | 100.0% [34.0%, 100.0%] | 100.0% |" in text
    assert "<script>" not in text.replace("`<script>", "")  # only inside a code span
    assert "`<script>alert('x')</script> & 'rm -rf' ¦ done`" in text
    assert "**`d/fixed`**" in text


def test_markdown_is_cut_to_its_budget() -> None:
    cases = [c for i in range(400) for c in (_case(f"case-{i:03}", "a", False), _case(f"case-{i:03}", "b", True))]
    outputs = {f"case-{i:03}-b-0": "x" * 500 for i in range(400)}
    text = to_markdown(build_comparison(_record(), ["a", "b"], cases, [], outputs=outputs), limit=10_000)
    assert len(text) <= 10_000
    assert "more case(s) left out" in text


def test_html_escapes_every_output_and_allows_no_script(comparison: Comparison) -> None:
    page = to_html(comparison)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; `rm -rf` | done" in page
    assert "default-src 'none'" in page
    assert '<tr class="differs">' in page
    assert "r@1 (scripted)" in page
