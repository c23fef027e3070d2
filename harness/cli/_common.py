"""What every command shares: consoles, error rendering, exit codes, comma-separated names, the progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.runner.execute import Progress as RunProgress
    from harness.runner.execute import ProgressCallback

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2

# soft_wrap: paths and file:line locations must stay on one line, whatever the terminal width.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a :class:`HarnessError` into its message on stderr and exit code 2 (no traceback, no locals)."""
    try:
        yield
    except HarnessError as exc:
        # The message is user text (paths, YAML, "[tool.agenteval]"): escape it so rich shows it as written.
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None


def call(fn: Callable[[], T]) -> T:
    """Run ``fn`` and render user errors the house way."""
    with user_errors():
        return fn()


def split_names(text: str) -> list[str]:
    """Comma-separated names (``--variants v1, v2``) as a list, blanks dropped."""
    return [name.strip() for name in text.split(",") if name.strip()]


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr (runs done, ETA, tokens, cost, concurrency), or nothing."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("runs", total=None, info="")

    def update(progress: RunProgress) -> None:
        info = (
            f"tokens {progress.input_tokens + progress.output_tokens:,}  ${progress.cost_usd:.4f}  "
            f"concurrency {progress.concurrency}"
        )
        failed = sum(n for s, n in progress.statuses.items() if s in ("error", "timeout", "model_error"))
        if failed:
            info += f"  [red]{failed} failed[/]"
        bar.update(task, total=progress.total, completed=progress.done, info=info)

    with bar:
        yield update
