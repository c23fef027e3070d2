"""What every command shares: consoles, error rendering, exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError

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
