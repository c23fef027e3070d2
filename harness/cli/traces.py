"""``agenteval traces``: read the trace store (list runs, show one run as a tree, statistics, OTLP export)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from harness import api
from harness.cli._common import call, console

if TYPE_CHECKING:
    from harness.models.traces import RunRecord, RunTrace, Span
    from harness.traces import TraceStats

app = typer.Typer(
    help=(
        "Read the trace store: every agent run is one row in `runs` and a tree of spans (model calls, tool calls). "
        "The store is a DuckDB file, `.agenteval/traces.duckdb` unless `--db` or `AGENTEVAL_DB` say otherwise; "
        "query it with SQL too (see docs/traces.md).\n\n"
        "Examples: `agenteval traces list --status max_steps --since 1d`, `agenteval traces show 3f2a`, "
        "`agenteval traces stats --agent support --json`, `agenteval traces export 3f2a --out run.json`."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

Db = Annotated[
    Path,
    typer.Option("--db", envvar="AGENTEVAL_DB", help="Trace store file (DuckDB).", show_default=True, dir_okay=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of a table or tree.")]
Status = Annotated[
    str | None,
    typer.Option(help="Only runs with this status: completed, escalated, max_steps, model_error, error, started, ..."),
]
Agent = Annotated[str | None, typer.Option(help="Only runs of this agent.")]
PromptVersion = Annotated[str | None, typer.Option("--prompt-version", help="Only runs with this prompt version.")]
Since = Annotated[
    str | None,
    typer.Option(help="Only runs started since then: 30m, 1h, 2d, 1w back from now, or a date/time 2026-03-01T14:30."),
]
RunId = Annotated[str, typer.Argument(help="Run id, or its first characters (unique prefix, like a git commit).")]

DEFAULT_DB = api.DEFAULT_TRACE_DB
_STATUS_STYLE = {"completed": "green", "escalated": "cyan", "started": "yellow", "awaiting_approval": "yellow"}
_OUTCOME_STYLE = {"ok": "green", "awaiting_approval": "yellow"}


@app.command("list")
def list_runs(
    db: Db = DEFAULT_DB,
    as_json: AsJson = False,
    status: Status = None,
    agent: Agent = None,
    prompt_version: PromptVersion = None,
    since: Since = None,
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 50,
) -> None:
    """List runs, newest first.

    Columns: **run id** (first 12 characters; any unique prefix works with `show`), **started** (local time),
    **agent**, **prompt** (version), **model**, **status** (how the run ended; `started` = still running or
    crashed), **steps** (answered model calls), **tokens** (input + output), **duration** (wall clock).

    Examples: `agenteval traces list --status max_steps --since 1d`, `agenteval traces list --agent support --json`.
    """
    runs = call(
        lambda: api.list_traces(db, status=status, agent=agent, prompt_version=prompt_version, since=since, limit=limit)
    )
    if as_json:
        typer.echo(json.dumps([run.model_dump(mode="json") for run in runs], indent=2))
        return
    if not runs:
        console.print(
            f"No runs in {db} match these filters."
            if _filtered(status, agent, prompt_version, since)
            else f'No runs in {db} yet. Record one with `agenteval agent run "..."`.'
        )
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for header in ("run id", "started", "agent", "prompt", "model", "status", "steps", "tokens", "duration"):
        # One line per run; on a narrow terminal the cells are shortened with an ellipsis, never the run id
        # (what users copy), whose column is as wide as the id.
        table.add_column(header, no_wrap=True, min_width=12 if header == "run id" else None)
    for run in runs:
        table.add_row(
            run.run_id[:12],
            _local_time(run.start_ns, seconds=False),
            run.agent_name,
            run.prompt_version or "-",
            run.model,
            _status(run.status),
            str(run.steps),
            f"{run.total_tokens:,}",
            _duration(run.duration_ms),
        )
    console.print(table, soft_wrap=False)
    console.print(f"{len(runs)} run(s) from {db}. Show one with `agenteval traces show RUN_ID`.")


@app.command()
def show(run_id: RunId, db: Db = DEFAULT_DB, as_json: AsJson = False) -> None:
    """Show one run as a tree of spans, in the order they started.

    The header gives the run's status and why, the prompt (version and the first characters of its SHA-256), the
    model and the totals. Each model call shows its duration, tokens (input → output), finish reason and attempts;
    each tool call its arguments, result and outcome. Errors are red; retries, guards and security events are
    sub-nodes of the span they happened in. `--json` prints `{"run": ..., "spans": [...]}`.
    """
    trace = call(lambda: api.get_trace(db, run_id))
    if as_json:
        typer.echo(trace.model_dump_json(indent=2))
        return
    tree = trace_tree(trace)
    if not trace.spans:
        tree.add(Text("no spans recorded (the run may still be running, or it crashed)", style="yellow"))
    # soft_wrap=False: wrap long labels inside the tree; the shared console's soft wrap would crop them instead.
    console.print(tree, soft_wrap=False)


@app.command()
def stats(
    db: Db = DEFAULT_DB,
    as_json: AsJson = False,
    status: Status = None,
    agent: Agent = None,
    prompt_version: PromptVersion = None,
    since: Since = None,
) -> None:
    """Statistics over the runs that match: success and escalation rates, duration percentiles, tokens, retries,
    steps, and the error rate of each tool.

    **success rate** counts `completed` and `escalated` runs (a run still `started` counts as not successful);
    per-run figures are over finished runs; **steps per completion** is the mean number of answered model calls of
    successful runs.
    """
    from harness.reporting._format import num, pct

    result = call(lambda: api.trace_stats(db, status=status, agent=agent, prompt_version=prompt_version, since=since))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    table = Table("metric", "value", title=f"{result.runs} run(s) in {db}")
    statuses = ", ".join(f"{name} {count}" for name, count in result.status_counts.items())
    rows: list[tuple[str, str]] = [
        ("runs (finished)", f"{result.runs} ({result.finished_runs})"),
        ("statuses", statuses or "-"),
        ("success rate", pct(result.success_rate, dash="-")),
        ("escalation rate", pct(result.escalation_rate, dash="-")),
        ("duration p50 / p95 / p99", " / ".join(_duration(v) for v in _durations(result))),
        (
            "tokens per run: mean / p50",
            f"{num(result.tokens_per_run_mean, 1, dash='-')} / {num(result.tokens_per_run_p50, 1, dash='-')}",
        ),
        ("retries per run (mean)", num(result.retries_per_run_mean, 2, dash="-")),
        ("steps per completion (mean)", num(result.steps_per_completion_mean, 2, dash="-")),
        ("tool calls (errors)", f"{result.tool_calls} ({result.tool_errors}, {pct(result.tool_error_rate, dash='-')})"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table, soft_wrap=False)
    if result.tools:
        tools = Table("tool", "calls", "errors", "error rate", title="tool errors")
        for tool in result.tools:
            style = "red" if tool.errors else ""
            tools.add_row(
                tool.tool_name, str(tool.calls), Text(str(tool.errors), style=style), pct(tool.error_rate, dash="-")
            )
        console.print(tools, soft_wrap=False)


@app.command()
def export(
    run_id: RunId,
    db: Db = DEFAULT_DB,
    as_json: AsJson = False,
    format: Annotated[str, typer.Option("--format", help="Export format: otlp-json (OTLP/JSON).")] = "otlp-json",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export one run as OpenTelemetry (OTLP/JSON `ExportTraceServiceRequest`), for any collector.

    Without `--out` the document goes to stdout: `agenteval traces export 3f2a | curl -H 'Content-Type:
    application/json' --data-binary @- http://localhost:4318/v1/traces`.
    """
    document = call(lambda: api.export_trace(db, run_id, format))
    text = json.dumps(document, indent=2)
    if out is None:
        typer.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    if as_json:
        typer.echo(json.dumps({"out": str(out), "format": format, "spans": len(spans)}))
    else:
        console.print(f"Wrote {len(spans)} span(s) as {format} to {out}.")


