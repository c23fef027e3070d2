"""``agenteval judge``: measure an LLM judge against gold or human labels before trusting its scores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich import box
from rich.table import Table

from harness import api
from harness.cli._common import EXIT_USAGE, call, console, err_console, split_names

if TYPE_CHECKING:  # the judges import openai, the reports are 40 pydantic models: other commands need neither
    from harness.api._pairwise import PairwiseReport
    from harness.models.calibration import CalibrationReport

app = typer.Typer(
    help=(
        "LLM judges: how far a pairwise judge (which of two responses is better?) can be trusted.\n\n"
        "`agenteval judge calibrate` compares a judge's verdicts with gold or human labels."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)


class RecordedFormat(StrEnum):
    """Recorded verdict files that ``agenteval judge calibrate`` reads."""

    llmbar = "llmbar"
    pandalm = "pandalm"


# Landis & Koch (1977), the usual words for kappa: below 0 poor, then up to each bound (inclusive).
KAPPA_BANDS = ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"), (1.0, "almost perfect"))


@app.command()
def calibrate(
    recorded: Annotated[
        Path | None,
        typer.Option(
            "--recorded",
            help="A judge's recorded verdicts: LLMBar `result.json` or a PandaLM verdicts file.",
            dir_okay=False,
        ),
    ] = None,
    rubric: Annotated[
        str | None,
        typer.Option(
            "--rubric", help="Judge --pairs now with this pairwise rubric (a file, or a name under rubrics/)."
        ),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="With --rubric: labelled pairs, LLMBar `dataset.json` or PandaLM `testset-v1.json`.",
            dir_okay=False,
        ),
    ] = None,
    format: Annotated[
        RecordedFormat | None,
        typer.Option("--format", help="The file's format. Default: detected from its fields."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="PandaLM: the annotators' labels (`annotator1..3`). Default: `testset-v1.json` next to the verdicts "
            "(--recorded), the pairs file itself (--pairs).",
            dir_okay=False,
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="With --rubric: judge only the first N pairs.", min=1)
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="With --rubric: the judge's endpoint. Default: the scripted server, in-process.",
            envvar="AGENTEVAL_BASE_URL",
        ),
    ] = None,
    record_mode: Annotated[
        str | None,
        typer.Option(
            "--record-mode",
            help="With --rubric: judge cassettes under cassettes/: replay, record, rerecord or off.",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="With --rubric: pairs judged at once (default 8).", min=1)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Measure a pairwise judge against gold labels (LLMBar) or the majority of human annotators (PandaLM).

    The verdicts come from one of two places:

    - `--recorded FILE`: a judge's recorded verdicts (LLMBar `result.json`, PandaLM verdicts).
    - `--rubric RUBRIC --pairs FILE`: judge every labelled pair now with a pairwise rubric, in both orders. Cassettes
      land under `cassettes/calibration/<folder>/<file stem>/pairwise/`; `--record-mode record` records them and
      `--record-mode replay` measures again offline. Without --base-url the scripted model server judges: it only
      knows the support shop's policy breaches and answers `tie` on most general pairs (LLMBar's gold labels are
      never `tie`, so expect an accuracy near 0): that is the honest measurement of the scripted judge.

    What the figures mean:

    - **accuracy**: share of verdicts equal to the gold label, over both orders when the judge saw both. A verdict
      that could not be parsed (or a judge failure) is wrong; `tie` is a label like `1` and `2`.
    - **kappa**: Cohen's kappa against the gold label, i.e. agreement beyond what chance would give (1 perfect, 0
      chance, below 0 worse than chance); the mean of the two orders' kappas.
    - **positional agreement**: share of pairs judged the same way when the two responses swap places (only when
      the verdicts were recorded in both orders). A judge that follows position instead of content scores low.
    - **parse failures**: verdicts the judge's answer could not be read from, and their rate.
    - **ties**: tie labels and tie verdicts, and accuracy on the pairs whose gold label is not a tie.
    - **annotators** (PandaLM): the annotators' mean pairwise kappa, and the judge's accuracy and kappa against
      each. Pairs without a majority label are left out of accuracy and kappa, and counted.
    - **LLMBar statistics** (recorded): the authors' `statistics.json`, recomputed exactly (their kappas carry a
      quirk of their script that maps verdict "2" to 0; the `kappa` above does not).

    `--json` prints the report (top level: `n`, `accuracy`, `kappa`, `positional_agreement`, `parse_failures`, ...).

    Examples: `agenteval judge calibrate --recorded llmbar/LLMBar/Natural/evaluators/GPT-4/Vanilla/result.json`,
    `agenteval judge calibrate --recorded pandalm/gpt-3.5-turbo-testset-v1.json --labels pandalm/testset-v1.json`,
    `agenteval judge calibrate --rubric support/pairwise-helpfulness --pairs llmbar/LLMBar/Natural/dataset.json
    --limit 20`.
    """
    live_only = {"--pairs": pairs, "--limit": limit, "--record-mode": record_mode, "--concurrency": concurrency}
    if recorded is not None and rubric is not None:
        _usage("--recorded and --rubric exclude each other: give recorded verdicts, or a rubric to judge --pairs with.")
    if recorded is None and rubric is None:
        _usage("give the verdicts to measure: --recorded FILE, or --rubric RUBRIC --pairs FILE to judge them now.")
    if recorded is not None:
        # --base-url is left out: it also comes from AGENTEVAL_BASE_URL, which may be set for other commands.
        given = [name for name, value in live_only.items() if value is not None]
        if given:
            _usage(f"{', '.join(given)} only apply with --rubric; --recorded reads verdicts already given.")
        report = call(lambda: api.calibrate_recorded(recorded, format.value if format else None, labels))
    else:
        if pairs is None or rubric is None:
            _usage("--rubric needs the labelled pairs to judge: --pairs FILE (LLMBar dataset.json, PandaLM testset).")
        chosen, labelled = rubric, pairs
        report = call(
            lambda: api.calibrate_live(
                chosen,
                labelled,
                format=format.value if format else None,
                labels=labels,
                limit=limit,
                base_url=base_url,
                record_mode=record_mode,
                concurrency=concurrency or 8,
            )
        )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _render(report)


