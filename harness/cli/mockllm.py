"""``agenteval mockllm``: the scripted, OpenAI-compatible model server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from harness.cli._common import EXIT_USAGE, call, console, err_console
from harness.errors import ConfigError
from harness.mockllm import bundled_scenarios

if TYPE_CHECKING:
    from harness.mockllm import MockLLMServer
    from harness.mockllm._engine import HttpRequest, Planned

app = typer.Typer(
    help=(
        "The scripted model server: OpenAI-compatible, on loopback, no API key, no network. "
        "Point any OpenAI client at the base URL it prints."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

_FAULTS_HELP = (
    "Faults to inject: a YAML file, or inline KIND[:SECONDS][@SCHEDULE], comma-separated. Kinds: rate_limit (429), "
    "server_error (500), unavailable (503), bad_request (400), unauthorized (401), not_found (404), context_length, "
    "timeout, drop, truncate, malformed_json, bad_tool_args. Schedules: always, 'every N', 'first N', 'P%', "
    "'P% seed S'. Example: '429:0.5@every 3, drop@10%'. A request can also ask for one with the x-mockllm-fault header."
)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="AGENTEVAL_MOCKLLM_HOST", help="Interface to listen on."),
    port: int = typer.Option(8765, envvar="AGENTEVAL_MOCKLLM_PORT", help="Port to listen on; 0 picks a free one."),
    scenario: str = typer.Option(
        "default",
        envvar="AGENTEVAL_MOCKLLM_SCENARIO",
        help=f"Scenario YAML file, or a bundled scenario ({', '.join(bundled_scenarios())}).",
    ),
    faults: str = typer.Option("", envvar="AGENTEVAL_MOCKLLM_FAULTS", help=_FAULTS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not log each request."),
) -> None:
    """Serve the scripted model until interrupted (Ctrl+C).

    Prints the base URL first, e.g. `http://127.0.0.1:8765/v1`; use it as `OPENAI_BASE_URL` with any API key.
    Serves `POST /v1/chat/completions` (plain and streaming) and `GET /v1/models`.
    """

    from harness.mockllm import MockLLMServer

    def build() -> MockLLMServer:
        try:
            return MockLLMServer(scenario, faults or None, host=host, port=port, on_request=None if quiet else _log)
        except OSError as exc:
            raise ConfigError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Pick another --port (0 = any free port)."
            ) from None

    server = call(build)
    console.print(f"mockllm listening on [bold]{server.base_url}[/]", markup=True)
    console.print(f"scenario: {server.scenario.name} ({len(server.scenario.rules)} rules)")
    for fault in server.engine.plan.faults:
        console.print(f"fault: {fault.describe()}")
    console.print("Press Ctrl+C to stop.")
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        err_console.print("mockllm stopped.")


def _log(request: HttpRequest, planned: Planned) -> None:
    note = f" rule={planned.rule}" if planned.rule else ""
    if planned.fault:
        note += f" fault={planned.fault}"
    stamp = time.strftime("%H:%M:%S")
    typer.echo(
        f"{stamp} {request.method} {request.path} -> {planned.status if planned.action != 'drop' else 'dropped'}{note}"
    )


@app.command()
def check(
    scenario: Path = typer.Argument(..., help="Scenario YAML file to validate."),
    faults: str = typer.Option("", help="Fault spec or fault YAML file to validate with it."),
) -> None:
    """Validate a scenario (and optionally a fault spec) without starting a server.

    Prints every problem with `file:line` and exits 2 when there is one.
    """
    from harness.mockllm import load_scenario, resolve_faults

    loaded = call(lambda: load_scenario(scenario))
    plan = call(lambda: resolve_faults(faults or None))
    console.print(
        f"{scenario}: scenario '{loaded.name}' is valid: {len(loaded.rules)} rules, "
        f"{len(loaded.models)} models, fallback {'set' if loaded.fallback else 'none (unmatched = 400)'}."
    )
    for fault in [*loaded.faults, *plan]:
        console.print(f"fault: {fault.describe()}")
    if not loaded.rules and loaded.fallback is None:
        err_console.print("error: the scenario has no rules and no fallback; every request would fail.")
        raise typer.Exit(EXIT_USAGE)
