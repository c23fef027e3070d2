"""One exception tree for every mistake a user can make.

Each message says what is wrong, where (``file:line`` when there is a file) and how to fix it. The CLI turns a
:class:`HarnessError` into exit code 2 and prints only its message; no traceback, no locals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: a path, and a 1-based line when it is known."""

    path: Path | str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)


class HarnessError(Exception):
    """Base class of every user-facing error raised by agenteval."""


class ConfigError(HarnessError):
    """A setting, command-line argument or configuration file is invalid."""


class FileFormatError(HarnessError):
    """A file that agenteval reads (scenario, fault plan, dataset, rubric) is malformed.

    Attributes:
        problems: one line per problem, each starting with ``file:line``.
    """

    def __init__(self, summary: str, problems: list[str]) -> None:
        self.summary = summary
        self.problems = problems
        super().__init__("\n".join([summary, *(f"  {p}" for p in problems)]))


class ScenarioError(FileFormatError):
    """A mockllm scenario file is invalid."""


class FaultSpecError(HarnessError):
    """A fault-injection spec (inline, from a file, or from a request header) is invalid."""
