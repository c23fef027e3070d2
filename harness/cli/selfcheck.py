"""``agenteval selfcheck``: prove a fresh install works, offline."""

from __future__ import annotations

import typer
from rich.table import Table

from harness import api
from harness.cli._common import EXIT_GATE_FAILED, call, console


def selfcheck(
    scenario: str = typer.Option(
        "default", "--scenario", envvar="AGENTEVAL_MOCKLLM_SCENARIO", help="Scenario file or bundled scenario name."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Start the scripted model server and talk to it with the official openai client.

    Checks the model list, a plain answer, streaming, parallel tool calls, structured output, a scripted 429 that
    the client retries, and byte-identical determinism. Needs no API key and no network. Exits 1 if a check fails.
    """
    report = call(lambda: api.selfcheck(scenario))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        table = Table(title=f"agenteval selfcheck — mockllm at {report.base_url} (scenario {report.scenario})")
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        table.add_column("ms", justify="right")
        for check in report.checks:
            mark = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
            table.add_row(check.name, mark, check.detail, f"{check.seconds * 1000:.0f}")
        console.print(table)
        passed = sum(c.passed for c in report.checks)
        verdict = "[green]all checks passed[/]" if report.passed else "[bold red]some checks failed[/]"
        console.print(f"{passed}/{len(report.checks)} checks passed: {verdict}")
    if not report.passed:
        raise typer.Exit(EXIT_GATE_FAILED)
