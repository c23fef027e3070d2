"""``agenteval datasets``: check, list and show eval datasets; import them from public benchmarks."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from harness import api
from harness.cli._common import EXIT_USAGE, console, err_console, user_errors
from harness.datasets import FILTER_HELP, DatasetError, filter_cases, load_dataset
from harness.models.cases import Case, Expected

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Eval datasets: files of cases under `datasets/`, one folder per agent. A dataset's name is its path under "
        "`datasets/` without suffix (`support/adversarial`).\n\n"
        "**YAML** (`.yaml`/`.yml`): optional `name`, `description`, `agent` (support, tool-calling, recorded or "
        "`module:function`), `source`, `license`, and `cases`:\n\n"
        "```yaml\n"
        "agent: support\n"
        "cases:\n"
        "  - id: refund-small\n"
        "    input: I want a refund for order A1001\n"
        "    tags: [representative, refunds]\n"
        "    expected:\n"
        "      status: completed\n"
        "      tool_calls: [{name: issue_refund, arguments: {order_id: A1001}}]\n"
        "      forbidden_calls: [{name: send_email, arguments: {to: '.*attacker.*'}}]\n"
        "```\n\n"
        "**JSONL** (`.jsonl`): one case per line, after an optional first line "
        '`{"dataset": {"agent": "support"}}`:\n\n'
        "```\n"
        '{"id": "refund-small", "input": "I want a refund for order A1001", "tags": ["refunds"]}\n'
        "```\n\n"
        "Every problem is reported as `file:line: where: what`, all at once: `agenteval datasets validate`."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

Root = Annotated[
    Path,
    typer.Option(
        "--root",
        envvar="AGENTEVAL_DATASETS_ROOT",
        help="The datasets folder: dataset names and default names are paths under it.",
        file_okay=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
DEFAULT_ROOT = Path("datasets")


class ImportKind(StrEnum):
    """Public benchmarks that ``agenteval datasets import`` converts."""

    agentdojo = "agentdojo"
    bfcl = "bfcl"
    garak = "garak"


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Dataset files, folders (searched recursively) or names. Default: the datasets folder."),
    ] = None,
    root: Root = DEFAULT_ROOT,
    as_json: AsJson = False,
) -> None:
    """Check dataset files: syntax, keys, types, ids, expectations, and tool names against the agent's tools.

    Prints `ok: NAME (N cases)` per valid file, or every problem of every file as `file:line: where: what. fix`
    and exits with code 2.

    Examples: `agenteval datasets validate`, `agenteval datasets validate datasets/support/adversarial.yaml`.
    """
    summaries = _call(lambda: api.validate_datasets(paths or [root], root=root))
    if as_json:
        typer.echo(json.dumps([summary.model_dump(mode="json") for summary in summaries], indent=2))
        return
    for summary in summaries:
        console.print(f"ok: {summary.name} ({_cases(summary.cases)})  {summary.path}", markup=False)
    console.print(f"{len(summaries)} dataset(s) valid.", markup=False)


@app.command("list")
def list_(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files, folders or names to list. Default: the datasets folder.")
    ] = None,
    root: Root = DEFAULT_ROOT,
    as_json: AsJson = False,
) -> None:
    """List datasets: name, agent under test, number of cases, most frequent tags, file.

    `--json` prints one summary per dataset (with every tag's count, the file's SHA-256, source and licence).
    """
    summaries = _call(lambda: api.list_datasets(paths or [root], root=root))
    if as_json:
        typer.echo(json.dumps([summary.model_dump(mode="json") for summary in summaries], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # Names are what users type next (`show NAME`): never cut them; the other columns give way.
    table.add_column("name", no_wrap=True, min_width=min(40, max((len(s.name) for s in summaries), default=4)))
    for header in ("agent", "cases", "top tags", "path"):
        table.add_column(header, justify="right" if header == "cases" else "left")
    for summary in summaries:
        tags = ", ".join(f"{tag} ({count})" for tag, count in list(summary.tags.items())[:3])
        cells = (summary.name, summary.agent, str(summary.cases), tags or "-", summary.path)
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table, soft_wrap=False)
    console.print(f"{len(summaries)} dataset(s). Show one with `agenteval datasets show NAME`.", markup=False)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Dataset name (e.g. support/adversarial) or file path.")],
    root: Root = DEFAULT_ROOT,
    filters: Annotated[list[str] | None, typer.Option("--filter", "-f", help=f"Only some cases: {FILTER_HELP}")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Show at most this many cases.")] = None,
    as_json: AsJson = False,
) -> None:
    """Show a dataset's cases: id, tags, input, and what is expected (status, tool calls, forbidden calls).

    `--json` prints the dataset (with the cases that the filters keep) as JSON, every field included.

    Examples: `agenteval datasets show support/adversarial -f tag:injection`, `agenteval datasets show x.jsonl --json`.
    """
    loaded = _call(lambda: api.show_dataset(name, root=root))
    cases = _call(lambda: filter_cases(loaded.dataset.cases, filters or [], limit))
    dataset = loaded.dataset.model_copy(update={"cases": cases})
    if as_json:
        typer.echo(dataset.model_dump_json(indent=2))
        return
    console.print(f"{dataset.name}  agent {dataset.agent}  {_cases(len(cases))}", style="bold", markup=False)
    facts = [str(loaded.path), f"sha256 {loaded.sha256[:12]}"]
    facts += [f"source {dataset.source}"] if dataset.source else []
    facts += [f"license {dataset.license}"] if dataset.license else []
    console.print(" · ".join(facts), markup=False)
    if dataset.description:
        console.print(dataset.description, markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True, min_width=min(40, max((len(case.id) for case in cases), default=2)))
    table.add_column("line", justify="right")
    for header in ("tags", "input", "expected"):
        table.add_column(header)
    for case in cases:
        line = str(loaded.case_lines.get(case.id, "-"))
        cells = (case.id, line, ", ".join(case.tags) or "-", _short(_input(case), 60), _expected(case.expected))
        # Text cells: user text such as "[bold]" must not be read as rich markup.
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table, soft_wrap=False)


@app.command("import")
def import_(
    kind: Annotated[ImportKind, typer.Argument(help="The benchmark the files come from.")],
    src: Annotated[Path, typer.Argument(help="The benchmark's file or folder, as downloaded.", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the datasets to, e.g. datasets/bfcl.")],
    root: Root = DEFAULT_ROOT,
    as_json: AsJson = False,
) -> None:
    """Convert a public benchmark (AgentDojo, BFCL, garak probes) into dataset files, keeping its licence.

    Prints each file written with its number of cases; check them with `agenteval datasets validate DIR`.

    Example: `agenteval datasets import bfcl ~/gorilla/berkeley-function-call-leaderboard/data --out datasets/bfcl`.
    """
    try:
        # Imported on use: the importers are optional machinery that the other commands never need.
        from harness.api._importers import import_datasets  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ModuleNotFoundError as exc:
        if exc.name != "harness.api._importers":
            raise
        err_console.print("error: dataset importers are not available in this version of agenteval.", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    written: list[Path] = _call(lambda: import_datasets(kind.value, src, out))
    loaded = _call(lambda: [load_dataset(file, root=root) for file in written])
    if as_json:
        rows = [
            {"path": str(item.path), "name": item.dataset.name, "cases": len(item.dataset.cases)} for item in loaded
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for item in loaded:
        console.print(f"wrote {item.path}: {item.dataset.name} ({_cases(len(item.dataset.cases))})", markup=False)
    total = sum(len(item.dataset.cases) for item in loaded)
    console.print(f"{len(loaded)} file(s), {_cases(total)} from {kind.value}.", markup=False)


# -- rendering -----------------------------------------------------------------------------------------------------


def _call(fn: Callable[[], T]) -> T:
    """Run ``fn``; a dataset error prints every problem on its own line (without rich markup: problems quote
    user text such as regexes, whose brackets would read as markup) and exits 2."""
    with user_errors():
        try:
            return fn()
        except DatasetError as exc:
            err_console.print(f"error: {exc.summary}", style="bold red", markup=False)
            for problem in exc.problems:
                err_console.print(f"  {problem}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None


def _cases(count: int) -> str:
    return f"{count} case" if count == 1 else f"{count} cases"


def _input(case: Case) -> str:
    if isinstance(case.input, str):
        return case.input
    count = len(case.input)
    return f"({count} message{'s' if count != 1 else ''}) {case.user_message}"


def _expected(expected: Expected) -> str:
    parts: list[str] = []
    if expected.status:
        parts.append("status " + "|".join(expected.status))
    if expected.tool_calls:
        parts.append("calls " + ", ".join(call.name for call in expected.tool_calls))
    if expected.no_tool_calls:
        parts.append("no tool calls")
    if expected.forbidden_calls:
        parts.append("forbidden " + ", ".join(call.name for call in expected.forbidden_calls))
    if expected.output_contains:
        parts.append(f"contains {len(expected.output_contains)}")
    return "; ".join(parts) or "-"


def _short(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