# -- rendering -----------------------------------------------------------------------------------------------------


def _header(run: RunRecord) -> Group:
    from harness.reporting._format import short

    title = Text.assemble(("run ", "bold"), (run.run_id, "bold"), "  ", _status(run.status))
    if run.status_detail:
        title.append(f"  {run.status_detail}", style="dim")
    prompt = run.prompt_version or "-"
    if run.prompt_name:
        prompt = f"{run.prompt_name} {prompt}"
    if run.prompt_sha256:
        prompt += f" (sha {run.prompt_sha256[:8]})"
    lines: list[Text] = [
        title,
        Text(f"agent {run.agent_name} · prompt {prompt} · model {run.model} · mode {run.mode}"),
        Text(
            f"started {_local_time(run.start_ns)} · {_duration(run.duration_ms)} · steps {run.steps} · "
            f"llm calls {run.llm_calls} · retries {run.retries} · tool calls {run.tool_calls} "
            f"({run.tool_errors} failed) · tokens {run.input_tokens:,} → {run.output_tokens:,}"
        ),
        Text(f"input: {short(run.input, 160)}"),
    ]
    if run.output_text is not None:
        lines.append(Text(f"output: {short(run.output_text, 160)}"))
    if run.error_type or run.error_message:
        lines.append(Text(f"error: {run.error_type or ''} {run.error_message or ''}".strip(), style="red"))
    return Group(*lines)


