"""``agenteval run`` and ``agenteval merge``: the main job."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from harness import api
from harness.cli._common import call, console, progress_bar, split_names
from harness.cli.score import print_scoring

if TYPE_CHECKING:
    from harness.runner import EvalSummary


def run(
    datasets: list[str] = typer.Argument(
        None, help="Dataset files, folders or names (e.g. support/adversarial). Default: [tool.agenteval] datasets."
    ),
    variants: str | None = typer.Option(
        None, "--variants", "-v", help="Comma-separated variant names (declared in [tool.agenteval.variants])."
    ),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Run every case × variant this many times."),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        envvar="AGENTEVAL_CONCURRENCY",
        help="Cases at once (halved while the provider answers 429, then recovers). Default 8.",
    ),
    filters: list[str] = typer.Option(
        None,
        "--filter",
        "-f",
        help="Keep cases by tag:NAME, id:GLOB or a bare tag/id; repeat for OR; prefix with - to exclude.",
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many cases per dataset."),
    shard: str | None = typer.Option(
        None, "--shard", help="Run shard I of N (I/N) of the cases; merge shard stores with `agenteval merge`."
    ),
    resume: str | None = typer.Option(
        None, "--resume", help="Finish an interrupted eval run (its id): only runs without a result are executed."
    ),
    eval_run_id: str | None = typer.Option(None, "--eval-run-id", help="Id for a new eval run (default: new)."),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        envvar="AGENTEVAL_BASE_URL",
        help="OpenAI-compatible endpoint. Default: the scripted model in-process (no key, no network).",
    ),
    scenario: str | None = typer.Option(None, "--scenario", help="Scenario of the in-process scripted model."),
    timeout: float | None = typer.Option(None, "--timeout", help="Per-case wall-clock limit in seconds."),
    agent: str | None = typer.Option(
        None, "--agent", help="Agent under test: support, tool-calling, recorded or module:function."
    ),
    record_mode: str | None = typer.Option(
        None,
        "--record-mode",
        envvar="AGENTEVAL_RECORD_MODE",
        help="Cassettes (cassettes/DATASET/VARIANT/CASE.eN.yaml): replay (the default: offline, from cassettes only; "
        "a request that differs fails with a diff), record (record what is missing), rerecord (replace), off (live "
        "calls, nothing recorded). Default from [tool.agenteval] record_mode.",
    ),
    no_score: bool = typer.Option(
        False, "--no-score", help="Do not score the runs afterwards (score them later with `agenteval score`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (no progress bar)."),
) -> None:
    """Run datasets through the agent under test, once per variant (and epoch), and store every run as a trace.

    With no arguments, runs the bundled support suites under variants v1 and v2 against the scripted model:
    no API key, no network. Ends with a summary per dataset × variant and the eval run id. Interrupted? Run
    `agenteval run --resume EVAL_RUN_ID` to finish it.
    """
    names = split_names(variants) if variants else None
    run_evals = api.run_evals  # imports openai, the runner and the store: what the run keeps to the end
    with progress_bar(not as_json) as update, _collector_spared():
        summary = call(
            lambda: run_evals(
                datasets or None,
                variants=names,
                epochs=epochs,
                concurrency=concurrency,
                filters=filters or None,
                limit=limit,
                shard=shard,
                resume=resume,
                eval_run_id=eval_run_id,
                db=db,
                base_url=base_url,
                scenario=scenario,
                timeout_s=timeout,
                agent=agent,
                record_mode=record_mode,
                score=not no_score,
                on_progress=update,
            )
        )
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    _print_summary(summary)


@contextmanager
def _collector_spared() -> Iterator[None]:
    """Move what exists now (modules, classes, the validators of openai's ~1,000 pydantic types) out of the cyclic
    garbage collector's reach while the run allocates: each full collection would walk all of it again (~0.1 s per
    1,000 runs). Unfrozen afterwards, so nothing is withheld from the collector for good."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _print_summary(summary: EvalSummary) -> None:
    record = summary.eval_run
    table = Table(title=f"eval run {record.eval_run_id}", title_justify="left")
    table.add_column("dataset")
    table.add_column("variant")
    table.add_column("runs", justify="right")
    table.add_column("ok", justify="right")
    table.add_column("status✓", justify="right")
    table.add_column("hijacked", justify="right")
    table.add_column("tokens", justify="right")
    table.add_column("p50 ms", justify="right")
    for row in summary.rows:
        met = f"{row.status_met}/{row.status_checked}" if row.status_checked else "—"
        hit = f"{row.compromised}/{row.attacks}" if row.attacks else "—"
        table.add_row(
            row.dataset or "[bold]all[/]",
            row.variant,
            str(row.runs),
            str(row.finished),
            met,
            f"[red]{hit}[/]" if row.compromised else hit,
            f"{row.input_tokens + row.output_tokens:,}",
            f"{row.p50_ms:.0f}" if row.p50_ms is not None else "—",
        )
    console.print(table, soft_wrap=False)
    console.print(
        "ok = completed or escalated; status✓ = ended in the status the case expects; hijacked = "
        "adversarial runs that made a forbidden call or said a trigger.",
        style="dim",
    )
    for row in summary.rows:
        if row.dataset is None or len({r.dataset for r in summary.rows if r.dataset}) == 1:
            statuses = ", ".join(f"{s} {n}" for s, n in sorted(row.statuses.items(), key=lambda x: -x[1]))
            label = f"{row.dataset} {row.variant}" if row.dataset else row.variant
            console.print(f"{label}: {statuses}")
    if summary.scoring is not None:
        print_scoring(summary.scoring)
    resumed = f" ({summary.skipped} already done)" if summary.skipped else ""
    commit = f" at commit {record.git_commit[:10]}{'+dirty' if record.git_dirty else ''}" if record.git_commit else ""
    console.print(
        f"{summary.executed} runs in {summary.elapsed_s:.1f}s{resumed}; eval run "
        f"[bold]{record.eval_run_id}[/] ({record.planned} runs{commit})"
    )
    if summary.lowest_concurrency < record.concurrency:
        console.print(f"rate limited: concurrency went down to {summary.lowest_concurrency}, then recovered")
    console.print("inspect: agenteval traces list   |   agenteval traces stats   |   agenteval traces show RUN_ID")


