"""``agenteval cassettes``: check recorded model traffic: secrets left in it, and whether it still replays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from harness import api
from harness.cli._common import EXIT_GATE_FAILED, call, console

app = typer.Typer(
    help=(
        "Cassettes are vcrpy YAML files of recorded HTTP traffic (`cassettes/`, one per dataset, variant, case and "
        "epoch) that replay model calls offline. Stock vcrpy files, gzip `!!binary` bodies and pydantic-ai's "
        "`parsed_body` dialect are all read.\n\n"
        "Before committing a cassette: `agenteval cassettes scan` finds API keys, bearer tokens, OpenAI organization "
        "and project ids and cookies; `agenteval cassettes scrub` removes them; `agenteval cassettes verify` "
        "replays every model call through the openai client with the network blocked.\n\n"
        "Examples: `agenteval cassettes scan`, `agenteval cassettes scan tests/cassettes --json`, "
        "`agenteval cassettes verify cassettes/support`."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of text.")]
Paths = Annotated[
    list[Path] | None,
    typer.Argument(help="Cassette files or folders (searched recursively for *.yaml, *.yml). Default: cassettes/."),
]


@app.command()
def scan(paths: Paths = None, as_json: AsJson = False) -> None:
    """Find secrets left in cassettes; exit 1 when there is one (a CI gate), 0 when they are clean.

    Reports **file:line kind excerpt**, the secret masked (never printed whole). Kinds: `api_key` (sk-…, AIza…,
    AKIA…), `bearer_token`, `jwt`, `credential` (any other `authorization` value), `organization` and `project`
    (`openai-organization`/`openai-project` headers, `org-…`/`proj_…` ids), `cookie` (`cookie`/`set-cookie` with
    values, Cloudflare `__cf_bm`). Placeholders such as `AUTHORIZATION-XXX`, `Bearer <redacted>` or `sk-...XXXX`
    are not secrets. Secrets inside gzip-compressed bodies are found too.

    Fix: `agenteval cassettes scrub PATH`, or record with the scrubbing hooks (`harness.replay.Scrubber`).
    """
    targets = list(paths or [])
    files = call(lambda: api.list_cassettes(targets))
    findings = call(lambda: api.scan_cassettes(files))
    if as_json:
        typer.echo(json.dumps([finding.model_dump(mode="json") for finding in findings], indent=2))
    elif not findings:
        console.print(f"no secrets in {len(files)} cassette(s).", markup=False)
    else:
        for finding in findings:
            console.print(f"{finding.path}:{finding.line} {finding.kind} {finding.excerpt}", markup=False)
        leaking = len({finding.path for finding in findings})
        console.print(
            f"\n{len(findings)} secret(s) in {leaking} of {len(files)} cassette(s). "
            "Remove them with `agenteval cassettes scrub` (then re-run this scan) before committing.",
            markup=False,
        )
    if findings:
        raise typer.Exit(EXIT_GATE_FAILED)


@app.command()
def scrub(paths: Paths = None, as_json: AsJson = False) -> None:
    """Remove secrets from cassettes, in place.

    Request and response headers (`authorization`, `api-key`, `openai-organization`, `openai-project` become
    `<redacted>`; `cookie`, `set-cookie` and request ids are dropped), URL keys, and every API key, bearer token,
    JWT, org/project id and session cookie in bodies (gzip bodies are decoded first). A file that changes is
    rewritten as stock vcrpy YAML, atomically; a clean file is left untouched. Running it twice changes nothing.
    """
    targets = list(paths or [])
    results = call(lambda: api.scrub_cassettes(targets))
    if as_json:
        typer.echo(json.dumps([result.model_dump(mode="json") for result in results], indent=2))
        return
    for result in results:
        state = "scrubbed" if result.changed else "clean, unchanged"
        console.print(f"{result.path}: {state} ({result.interactions} interactions)", markup=False)
    changed = sum(result.changed for result in results)
    console.print(f"{changed} of {len(results)} cassette(s) rewritten.", markup=False)


@app.command()
def verify(
    paths: Annotated[list[Path], typer.Argument(help="Cassette files or folders (searched recursively).")],
    as_json: AsJson = False,
) -> None:
    """Replay every recorded chat-completions and Responses-API call through the openai client, offline.

    Each recorded request body becomes the `create()` arguments (`stream` kept; streams are read to the end) and
    must match a recorded request on method, host, path and JSON body; the result must be a completion, a
    response, or a stream that finished. The network is blocked: a request the cassette cannot answer fails.
    Other endpoints (`/v1/traces/ingest`, ...) are **skipped**. Exit 1 when a file fails.

    Columns: **interactions** in the file, **replayed**, **skipped**, **status** (ok / failed, reasons below).
    """
    results = call(lambda: api.verify_cassettes(paths))
    if as_json:
        typer.echo(json.dumps([result.model_dump(mode="json") for result in results], indent=2))
    else:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        # The path is what users act on: fold it over lines rather than cut it with an ellipsis.
        table.add_column("cassette", overflow="fold")
        for header in ("interactions", "replayed", "skipped", "status"):
            table.add_column(header, justify="right", no_wrap=True)
        for result in results:
            status = Text(result.status, style="green" if result.status == "ok" else "red")
            table.add_row(
                Text(result.path), str(result.interactions), str(result.replayed), str(result.skipped), status
            )
        console.print(table, soft_wrap=False)
        for result in results:
            for failure in result.failures:
                console.print(Text(f"{result.path}: {failure}", style="red"))
        failed = sum(result.status == "failed" for result in results)
        console.print(f"{len(results) - failed} of {len(results)} cassette(s) replay.", markup=False)
    if any(result.status == "failed" for result in results):
        raise typer.Exit(EXIT_GATE_FAILED)


@app.command("from-trace")
def from_trace(
    run_id: str = typer.Argument(..., help="Run id (or its first characters) in the trace store."),
    db: Path = typer.Option(Path(".agenteval/traces.duckdb"), "--db", envvar="AGENTEVAL_DB", help="Trace store."),
    out: Path | None = typer.Option(None, "--out", help="Cassette to write (default cassettes/from-trace/RUN.yaml)."),
) -> None:
    """Write a cassette of a stored run's model calls, so that a production failure becomes an offline test.

    The trace keeps every model request and response (PII already redacted); the cassette is scrubbed of secrets
    and written atomically.
    """
    path = call(lambda: api.cassette_from_trace(run_id, db=db, out=out))
    console.print(f"wrote {path}")
