"""``agenteval agent``: run the reference support agent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import typer
from rich.panel import Panel

from harness import api
from harness.cli._common import call, console

app = typer.Typer(
    help="The reference agent: an online shop's support desk with tools, guards and traced runs.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

_STATUS_STYLE = {"completed": "green", "escalated": "cyan", "started": "yellow"}


@app.command("run")
def run(
    message: str = typer.Argument(..., help='The customer\'s message, e.g. "Where is my order A1001?"'),
    prompt_version: str = typer.Option(
        "v1",
        "--prompt-version",
        "-p",
        envvar="AGENTEVAL_PROMPT_VERSION",
        help="Prompt version (a file under harness/agent/prompts/support/).",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        envvar="AGENTEVAL_BASE_URL",
        help="OpenAI-compatible endpoint. Default: an in-process scripted model (mockllm, scenario 'support'): "
        "no key, no network. Real endpoints read OPENAI_API_KEY.",
    ),
    model: str = typer.Option("mock-gpt", "--model", "-m", envvar="AGENTEVAL_MODEL", help="Model name."),
    seed: int | None = typer.Option(None, "--seed", help="Sampling seed sent with every model call."),
    approval: str = typer.Option(
        "none", "--approval", help="Refunds above the approval limit: none (stop awaiting_approval), approve, deny."
    ),
    db: Path = typer.Option(
        Path(".agenteval/traces.duckdb"),
        "--db",
        envvar="AGENTEVAL_DB",
        help="Trace store (DuckDB file) the run is recorded in.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
) -> None:
    """Run the reference support agent once and record the run in the trace store.

    Prints the answer, the run's status and its id; inspect it with `agenteval traces show RUN_ID`.
    """
    if approval not in ("none", "approve", "deny"):
        raise typer.BadParameter("use none, approve or deny", param_hint="--approval")
    policy: Literal["approve", "deny"] | None = None if approval == "none" else approval  # type: ignore[assignment]
    record = call(
        lambda: api.run_agent(
            message, prompt_version=prompt_version, base_url=base_url, model=model, seed=seed, approval=policy, db=db
        )
    )
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
        return
    answer = record.output_text or "(no answer)"
    if isinstance(record.output_data, dict) and "reply" in record.output_data:
        answer = str(record.output_data["reply"])
    elif record.status == "escalated":
        answer = f"Handed over to a human. {answer}"
    elif record.status == "awaiting_approval":
        pending = record.metadata.get("pending_approval", {})
        answer = f"Waiting for approval: {pending.get('tool')} {json.dumps(pending.get('arguments'))}"
    style = _STATUS_STYLE.get(record.status, "red")
    console.print(Panel(answer, title=f"support agent ({record.prompt_version})", expand=False), soft_wrap=False)
    console.print(
        f"status: [{style}]{record.status}[/]" + (f" — {record.status_detail}" if record.status_detail else "")
    )
    console.print(
        f"run id: {record.run_id}   steps: {record.steps}   tokens: {record.total_tokens}   "
        f"duration: {record.duration_ms or 0:.0f} ms"
    )
    console.print(f"inspect: agenteval traces show {record.run_id[:12]} --db {db}")
