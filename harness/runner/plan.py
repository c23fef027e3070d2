"""What an eval run executes: cases × variants × epochs, with stable run ids, paired seeds and shards."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.models.cases import Case, Variant


@dataclass(frozen=True)
class PlannedRun:
    """One execution to make."""

    dataset: str
    case: Case
    variant: Variant
    epoch: int
    run_id: str
    seed: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(dataset, case id, variant, epoch): what identifies the run within its eval run."""
        return (self.dataset, self.case.id, self.variant.name, self.epoch)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def run_id_for(eval_run_id: str, dataset: str, case_id: str, variant: str, epoch: int) -> str:
    """Run ids are derived, not random: a resumed eval run re-runs a missing case under the same id, so the store
    ends with exactly one run per case × variant × epoch."""
    return _digest(eval_run_id, dataset, case_id, variant, epoch)[:32]


def seed_for(dataset: str, case_id: str, epoch: int) -> int:
    """The sampling seed of a case in an epoch: the same for every variant, so variants are compared on paired
    draws, and different per epoch, so epochs vary like reruns do."""
    return int(_digest(dataset, case_id, epoch)[:8], 16)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` → (2, 4); raise ConfigError with the expected form otherwise."""
    if text is None:
        return None
    try:
        index, total = (int(part) for part in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard {text!r}: write I/N, e.g. 1/4 for the first of four shards.") from None
    if not 1 <= index <= total:
        raise ConfigError(f"--shard {text!r}: I must be between 1 and N.")
    return index, total


def in_shard(dataset: str, case_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether a case belongs to a shard (all variants and epochs of a case stay together)."""
    if shard is None:
        return True
    index, total = shard
    return int(_digest(dataset, case_id)[:8], 16) % total == index - 1


def new_eval_run_id(fingerprint: dict[str, object] | None = None) -> str:
    """A fresh id, or, for shards, one derived from what was run so that every CI job of a sharded eval run
    computes the same id without talking to the others."""
    if fingerprint is None:
        return uuid.uuid4().hex
    return _digest(json.dumps(fingerprint, sort_keys=True, default=str))[:32]


def plan_runs(
    eval_run_id: str,
    datasets: list[tuple[str, list[Case]]],
    variants: list[Variant],
    epochs: int,
    shard: tuple[int, int] | None = None,
) -> list[PlannedRun]:
    """Every run of an eval run, case-major (all variants of a case next to each other)."""
    runs: list[PlannedRun] = []
    for epoch in range(1, epochs + 1):
        for name, cases in datasets:
            for case in cases:
                if not in_shard(name, case.id, shard):
                    continue
                for variant in variants:
                    runs.append(
                        PlannedRun(
                            name,
                            case,
                            variant,
                            epoch,
                            run_id_for(eval_run_id, name, case.id, variant.name, epoch),
                            seed_for(name, case.id, epoch),
                        )
                    )
    return runs
