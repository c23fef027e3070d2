"""Text formatting shared by the reports (Markdown, HTML, comparisons) and the terminal views of the CLI.

Missing values print as a dash: an em dash in reports, ``dash="-"`` where a view prints a hyphen instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

DASH = "—"
RESERVE = 200
"""Characters :func:`fit` keeps free for the caller's "… N more" line."""


def pct(value: float | None, *, dash: str = DASH) -> str:
    """A share as a percentage (``0.5`` -> ``50.0%``), or a dash."""
    return dash if value is None else f"{value:.1%}"


def delta(value: float | None, *, dash: str = DASH) -> str:
    """A change of a share as signed percentage points (``-0.05`` -> ``-5.0%``), or a dash."""
    return dash if value is None else f"{value:+.1%}"


def num(value: float | None, digits: int = 0, *, dash: str = DASH) -> str:
    """A number with thousands separators and ``digits`` decimals, or a dash."""
    return dash if value is None else f"{value:,.{digits}f}"


def short(text: str | None, limit: int = 160) -> str:
    """One line (whitespace runs collapsed to a space), shortened to ``limit`` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def code(text: str | None, limit: int = 200) -> str:
    """Untrusted text as a Markdown inline code span: one line, no backticks or pipes, shortened (empty: nothing)."""
    flat = short(text, limit).replace("`", "'").replace("|", "¦")
    return f"`{flat}`" if flat else ""


def fit(items: Sequence[T], line: Callable[[T], str], budget: int, overhead: int) -> tuple[list[str], int]:
    """The lines of the first ``items`` that fit in ``budget`` characters, each line with its newline, after
    ``overhead`` characters shown anyway and :data:`RESERVE` for the caller's "… N more" line; and how many items were
    left out.

    Stops at the first line that does not fit (later, shorter ones are not tried): ``items`` come in order of
    importance. Lines of the items left out are not made.
    """
    kept: list[str] = []
    used = overhead + RESERVE
    for item in items:
        text = line(item)
        if used + len(text) + 1 > budget:
            break
        kept.append(text)
        used += len(text) + 1
    return kept, len(items) - len(kept)
