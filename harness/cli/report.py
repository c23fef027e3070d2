"""``agenteval report`` and ``agenteval baseline save``: the verdict on a PR, and the file it is compared with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from harness import api
from harness.cli._common import EXIT_GATE_FAILED, call, console, err_console, split_names

if TYPE_CHECKING:
    from harness.models.reports import Report

baseline_app = typer.Typer(help="Baselines: the committed file a PR's eval run is compared with.", no_args_is_help=True)


def report(
    eval_run_id: str = typer.Argument(..., help="The eval run to report (its id or a unique prefix)."),
    baseline: str | None = typer.Option(None, "--baseline", help="Compare with another eval run of the same store."),
    baseline_file: Path | None = typer.Option(
        None, "--baseline-file", help="Compare with a saved baseline (`agenteval baseline save`), e.g. main's."
    ),
    baseline_variant: str | None = typer.Option(
        None, "--baseline-variant", help="Compare the other variants of this eval run with this one (e.g. v2)."
    ),
    variants: str | None = typer.Option(None, "--variants", "-v", help="Only these variants (comma-separated)."),
    fail_on: str = typer.Option(
        "never",
        "--fail-on",
        help="regression: exit 1 when a drop is significant (paired test at [tool.agenteval.gate] alpha), a hard "
        "threshold is crossed, or any security case is newly compromised (zero tolerance). never: report only.",
    ),
    markdown: Path | None = typer.Option(
        None, "--markdown", help="Also write the Markdown (fits a PR comment; e.g. $GITHUB_STEP_SUMMARY)."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Also write JUnit XML (one test case per case × variant) for the CI's test view."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML page: charts, and each failing case's run step by step."
    ),
    json_out: Path | None = typer.Option(None, "--json-out", help="Also write the JSON report to this file."),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (schema: docs/reports.md)."),
) -> None:
    """Compare an eval run with a baseline: per case what changed (fixed, regressed, still failing, new, removed),
    per scorer, tag and variant the metric and its delta with a paired test, the operational metrics, and the gate.

    The gate fails on a real regression, not on noise: a pass-rate drop counts only when the paired test (exact
    McNemar; a sign-flip test with epochs) is significant, or a hard threshold of [tool.agenteval.gate] is crossed.
    An adversarial case that is newly compromised always fails it. Exit codes: 0 passed, 1 gate failed, 2 usage.

    Examples: `agenteval report 3f2a --baseline-variant v2` | `agenteval report 3f2a --baseline-file
    reports/baseline.json --fail-on regression --markdown "$GITHUB_STEP_SUMMARY"`
    """
    names = split_names(variants) if variants else None
    result = call(
        lambda: api.build_report(
            eval_run_id,
            baseline=baseline,
            baseline_file=baseline_file,
            baseline_variant=baseline_variant,
            variants=names,
            fail_on=fail_on,
            db=db,
        )
    )
    if markdown is not None:
        from harness.reporting.markdown import to_markdown

        markdown.parent.mkdir(parents=True, exist_ok=True)
        with markdown.open("a" if markdown.exists() and markdown.stat().st_size else "w", encoding="utf-8") as f:
            f.write(to_markdown(result))
    if junit is not None:
        from harness.reporting.junit import to_junit

        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(to_junit(result), encoding="utf-8")
    if html is not None:
        write_html(html, result, db)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_report(result)
    if not result.gate.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


def write_html(path: Path, result: Report, db: Path | None) -> None:
    """Write the HTML report, with the traces of the first changed or failing cases for its drill-down, and say
    where (on stderr, so that `--json` output stays clean)."""
    from harness.reporting.html import drill_down_run_ids, to_html

    traces = call(lambda: api.report_traces(drill_down_run_ids(result), db=db))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(result, traces), encoding="utf-8")
    err_console.print(f"HTML report: {escape(str(path))}")


def print_report(result: Report) -> None:
    """The terminal view: variants with their tests, the first changed cases, the gate's one line."""
    from harness.reporting._format import delta, pct

    table = Table(title=f"report {result.eval_run.eval_run_id}", title_justify="left")
    for column in ("variant", "cases", "pass rate", "baseline", "Δ", "fixed", "regressed", "test", "p"):
        table.add_column(column, justify="left" if column in ("variant", "test", "baseline") else "right")
    for v in result.variants:
        base = f"{v.baseline_variant} {pct(v.baseline_pass_rate)}" if v.baseline_pass_rate is not None else "—"
        moved = delta(v.delta)
        style = "red" if v.significant and (v.delta or 0) < 0 else ""
        table.add_row(
            v.variant,
            str(v.cases),
            pct(v.pass_rate),
            str(base),
            f"[{style}]{moved}[/]" if style else moved,
            str(v.fixed),
            str(v.regressed),
            v.test,
            "—" if v.p_value is None else f"{v.p_value:.3g}",
        )
    console.print(table, soft_wrap=False)
    console.print(f"compared with: {escape(result.baseline or 'nothing (no baseline given)')}", style="dim")
    changed = [c for c in result.cases if c.outcome in ("regressed", "fixed") or c.newly_compromised]
    for change in changed[:15]:
        mark = "[red]✗ regressed[/]" if change.outcome == "regressed" else "[green]✓ fixed[/]"
        if change.newly_compromised:
            mark = "[red]🚨 compromised[/]"
        why = change.current.failures[0] if change.current and change.current.failures else ""
        console.print(
            f"  {mark} {escape(change.dataset)}/{escape(change.case_id)} {change.variant}  {escape(why[:140])}"
        )
    if len(changed) > 15:
        console.print(f"  … and {len(changed) - 15} more (--markdown or --json for all)")
    color = "green" if result.gate.passed else "red"
    console.print(f"[bold {color}]gate: {escape(result.gate.reason)}[/]")


@baseline_app.command("save")
def save(
    eval_run_id: str = typer.Argument(..., help="The eval run (main's) to save as the baseline."),
    out: Path | None = typer.Option(None, "--out", help="Where (default [tool.agenteval] baseline_file)."),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
) -> None:
    """Save an eval run's results as a compact, diff-friendly baseline file, meant to be committed, so that a PR is
    compared with main without main's trace store: `agenteval report RUN --baseline-file reports/baseline.json`."""
    path = call(lambda: api.save_baseline(eval_run_id, out=out, db=db))
    console.print(f"baseline saved: {path}")
