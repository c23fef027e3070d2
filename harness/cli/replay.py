"""``agenteval replay``: re-execute a stored run offline and say whether it matches the original."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.columns import Columns
from rich.table import Table

from harness import api
from harness.cli._common import EXIT_GATE_FAILED, call, console
from harness.cli.traces import trace_tree

if TYPE_CHECKING:
    from harness.api import ReplayReport
    from harness.models.traces import RunTrace


def replay(
    run_id: str = typer.Argument(..., help="Run id (or its first characters), e.g. from `agenteval traces list`."),
    db: Path = typer.Option(
        Path(".agenteval/traces.duckdb"), "--db", envvar="AGENTEVAL_DB", help="Trace store holding the run."
    ),
    prompt_version: str | None = typer.Option(
        None,
        "--prompt-version",
        "-p",
        help="Fork: replay with another prompt version (continues live once it differs).",
    ),
    model: str | None = typer.Option(None, "--model", "-m", help="Fork: replay with another model."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Where a fork continues live (default: the scripted model, in-process)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the original, the replay and the verdict as JSON."),
) -> None:
    """Replay a stored run offline, step by step, from its trace.

    The model's answers and the tools' results come from the recorded run (a replayed refund never issues a
    refund); nothing reaches the network. Shows the replay's span tree (what the model was sent and answered, tool
    calls and results), then whether it matched the original or where it first diverged, with a diff. Exits 1 when
    it diverged. With `--prompt-version` or `--model` it is a fork ("what if"): the recorded steps are replayed up to
    the first request the change alters, then the run continues live; the original and the fork are shown side by
    side (a fork always exits 0).

    Every agent kind replays: the reference support agent from any run; your own `module:function` agent and the
    tool-calling agent from the runs of `agenteval run` or the pytest plugin. Run it from the project's folder: the
    case comes from the dataset file the eval run used, the function from your code as it is now. Tools decorated
    with `@trace_tool` answer from the trace; untraced tools run for real.
    """
    report = call(lambda: api.replay_run(run_id, db=db, prompt_version=prompt_version, model=model, base_url=base_url))
    if report.fork and not as_json:
        _side_by_side(report)
        return
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        console.print(trace_tree(report.replay), soft_wrap=False)
        original = report.original.run
        if report.matched:
            calls = sum(1 for s in report.replay.spans if s.operation == "chat")
            tools = sum(1 for s in report.replay.spans if s.operation == "execute_tool")
            console.print(
                f"[green]replay matches run {original.run_id[:12]}[/]: {calls} model call(s) and {tools} "
                f"tool call(s) replayed from the trace; status {original.status}, same answer."
            )
        else:
            console.print(
                f"[bold red]replay diverged from run {original.run_id[:12]}[/]: {report.divergence}", markup=True
            )
    if not report.matched and not report.fork:
        raise typer.Exit(EXIT_GATE_FAILED)


def _tools(trace: RunTrace) -> str:
    calls = [
        f"{s.attributes.get('gen_ai.tool.name')}({s.attributes.get('gen_ai.tool.call.arguments')})"
        for s in trace.spans
        if s.operation == "execute_tool"
    ]
    return "\n".join(calls) or "(none)"


def _answer(trace: RunTrace) -> str:
    data = trace.run.output_data
    if isinstance(data, dict) and "reply" in data:
        return str(data["reply"])
    return trace.run.output_text or "(no answer)"


def _side_by_side(report: ReplayReport) -> None:
    change = ", ".join(f"{k} {v}" for k, v in report.fork.items())
    original, fork = report.original, report.replay
    table = Table(title=f"run {original.run.run_id[:12]} and its fork ({change})", title_justify="left")
    table.add_column("")
    table.add_column(f"original ({original.run.prompt_version}, {original.run.model})", overflow="fold")
    table.add_column(f"fork ({fork.run.prompt_version}, {fork.run.model})", overflow="fold")
    table.add_row("status", original.run.status, fork.run.status)
    table.add_row("tool calls", _tools(original), _tools(fork))
    table.add_row("answer", _answer(original), _answer(fork))
    table.add_row("model calls", str(original.run.llm_calls), str(fork.run.llm_calls))
    console.print(table, soft_wrap=False)
    console.print(Columns([trace_tree(original), trace_tree(fork)]), soft_wrap=False)
    console.print(report.divergence or "the fork made the same requests as the original")
