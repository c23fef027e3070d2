"""Eval runs: one execution of cases × variants × epochs, and what it was run with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from harness.errors import ConfigError
from harness.models._base import Record
from harness.models.cases import DatasetRef, Variant

EvalRunStatus = Literal["running", "completed", "interrupted"]


class EvalRunRecord(Record):
    """The ``eval_runs`` row: written when an eval run starts, updated when it ends (or resumes)."""

    eval_run_id: str
    """Unique id (``agenteval run`` prints it; ``--resume`` and ``report`` take it)."""
    status: EvalRunStatus = "running"
    """``running`` until it ends; an interrupted run stays ``running`` until ``--resume`` finishes it."""
    started_ns: int
    """Start, Unix nanoseconds."""
    finished_ns: int | None = None
    """End, Unix nanoseconds."""
    agent: str
    """Agent under test (``support``, ``tool-calling``, ``recorded`` or ``module:function``)."""
    datasets: list[DatasetRef]
    """Datasets with their file hashes."""
    variants: list[Variant]
    """Variants run."""
    epochs: int = 1
    """Repetitions of every case × variant."""
    shard: str | None = None
    """``i/n`` when this is one shard of a larger eval run."""
    filters: list[str] = []
    """``--filter`` expressions applied."""
    limit: int | None = None
    """``--limit`` applied (cases per dataset)."""
    planned: int = 0
    """Runs planned (cases × variants × epochs after filters, limit and shard)."""
    git_commit: str | None = None
    """Commit of the project under test, when it is a git checkout."""
    git_dirty: bool | None = None
    """Whether the checkout had uncommitted changes."""
    concurrency: int = 1
    """Concurrency the run started with."""
    metadata: dict[str, Any] = {}
    """Anything else (agenteval version, command line)."""

    def check_variants(self, names: Sequence[str], hint: str = "") -> None:
        """Raise :class:`ConfigError` naming the variants this eval run did not run (``hint``: how to fix it)."""
        ran = [v.name for v in self.variants]
        unknown = [name for name in names if name not in ran]
        if unknown:
            raise ConfigError(
                f"Eval run {self.eval_run_id} has no variant {', '.join(unknown)}; it ran {', '.join(ran)}."
                + (f" {hint}" if hint else "")
            )