def _usage(message: str) -> NoReturn:
    err_console.print(f"error: {message}", style="bold red", markup=False)
    raise typer.Exit(EXIT_USAGE)


def _render(report: CalibrationReport) -> None:
    from harness.reporting._format import pct

    title = f"{report.judge or 'judge'} ({report.format}): {report.source}"
    console.print(title, style="bold", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("detail")
    orders = " · ".join(f"{o.order} {pct(o.accuracy, dash='-')}" for o in report.by_order)
    rows = [
        ("items", str(report.n), f"{report.scored} with a gold label, {report.verdicts} verdicts"),
        ("accuracy", pct(report.accuracy, dash="-"), orders if len(report.by_order) > 1 else ""),
        ("kappa", _num(report.kappa), " · ".join(f"{o.order} {_num(o.kappa)}" for o in report.by_order)),
        ("positional agreement", pct(report.positional_agreement, dash="-"), _position(report)),
        ("parse failures", str(report.parse_failures), f"{pct(report.parse_failure_rate, dash='-')} of verdicts"),
        ("ties", f"{report.ties.gold_ties} / {report.ties.judge_ties}", "gold / judge"),
        ("accuracy without gold ties", pct(report.ties.accuracy_without_gold_ties, dash="-"), ""),
    ]
    if report.annotators:
        judge = " · ".join(
            f"#{a.annotator} {pct(a.accuracy, dash='-')} κ {_num(a.kappa)}" for a in report.annotators.judge
        )
        rows += [
            ("annotators' kappa", _num(report.annotators.pairwise_kappa_mean), "mean over pairs of annotators"),
            ("judge vs annotator", "", judge),
            ("no majority", str(report.annotators.no_majority), "items left out"),
        ]
    if report.llmbar_statistics:
        stats = report.llmbar_statistics
        detail = f"equal {stats.equal}; their kappa {stats.kappa_average:.3f} (maps verdict 2 to 0)"
        rows.append(("LLMBar statistics.json", stats.correct_average, detail))
    for row in rows:
        table.add_row(*row)
    console.print(table, soft_wrap=False, markup=False)
    console.print(_interpret(report), markup=False)
    for note in report.notes:
        console.print(f"note: {note}", markup=False)


def _interpret(report: CalibrationReport) -> str:
    if report.kappa is None:
        line = "kappa is undefined (every label and verdict is the same class, or there are no gold labels)."
    else:
        band = "poor" if report.kappa < 0 else next(word for bound, word in KAPPA_BANDS if report.kappa <= bound)
        line = f"kappa {report.kappa:.2f}: {band} agreement with the gold labels (Landis & Koch)."
    if report.position is not None:
        position = report.position
        inconsistent = position.prefers_first + position.prefers_second + position.other_inconsistent
        line += (
            f" The verdict changed with the order of the responses on {inconsistent} of {report.n} items "
            f"({position.prefers_first} went to the response shown first both times, "
            f"{position.prefers_second} to the one shown second)."
        )
    return line


def _position(report: CalibrationReport) -> str:
    if report.position is None:
        return "one order recorded"
    return f"κ {_num(report.position.kappa)} between orders"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@app.command()
def pairwise(
    eval_run_id: Annotated[str, typer.Argument(help="The eval run (or the first characters of its id).")],
    variants: Annotated[
        str, typer.Option("--variants", help="The two variants to compare, `A,B`: the win rate is B's over A.")
    ],
    rubric: Annotated[
        str,
        typer.Option("--rubric", help="A pairwise rubric file, or its name under rubrics/.", envvar="AGENTEVAL_RUBRIC"),
    ] = "support/pairwise-helpfulness",
    db: Annotated[Path | None, typer.Option("--db", help="Trace store.", envvar="AGENTEVAL_DB")] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Judge endpoint. Default: the scripted server, in-process.", envvar="AGENTEVAL_BASE_URL"
        ),
    ] = None,
    record_mode: Annotated[
        str | None,
        typer.Option("--record-mode", help="Judge cassettes: replay, record, rerecord or off.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Judge two variants of a stored eval run case by case with a pairwise rubric, in both orders.

    A preference counts only when both orders agree; otherwise the pair is a tie, flagged position-inconsistent.
    Prints each pair's winner and the aggregate: B's win rate over the decided pairs with a 95% Wilson interval,
    ties, and the judge's position consistency. Without --base-url (or AGENTEVAL_BASE_URL) the scripted model server
    judges, offline.

    Example: `agenteval judge pairwise 3f2a --variants v1,v2 --rubric rubrics/support/pairwise-helpfulness.md`.
    """
    names = split_names(variants)
    report = call(
        lambda: api.judge_pairwise(
            eval_run_id, variants=names, rubric=rubric, db=db, base_url=base_url, record_mode=record_mode
        )
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _render_pairwise(report)


def _render_pairwise(report: PairwiseReport) -> None:
    from harness.reporting._format import pct

    a, b = report.variant_a, report.variant_b
    console.print(f"{report.rubric}: {a} (A) vs {b} (B), eval run {report.eval_run_id}", style="bold", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("dataset", no_wrap=True, max_width=24)
    table.add_column("case", overflow="fold")
    table.add_column("epoch", justify="right")
    table.add_column("winner", no_wrap=True)
    table.add_column("orders (A/B, B/A)", no_wrap=True)
    names = {"a": a, "b": b, "tie": "tie", None: "error"}
    for result in report.results:
        orders = " / ".join(names[o.winner] for o in result.orders) if result.orders else "-"
        flag = " (inconsistent)" if result.position_inconsistent else ""
        table.add_row(result.dataset or "", result.case_id, str(result.epoch or 1), names[result.winner] + flag, orders)
    console.print(table, soft_wrap=False, markup=False)
    s = report.summary
    judged = s.pairs - s.errors
    win_rate, low, high, with_ties, consistency = (
        pct(x, dash="-") for x in (s.win_rate_b, s.ci_low, s.ci_high, s.win_rate_with_ties, s.position_consistency)
    )
    console.print(
        f"{b} over {a}: win rate {win_rate} (95% Wilson {low} to {high}) over "
        f"{s.wins_a + s.wins_b} decided pairs; {b} {s.wins_b}, {a} {s.wins_a}, ties {s.ties} "
        f"({s.inconsistent} position-inconsistent); {with_ties} counting a tie as half.",
        markup=False,
    )
    console.print(
        f"position consistency {consistency} of {judged} judged pairs; errors {s.errors}; "
        f"unpaired runs {report.unpaired}. Judge: {report.judge}.",
        markup=False,
    )
    for result in report.results:
        if result.error:
            console.print(f"error: {result.case_id}: {result.error}", markup=False)
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
