"""Eval runs in the store: their rows, the keys of finished runs (for ``--resume``), and merging shard files."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb

from harness.models.evals import EvalRunRecord
from harness.traces.errors import RunNotFoundError, TraceStoreError
from harness.traces.schema import SCHEMA_VERSION, current_version


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)

_COLUMNS = (
    "eval_run_id",
    "status",
    "started_ns",
    "finished_ns",
    "agent",
    "datasets",
    "variants",
    "epochs",
    "shard",
    "filters",
    '"limit"',
    "planned",
    "git_commit",
    "git_dirty",
    "concurrency",
    "metadata",
)
_UPSERT = f"INSERT OR REPLACE INTO eval_runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_TABLES = ("runs", "spans", "llm_calls", "tool_calls", "messages")


def write_eval_run(con: duckdb.DuckDBPyConnection, record: EvalRunRecord) -> None:
    """Insert or replace an eval run's row."""
    con.execute(
        _UPSERT,
        [
            record.eval_run_id,
            record.status,
            record.started_ns,
            record.finished_ns,
            record.agent,
            json.dumps([d.model_dump() for d in record.datasets]),
            json.dumps([v.model_dump() for v in record.variants]),
            record.epochs,
            record.shard,
            list(record.filters),
            record.limit,
            record.planned,
            record.git_commit,
            record.git_dirty,
            record.concurrency,
            json.dumps(record.metadata),
        ],
    )


def _from_row(row: tuple[Any, ...]) -> EvalRunRecord:
    names = [c.strip('"') for c in _COLUMNS]
    values = dict(zip(names, row, strict=True))
    for key in ("datasets", "variants", "metadata"):
        values[key] = json.loads(values[key]) if values[key] is not None else ([] if key != "metadata" else {})
    values["filters"] = values["filters"] or []
    return EvalRunRecord.model_validate(values)


def read_eval_run(con: duckdb.DuckDBPyConnection, prefix: str, path: Path) -> EvalRunRecord:
    """The eval run whose id is ``prefix`` or starts with it."""
    rows = con.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM eval_runs WHERE starts_with(eval_run_id, ?) "
        "ORDER BY eval_run_id = ? DESC, started_ns DESC LIMIT 6",
        [prefix, prefix],
    ).fetchall()
    if not rows:
        raise RunNotFoundError(
            f"No eval run id starts with '{prefix}' in {path}. Eval run ids are printed at the "
            "end of `agenteval run`; list them with `agenteval runs` (same --db)."
        )
    records = [_from_row(r) for r in rows]
    if len(records) > 1 and records[0].eval_run_id != prefix:
        shown = ", ".join(r.eval_run_id for r in records[:5])
        raise RunNotFoundError(f"Eval run id prefix '{prefix}' is ambiguous ({shown}). Give more characters.")
    return records[0]


