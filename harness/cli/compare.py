"""``agenteval compare``: variants side by side, case by case, with paired statistics and judge win rates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from harness import api
from harness.cli._common import call, console, progress_bar, split_names

if TYPE_CHECKING:
    from harness.models.comparisons import Comparison, VariantCell


def compare(
    datasets: list[str] = typer.Argument(
        None, help="Dataset files, folders or names to run. Default: [tool.agenteval] datasets."
    ),
    variants: str = typer.Option(
        ..., "--variants", "-v", help="Two or more comma-separated variants, e.g. v1,v2 (matrix columns, in order)."
    ),
    eval_run: str | None = typer.Option(
        None, "--eval-run", help="Reuse a stored eval run that ran these variants (its id or a unique prefix)."
    ),
    rubric: str | None = typer.Option(
        None,
        "--rubric",
        help="Pairwise rubric for the judge's win rates (a file, or a name under rubrics/). Default: "
        "rubrics/support/pairwise-helpfulness.md for the support agent.",
    ),
    no_judge: bool = typer.Option(False, "--no-judge", help="No pairwise judging (no win rates)."),
    filters: list[str] = typer.Option(None, "--filter", "-f", help="Keep cases by tag:NAME or id:GLOB (run only)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many cases per dataset (run only)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Run every case × variant this many times."),
    record_mode: str | None = typer.Option(
        None, "--record-mode", envvar="AGENTEVAL_RECORD_MODE", help="Cassettes of the run: replay, record, ..."
    ),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Also write the Markdown (fits a PR comment)."),
    html: Path | None = typer.Option(None, "--html", help="Also write a self-contained HTML page."),
    rows: int = typer.Option(20, "--rows", min=0, help="Cases shown in the terminal (differing ones first)."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Run variants on the same cases (or reuse an eval run) and show them side by side: a case × variant matrix
    with status, pass/fail, the first failing scorer and the output; per-variant pass rates with 95% Wilson
    intervals; per pair of variants exact McNemar on pass/fail and the pairwise judge's win rate with its interval.
    Cases where the variants differ come first.

    Examples: `agenteval compare --variants v1,v2` | `agenteval compare -v v1,v2 --eval-run 3f2a --html cmp.html`
    """
    names = split_names(variants)
    with progress_bar(not as_json and eval_run is None) as update:
        result = call(
            lambda: api.compare_variants(
                datasets or None,
                variants=names,
                eval_run_id=eval_run,
                rubric=rubric,
                judge=not no_judge,
                filters=filters or None,
                limit=limit,
                epochs=epochs,
                record_mode=record_mode,
                db=db,
                on_progress=update,
            )
        )
    from harness.reporting.compare import to_html, to_markdown

    for path, text in ((markdown, to_markdown), (html, to_html)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(result), encoding="utf-8")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_comparison(result, rows)


def print_comparison(result: Comparison, rows: int = 20) -> None:
    """The terminal view: aggregates, pairs, then the first ``rows`` cases of the matrix."""
    from harness.reporting._format import num, pct
    from harness.reporting.compare import win_rate

    table = Table(title=f"compare {result.eval_run.eval_run_id}", title_justify="left")
    for column in ("variant", "cases", "pass rate", "95% CI", "tokens/run", "p50 ms"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for a in result.aggregates:
        table.add_row(
            a.variant,
            str(a.cases),
            pct(a.pass_rate),
            f"{pct(a.ci_low)}–{pct(a.ci_high)}",
            num(a.tokens_per_run),
            num(a.p50_ms),
        )
    console.print(table, soft_wrap=False)
    pairs = Table(title_justify="left")
    for column in ("pair", "cases", "only a", "only b", "McNemar p", "judge: b wins (95% CI)", "consistent"):
        pairs.add_column(column, justify="left" if column == "pair" else "right")
    for p in result.pairs:
        pairs.add_row(
            f"{p.variant_a} vs {p.variant_b}",
            str(p.paired),
            str(p.a_only),
            str(p.b_only),
            f"{p.p_value:.3g}" + (" ★" if p.significant else ""),
            escape(win_rate(p.judge)),
            pct(p.judge.position_consistency) if p.judge else "—",
        )
    console.print(pairs, soft_wrap=False)
    console.print(f"★ significant at α = {result.alpha:g} (exact McNemar on case pass/fail)", style="dim")
    for note in result.notes:
        console.print(escape(note), style="dim")
    matrix = Table(title=f"{result.differing} of {len(result.rows)} cases differ", title_justify="left")
    matrix.add_column("case", overflow="fold")
    for v in result.variants:
        matrix.add_column(v, overflow="fold")
    for row in result.rows[:rows]:
        matrix.add_row(
            ("[bold]" if row.differs else "") + escape(f"{row.dataset}/{row.case_id}"),
            *(_cell(row.cells.get(v)) for v in result.variants),
        )
    if rows:
        console.print(matrix, soft_wrap=False)
    if len(result.rows) > rows:
        console.print(f"… and {len(result.rows) - rows} more cases (--rows N, --markdown, --html or --json)")


def _cell(cell: VariantCell | None) -> str:
    from harness.reporting._format import short

    if cell is None:
        return "[dim]— not run[/]"
    mark = "[green]✓[/]" if cell.passed else "[red]✗[/]"
    text = f"{mark} {escape(cell.status)}" + (f" ({cell.passed_runs}/{cell.runs})" if cell.runs > 1 else "")
    if cell.failure:
        text += f"\n[dim]{escape(short(cell.failure, 90))}[/]"
    if cell.output:
        text += f"\n» {escape(short(cell.output, 90))}"
    return text