def _span_node(parent: Tree, span: Span) -> Tree:
    from harness.reporting._format import short  # long tool results and prompts would drown the tree

    attrs = span.attributes
    duration_ms = (span.end_ns - span.start_ns) / 1e6
    label = Text.assemble((span.name, "bold"), f"  {_duration(duration_ms)}")
    if span.operation == "chat":
        label.append(f" · step {attrs.get('agenteval.step', '?')}")
        label.append(f" · tokens {attrs.get('gen_ai.usage.input_tokens', '?')} → ")
        label.append(f"{attrs.get('gen_ai.usage.output_tokens', '?')}")
        finish = attrs.get("gen_ai.response.finish_reasons")
        if finish:
            label.append(f" · finish {','.join(map(str, finish)) if isinstance(finish, list) else finish}")
        attempts = attrs.get("agenteval.attempts")
        if isinstance(attempts, int) and attempts > 1:
            label.append(f" · attempts {attempts}", style="yellow")
    elif span.operation == "execute_tool":
        arguments = attrs.get("gen_ai.tool.call.arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        label.append(f"\n{attrs.get('gen_ai.tool.name', '?')}({short(arguments, 100)})")
        result = attrs.get("gen_ai.tool.call.result")
        if result is not None:
            label.append(f" → {short(result if isinstance(result, str) else json.dumps(result), 100)}")
        outcome = attrs.get("agenteval.tool.outcome")
        if outcome is not None:
            label.append(f"  [{outcome}]", style=_OUTCOME_STYLE.get(str(outcome), "red"))
    if span.status_code == "ERROR":
        message = span.status_message or attrs.get("error.type") or "failed"
        label.append(f"\nerror: {short(str(message), 200)}", style="red")
    node = parent.add(label)
    for event in span.events:
        style = "red" if event.name == "exception" else "yellow"
        details = ", ".join(f"{key}={short(_plain(value), 80)}" for key, value in event.attributes.items())
        node.add(Text.assemble((event.name, style), f"  {details}" if details else ""))
    return node


def _status(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, "red"))


def _local_time(ns: int, seconds: bool = True) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _durations(result: TraceStats) -> tuple[float | None, float | None, float | None]:
    return result.duration_ms_p50, result.duration_ms_p95, result.duration_ms_p99


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _filtered(*filters: str | None) -> bool:
    return any(f is not None for f in filters)


def trace_tree(trace: RunTrace) -> Tree:
    """A run as a rich tree of its spans (shared by `traces show` and `replay`)."""
    tree = Tree(_header(trace.run))
    children: dict[str | None, list[Span]] = {}
    ids = {span.span_id for span in trace.spans}
    for span in trace.spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)

    def add(node: Tree, parent: str | None) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.seq):
            add(_span_node(node, span), span.span_id)

    add(tree, None)
    return tree
