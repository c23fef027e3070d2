"""The ``scores`` table: rows written by scoring passes, read back as records or a DataFrame.

Scores are only ever added: re-scoring an eval run writes new rows under a new ``scoring_id`` and keeps the old ones;
the ``latest_scores`` view keeps each run's newest row per scorer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb

from harness.models.scores import ScoreRecord
from harness.traces._rows import dumps

COLUMNS: tuple[str, ...] = tuple(ScoreRecord.model_fields)


def write_scores(con: duckdb.DuckDBPyConnection, records: Sequence[ScoreRecord]) -> None:
    """Append score rows in one batch."""
    if not records:
        return
    rows = [tuple(dumps(r.metadata) if name == "metadata" else getattr(r, name) for name in COLUMNS) for r in records]
    with con.appender("scores") as appender:
        appender.append_rows(rows)


def read_scores(
    con: duckdb.DuckDBPyConnection,
    *,
    eval_run_id: str | None = None,
    run_id: str | None = None,
    latest: bool = True,
) -> list[ScoreRecord]:
    """Score rows of an eval run or a run, newest row per (run, scorer) unless ``latest`` is False."""
    where, params = _where(eval_run_id, run_id)
    table = "latest_scores" if latest else "scores"
    rows = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {table}{where} ORDER BY run_id, created_ns, scorer", params
    ).fetchall()
    return [_record(row) for row in rows]


def _where(eval_run_id: str | None, run_id: str | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if eval_run_id is not None:
        clauses.append("eval_run_id = ?")
        params.append(eval_run_id)
    if run_id is not None:
        clauses.append("run_id = ?")
        params.append(run_id)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _record(row: Sequence[Any]) -> ScoreRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["metadata"] = json.loads(values["metadata"]) if values["metadata"] else {}
    return ScoreRecord.model_construct(**values)  # rows were validated when written
