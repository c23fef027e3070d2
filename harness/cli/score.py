"""``agenteval score``: score stored runs again, without running the agent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from harness import api
from harness.cli._common import call, console

if TYPE_CHECKING:
    from harness.models.scores import ScoreRecord, ScoringSummary

MAX_FAILURES_PRINTED = 12
FAILURES_PER_SCORER = 3


def score(
    eval_run_id: str = typer.Argument(None, help="The eval run to score (its id or a unique prefix)."),
    scorers: list[str] = typer.Option(
        None,
        "--scorer",
        "-s",
        help="Only this scorer, on every run (repeat for several): a built-in name (see --list) or module:attribute "
        "for your own. Default: every scorer each case's `expected` block asks for.",
    ),
    rubrics: list[str] = typer.Option(
        None,
        "--rubric",
        "-r",
        help="Judge every run with this pointwise rubric (a file, or a name under rubrics/; repeat for several).",
    ),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        envvar="AGENTEVAL_BASE_URL",
        help="The judge's endpoint. Default: the scripted model in-process (it judges the support rubrics offline).",
    ),
    record_mode: str | None = typer.Option(
        None,
        "--record-mode",
        help="Judge cassettes (CASE.eN.judge.RUBRIC.yaml next to the run's): replay, record, rerecord, off. Default: "
        "off against the scripted model, else [tool.agenteval] record_mode.",
    ),
    list_scorers: bool = typer.Option(False, "--list", help="List the built-in scorers and what they check."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Score the stored runs of an eval run again: new scores are new rows, old ones stay.

    Scores come from the trace store alone (runs and spans) and the cases of the eval run's datasets, so a
    changed or new scorer can be applied to yesterday's runs without calling the agent or the model. A scorer that
    raises becomes an error row; the run's other scores still count.

    Examples: `agenteval score 3f2a` | `agenteval score 3f2a --scorer trajectory` |
    `agenteval score 3f2a --scorer mypkg.scorers:polite` | `agenteval score 3f2a --rubric support/helpfulness`
    """
    if list_scorers:
        from harness.scorers import BUILTIN_SCORERS

        table = Table(title="built-in scorers", title_justify="left")
        table.add_column("name")
        table.add_column("checks")
        for name, scorer in BUILTIN_SCORERS.items():
            table.add_row(name, scorer.summary)
        console.print(table)
        return
    if not eval_run_id:
        raise typer.BadParameter(
            "give an eval run id (see `agenteval traces list`), or --list", param_hint="EVAL_RUN_ID"
        )
    summary = call(
        lambda: api.score_eval_run(
            eval_run_id,
            scorers=scorers or None,
            rubrics=rubrics or None,
            db=db,
            base_url=base_url,
            record_mode=record_mode,
        )
    )
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    print_scoring(summary)


def print_scoring(summary: ScoringSummary) -> None:
    """The scores table (scorer × variant), then the first failures with their explanations."""
    if not summary.rows:
        console.print("scores: no scorer applies to these cases (their `expected` blocks are empty)", style="dim")
        return
    variants = sorted({t.variant or "—" for t in summary.tallies})
    table = Table(title=f"scores ({summary.scoring_id})", title_justify="left")
    table.add_column("scorer")
    for variant in variants:
        table.add_column(variant, justify="right")
    by_scorer: dict[str, dict[str, str]] = {}
    for t in summary.tallies:
        cell = f"{t.passed}/{t.scored}"
        if t.errors:
            cell += f" [red]({t.errors} err)[/]"
        elif t.failed and t.labels.get("compromised"):
            cell = f"[red]{cell}[/] ({t.labels['compromised']} compromised)"
        if t.mean_value is not None and t.scorer not in ("tool_call_count",):
            cell += f" [dim]{t.mean_value:.2f}[/]"
        by_scorer.setdefault(t.scorer, {})[t.variant or "—"] = cell
    for name, cells in by_scorer.items():
        table.add_row(name, *(cells.get(v, "") for v in variants))
    console.print(table, soft_wrap=False)
    console.print(
        "cells: runs passed / runs scored, then the mean value (F1, share) where the scorer gives one", style="dim"
    )
    # A few per scorer, so that one noisy scorer does not hide the others.
    per_scorer: dict[str, int] = {}
    shown: list[ScoreRecord] = []
    for row in summary.failures:
        if per_scorer.get(row.scorer, 0) < FAILURES_PER_SCORER and len(shown) < MAX_FAILURES_PRINTED:
            per_scorer[row.scorer] = per_scorer.get(row.scorer, 0) + 1
            shown.append(row)
    for row in shown:
        where = f"{row.dataset}/{row.case_id} {row.variant} e{row.epoch}"
        console.print(f"  [red]✗[/] {escape(where)} [bold]{row.scorer}[/]: {escape(row.explanation)}")
    failed = sum(t.failed + t.errors for t in summary.tallies)
    if failed > len(shown):
        console.print(f"  … and {failed - len(shown)} more (agenteval traces list; scores are in the `scores` table)")
    for note in summary.notes:
        console.print(f"note: {escape(note)}", style="yellow")
