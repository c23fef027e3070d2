"""`agenteval compare` on the bundled support suites, replayed offline from the committed cassettes."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import markupsafe
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.models.comparisons import Comparison
from harness.models.reports import Report

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9/v1"
runner = CliRunner()


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The bundled support suites, v1 and v2, replayed from the committed cassettes and scored: (store, eval run)."""
    db = tmp_path_factory.mktemp("compare") / "t.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = runner.invoke(app, ["run", "--json", "--base-url", CLOSED, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.output)["eval_run"]["eval_run_id"]


@pytest.fixture(scope="module")
def compared(bundled: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, Path, Path]:
    """`agenteval compare --variants v1,v2 --eval-run ID --json --markdown --html`, judged with the default rubric."""
    db, eval_run = bundled
    out = tmp_path_factory.mktemp("compare-out")
    md, page = out / "compare.md", out / "compare.html"
    args = ["compare", "-v", "v1,v2", "--eval-run", eval_run, "--db", str(db), "--json"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = runner.invoke(app, [*args, "--markdown", str(md), "--html", str(page)])
    assert result.exit_code == 0, result.output
    return Comparison.model_validate_json(result.output), md, page


def test_differing_cases_come_first(compared: tuple[Comparison, Path, Path]) -> None:
    comparison = compared[0]
    flags = [row.differs for row in comparison.rows]
    assert len(flags) == 159
    assert 0 < comparison.differing < len(flags)
    assert flags == sorted(flags, reverse=True)  # every differing row before every agreeing one
    first = comparison.rows[0]
    assert {first.cells["v1"].passed, first.cells["v2"].passed} == {True, False}
    assert all(not row.differs for row in comparison.rows[comparison.differing :])


def test_v2_beats_v1_by_mcnemar_and_by_the_pairwise_judge(compared: tuple[Comparison, Path, Path]) -> None:
    comparison = compared[0]
    v1, v2 = comparison.aggregates
    assert (v1.variant, v2.variant) == ("v1", "v2")
    assert v1.pass_rate < v2.pass_rate
    assert v1.ci_low <= v1.pass_rate <= v1.ci_high < v2.ci_low  # the intervals do not even overlap
    (pair,) = comparison.pairs
    assert (pair.variant_a, pair.variant_b, pair.paired) == ("v1", "v2", 159)
    assert pair.b_only > pair.a_only
    assert pair.p_value < 0.05
    assert pair.significant
    judge = pair.judge
    assert judge is not None
    assert judge.rubric.startswith("support/pairwise-helpfulness")
    assert judge.win_rate_b is not None
    assert judge.win_rate_b > 0.5
    assert judge.ci_low is not None
    assert judge.ci_high is not None
    assert 0.5 < judge.ci_low <= judge.win_rate_b <= judge.ci_high
    assert judge.errors == 0
    assert judge.position_consistency is not None


def test_matrix_cells_carry_status_failure_and_output(compared: tuple[Comparison, Path, Path]) -> None:
    comparison = compared[0]
    failed = [row.cells["v1"] for row in comparison.rows if not row.cells["v1"].passed]
    assert failed
    assert all(cell.failure for cell in failed)
    assert all(cell.output for row in comparison.rows for cell in row.cells.values() if cell.status == "completed")


def test_markdown_and_html_are_written_escaped_and_script_free(compared: tuple[Comparison, Path, Path]) -> None:
    comparison, md, page = compared
    text = md.read_text(encoding="utf-8")
    assert text.startswith("## agenteval compare: v1 vs v2")
    assert f"{comparison.pairs[0].p_value:.3g} ★" in text
    assert len(text) <= 60_000
    document = page.read_text(encoding="utf-8")
    assert "<script" not in document.lower()
    assert "Content-Security-Policy" in document
    assert "default-src 'none'" in document
    assert not re.search(r"\b(src|href)\s*=", document)  # no external resource (URLs in outputs are text)
    # A case's output (JSON with quotes and apostrophes) appears escaped, never raw.
    output = next(c.output for r in comparison.rows for c in r.cells.values() if c.output and '"' in c.output)
    assert f"<pre>{markupsafe.escape(output)}</pre>" in document
    assert html.unescape(str(markupsafe.escape(output))) == output
    assert output not in document


def test_terminal_view_lists_the_pair_and_the_differing_cases(bundled: tuple[Path, str]) -> None:
    db, eval_run = bundled
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = runner.invoke(
            app, ["compare", "-v", "v1,v2", "--eval-run", eval_run, "--db", str(db), "--no-judge", "--rows", "3"]
        )
    assert result.exit_code == 0, result.output
    assert "v1 vs v2" in result.output
    assert "★" in result.output
    assert "Judging off" in result.output
    assert "cases differ" in result.output
    assert "156 more cases" in result.output


def test_run_options_with_eval_run_are_a_usage_error(bundled: tuple[Path, str]) -> None:
    db, eval_run = bundled
    result = runner.invoke(app, ["compare", "-v", "v1,v2", "--eval-run", eval_run, "--db", str(db), "--limit", "2"])
    assert result.exit_code == 2
    assert "--limit" in result.output


def test_one_variant_is_a_usage_error(bundled: tuple[Path, str]) -> None:
    db, eval_run = bundled
    result = runner.invoke(app, ["compare", "-v", "v1", "--eval-run", eval_run, "--db", str(db)])
    assert result.exit_code == 2
    assert "two or more" in result.output


def test_without_eval_run_compare_runs_the_variants_first(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = runner.invoke(
            app, ["compare", "-v", "v2,v1", "support/representative", "--limit", "3", "--db", str(db), "--json"]
        )
    assert result.exit_code == 0, result.output
    comparison = Comparison.model_validate_json(result.output)
    assert comparison.variants == ["v2", "v1"]
    assert [a.cases for a in comparison.aggregates] == [3, 3]
    assert comparison.eval_run.limit == 3
    (pair,) = comparison.pairs
    assert pair.judge is not None
    assert pair.judge.pairs == 3


# The CI workflow's gate, here because it needs the same replayed eval run as the comparison (a second replay of the
# bundled suites would double this file's time).
def test_committed_baseline_is_what_the_committed_cassettes_produce(bundled: tuple[Path, str]) -> None:
    db, eval_run = bundled
    baseline = ROOT / "reports" / "baseline.json"
    args = ["report", eval_run, "--db", str(db), "--baseline-file", str(baseline), "--fail-on", "regression"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = Report.model_validate_json(result.output)
    assert report.gate.passed
    outcomes = {c.outcome for c in report.cases}
    assert outcomes <= {"passing", "still_failing"}, (
        "reports/baseline.json no longer matches what the cassettes produce: refresh it with "
        "`agenteval run` then `agenteval baseline save EVAL_RUN_ID` (README, CI on every PR)"
    )
    assert len(report.cases) == 318
