"""The root ``agenteval`` app; each command group lives in its own module."""

from __future__ import annotations

import atexit
import os
import sys
import threading

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
    """Console-script entry point.

    Ends the process without tearing the interpreter down: once the command has returned, its files are closed and
    its output written, and unloading the ~1,500 modules an eval run imports (openai's types alone are hundreds of
    pydantic classes) only costs time, 100 to 150 ms measured per command. Exit handlers still run (logging, a user
    agent's exporters) and the output is flushed first. When another non-daemon thread is still alive, the exit is
    the ordinary one, which waits for it.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`agenteval ... | head`) or a closed stream
            code = code or 1
    os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    """The status ``sys.exit`` would give: ``None`` is 0, an int is itself, anything else is printed and is 1."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