def list_eval_runs(con: duckdb.DuckDBPyConnection, limit: int | None) -> list[EvalRunRecord]:
    """Eval runs, newest first."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM eval_runs ORDER BY started_ns DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_from_row(r) for r in con.execute(sql).fetchall()]


def finished_keys(con: duckdb.DuckDBPyConnection, eval_run_id: str) -> set[tuple[str, str, str, int]]:
    """(dataset, case id, variant, epoch) of the runs of an eval run that finished (any status but started)."""
    rows = con.execute(
        "SELECT dataset, case_id, variant, epoch FROM runs WHERE eval_run_id = ? AND status <> 'started'",
        [eval_run_id],
    ).fetchall()
    return {(str(d), str(c), str(v), int(e)) for d, c, v, e in rows}


def merge_files(con: duckdb.DuckDBPyConnection, shards: list[Path]) -> dict[str, int]:
    """Copy every run of each shard file into this store; runs already present (same run id) are skipped.

    Eval runs with the same id across shards become one row: planned counts add up, the shard label goes, and
    the status is ``completed`` only when every shard completed.
    """
    copied = dict.fromkeys(_TABLES, 0)
    for number, shard in enumerate(shards):
        if not shard.exists():
            raise TraceStoreError(f"Shard {shard} does not exist.")
        alias = f"shard{number}"
        con.execute(f"ATTACH '{shard}' AS {alias} (READ_ONLY)")
        try:
            version = con.execute(f"SELECT coalesce(max(version), 0) FROM {alias}.schema_migrations").fetchone()
            if not version or int(version[0]) != SCHEMA_VERSION or current_version(con) != SCHEMA_VERSION:
                raise TraceStoreError(
                    f"Shard {shard} has trace schema version {version[0] if version else 0}, this store "
                    f"{SCHEMA_VERSION}: open the shard once with this agenteval (e.g. `agenteval traces list --db "
                    f"{shard}`) to migrate it, then merge again."
                )
            con.execute("BEGIN TRANSACTION")
            # The new run ids are fixed before copying: once `runs` is copied, a "not in main.runs" test made per
            # table would find no new run for the spans and projections (the merged store had runs without spans).
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE merge_new_runs AS SELECT run_id FROM {alias}.runs "
                "WHERE run_id NOT IN (SELECT run_id FROM main.runs)"
            )
            for table in _TABLES:
                before = _count(con, table)
                con.execute(
                    f"INSERT INTO main.{table} SELECT * FROM {alias}.{table} "
                    "WHERE run_id IN (SELECT run_id FROM merge_new_runs)"
                )
                copied[table] += _count(con, table) - before
            before = _count(con, "scores")
            con.execute(
                f"INSERT INTO main.scores SELECT * FROM {alias}.scores "
                "WHERE score_id NOT IN (SELECT score_id FROM main.scores)"
            )
            copied["scores"] = copied.get("scores", 0) + _count(con, "scores") - before
            for record in [
                _from_row(r) for r in con.execute(f"SELECT {', '.join(_COLUMNS)} FROM {alias}.eval_runs").fetchall()
            ]:
                # A shard is known by its --shard label, else by its file (pytest-xdist workers' shards have none).
                label = record.shard or shard.name
                existing = con.execute(
                    "SELECT count(*) FROM main.eval_runs WHERE eval_run_id = ?", [record.eval_run_id]
                ).fetchone()
                if existing and existing[0]:
                    current = read_eval_run(con, record.eval_run_id, shard)
                    if label in current.metadata.get("merged_shards", []):
                        continue  # this shard was merged before: its runs were skipped above, keep the counts
                    record = current.model_copy(
                        update={
                            "planned": current.planned + record.planned,
                            "epochs": max(current.epochs, record.epochs),
                            "shard": None,
                            "status": "completed" if current.status == record.status == "completed" else "running",
                            "started_ns": min(current.started_ns, record.started_ns),
                            "finished_ns": max(current.finished_ns or 0, record.finished_ns or 0) or None,
                            # Shards of a pytest session each ran the datasets and variants their tests used.
                            "datasets": _union(current.datasets, record.datasets),
                            "variants": _union(current.variants, record.variants),
                            "agent": ", ".join(sorted({*current.agent.split(", "), *record.agent.split(", ")})),
                            "metadata": {
                                **current.metadata,
                                "merged_shards": [
                                    *current.metadata.get("merged_shards", [current.shard]),
                                    label,
                                ],
                            },
                        }
                    )
                else:
                    record = record.model_copy(
                        update={"shard": None, "metadata": {**record.metadata, "merged_shards": [label]}}
                    )
                write_eval_run(con, record)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # nothing to roll back when the failure came before BEGIN
                con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f"DETACH {alias}")
    return copied


def _union(first: list[T], second: list[T]) -> list[T]:
    """Items of both lists by name, the first list's first, in name order."""
    by_name = {item.name: item for item in second}
    by_name.update({item.name: item for item in first})
    return [by_name[name] for name in sorted(by_name)]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()
    return int(row[0]) if row else 0