def merge(
    shards: list[Path] = typer.Argument(..., help="Shard stores written by `agenteval run --shard I/N --db FILE`."),
    into: Path = typer.Option(..., "--into", help="Store to merge them into (created if missing)."),
) -> None:
    """Merge the trace stores of a sharded eval run into one store (runs already present are skipped)."""
    copied = call(lambda: api.merge_shards(list(shards), into))
    console.print(f"merged {len(shards)} shard(s) into {into}: " + ", ".join(f"{t} {n}" for t, n in copied.items()))


def record(
    datasets: list[str] = typer.Argument(None, help="Dataset files, folders or names (default: [tool.agenteval])."),
    variants: str | None = typer.Option(None, "--variants", "-v", help="Comma-separated variant names."),
    filters: list[str] = typer.Option(None, "--filter", "-f", help="Keep cases by tag:NAME or id:GLOB."),
    rerecord: bool = typer.Option(False, "--rerecord", help="Replace existing cassettes instead of completing them."),
    db: Path | None = typer.Option(None, "--db", envvar="AGENTEVAL_DB", help="Trace store (DuckDB file)."),
    base_url: str | None = typer.Option(None, "--base-url", envvar="AGENTEVAL_BASE_URL", help="Endpoint to record."),
) -> None:
    """Record cassettes: `agenteval run --record-mode record` (or rerecord), then commit cassettes/.

    Replay them anywhere, offline, with `agenteval run --record-mode replay`.
    """
    run(
        datasets=datasets,
        variants=variants,
        epochs=None,
        concurrency=None,
        filters=filters,
        limit=None,
        shard=None,
        resume=None,
        eval_run_id=None,
        db=db,
        base_url=base_url,
        scenario=None,
        timeout=None,
        agent=None,
        record_mode="rerecord" if rerecord else "record",
        as_json=False,
    )
