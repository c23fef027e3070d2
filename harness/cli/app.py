"""The root ``agenteval`` app; each command group lives in its own module."""

from __future__ import annotations

import typer

from harness import __version__
from harness.cli import (
    agent,
    cassettes,
    compare,
    datasets,
    judge,
    mockllm,
    replay,
    report,
    run,
    score,
    selfcheck,
    traces,
)

app = typer.Typer(
    name="agenteval",
    help=(
        "Evaluate and replay tool-using LLM agents: offline CI gates on every PR, replay of any failed trace, "
        "side-by-side comparison of prompt versions.\n\n"
        "Start with `agenteval selfcheck` (no API key, no network)."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)
app.add_typer(mockllm.app, name="mockllm")
app.add_typer(agent.app, name="agent")
app.add_typer(traces.app, name="traces")
app.add_typer(datasets.app, name="datasets")
app.add_typer(cassettes.app, name="cassettes")
app.add_typer(judge.app, name="judge")
app.command("run")(run.run)
app.command("merge")(run.merge)
app.command("record")(run.record)
app.command("replay")(replay.replay)
app.command("score")(score.score)
app.command("report")(report.report)
app.command("compare")(compare.compare)
app.add_typer(report.baseline_app, name="baseline")
app.command("selfcheck")(selfcheck.selfcheck)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agenteval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """agenteval command line."""


def main() -> None:
    """Console-script entry point."""
    app()
