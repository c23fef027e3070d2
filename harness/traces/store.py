"""The DuckDB trace store: one file, batched writes, readers that return records and DataFrames.

DuckDB lets one process open a file for writing, or many for reading, never both (notes replay-and-traces.md,
section 3.6). So the store opens, writes and closes the file for every operation by default, and another process
(``agenteval traces list`` while an eval runs) can read between two writes. ``with store.session():`` keeps one
connection for a batch of operations instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import duckdb

from harness.models.evals import EvalRunRecord
from harness.models.scores import ScoreRecord
from harness.models.traces import RunRecord, RunTrace, Span
from harness.traces import _eval_runs, _scores
from harness.traces._projection import project
from harness.traces._rows import RunRow, append_rows, run_from_row, run_row, span_from_row, span_rows

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs
from harness.traces.errors import (
    NoTracesError,
    RunNotFoundError,
    SchemaVersionError,
    TraceStoreError,
    TraceStoreLockedError,
)
from harness.traces.filters import RunFilter
from harness.traces.schema import SCHEMA_VERSION, current_version, migrate

DEFAULT_DB_PATH = Path(".agenteval/traces.duckdb")
"""Where traces go unless ``--db`` / ``AGENTEVAL_DB`` say otherwise."""

_TABLES_BY_RUN = ("spans", "llm_calls", "tool_calls", "messages", "runs")
_FEW_RUNS = 8
_INSERT_RUN = f"INSERT INTO runs ({', '.join(RunRow._fields)}) VALUES ({', '.join('?' * len(RunRow._fields))})"
_RECORD_HINT = 'Record one with `agenteval agent run "..."`.'


class RunFilterArgs(TypedDict, total=False):
    """Keyword filters on runs accepted by the readers (see :class:`~harness.traces.filters.RunFilter`)."""

    status: str | None
    agent: str | None
    prompt_version: str | None
    since_ns: int | None
    until_ns: int | None


class TraceStore:
    """Runs and spans in one DuckDB file. Not thread-safe: use one store object per thread.

    Args:
        path: The DuckDB file; its parent directories are created on the first write.
    """

    def __init__(self, path: str | Path = DEFAULT_DB_PATH) -> None:
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._migrated = False

    def __repr__(self) -> str:
        return f"TraceStore({str(self.path)!r})"

    # -- connections -----------------------------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[TraceStore]:
        """Hold one read-write connection for every operation inside the block (batch writers, importers).

        While the block runs, other processes cannot open the file (they get :class:`TraceStoreLockedError`).
        """
        if self._con is not None:  # nested: the outer session owns the connection
            yield self
            return
        self._con = self._open_for_writing()
        try:
            yield self
        finally:
            con, self._con = self._con, None
            con.close()

    @contextmanager
    def kept_open(self) -> Iterator[TraceStore]:
        """Keep the database open in this process for the block, without sharing a connection.

        Every connection opened meanwhile, from any thread, attaches to the open database instead of loading it
        again (about 1 ms instead of 18), and the checkpoint DuckDB makes when the last connection to a file closes
        happens once, at the end of the block, instead of after every write. For a sequence of operations that
        each open their own connection (an eval run: its record, the writer thread, the record again, scoring).
        """
        keeper = self._open_for_writing()
        try:
            yield self
        finally:
            keeper.close()

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is not None:
            yield self._con
            return
        con = self._open_for_writing() if write else self._open_for_reading()
        try:
            yield con
        finally:
            con.close()

    def _open_for_writing(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect(read_only=False)
        try:
            if not self._migrated:
                self._check_not_newer(con)
                migrate(con)
                self._migrated = True
        except BaseException:
            con.close()
            raise
        return con

    def _open_for_reading(self) -> duckdb.DuckDBPyConnection:
        if not self.path.exists():
            raise NoTracesError(f"No traces yet: {self.path} does not exist. {_RECORD_HINT}")
        con = self._connect(read_only=True)
        version = current_version(con)
        if version == SCHEMA_VERSION:
            return con
        con.close()
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(self._newer_message(version))
        # An older file is migrated in place once; then it is read like any other.
        return self._open_for_writing()

    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.ConnectionException:
            # This process already has the file open read-write (another TraceStore's session): share that.
            return duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                holder = re.search(r"\(PID (\d+)\)", str(exc))
                who = f"process {holder.group(1)}" if holder else "another process"
                raise TraceStoreLockedError(
                    f"The trace store {self.path} is in use by {who}: DuckDB lets one process at a time write "
                    "a file, and no other process read it meanwhile. Wait for that process (an agent run, an "
                    "eval, a pytest session) to finish, or use another file with --db PATH (or AGENTEVAL_DB)."
                ) from None
            raise TraceStoreError(f"Cannot open the trace store {self.path}: {exc}") from None
        except duckdb.Error as exc:
            raise TraceStoreError(
                f"Cannot open the trace store {self.path}: {exc}. Is it a DuckDB file written by agenteval?"
            ) from None

    def _check_not_newer(self, con: duckdb.DuckDBPyConnection) -> None:
        version = current_version(con)
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(self._newer_message(version))

    def _newer_message(self, version: int) -> str:
        return (
            f"{self.path} has trace schema version {version}, newer than this agenteval knows "
            f"({SCHEMA_VERSION}). Upgrade agenteval, or use another file with --db PATH."
        )

    # -- writers ---------------------------------------------------------------------------------------------------

    def begin_run(self, run: RunRecord) -> None:
        """Record that a run started, and commit at once: a run that crashes later stays visible as ``started``.

        Writing the same run id again replaces the run and drops its spans (a run id is one execution).
        """
        self._replace([run.model_copy(update={"status": "started"})], [])

    def write_trace(self, trace: RunTrace) -> None:
        """Write a finished run and its spans, replacing whatever the store had for that run id."""
        self.write_traces([trace])

    def write_traces(self, traces: Sequence[RunTrace]) -> None:
        """Write runs and their spans in one transaction, replacing earlier rows of the same run ids.

        Spans are appended as one DataFrame (row-at-a-time inserts are about 300 times slower in DuckDB), and so
        are the runs rows of a large batch; the typed tables (``llm_calls``, ``tool_calls``, ``messages``) are then
        projected from the stored spans by one ``INSERT ... SELECT`` each, in the same transaction. Each call pays
        a fixed cost of some tens of milliseconds: batch short runs, or hold a :meth:`session`.

        Raises:
            ValueError: A span belongs to another run than the trace that carries it.
        """
        by_id = {trace.run.run_id: trace for trace in traces}  # the last trace of a run id wins
        spans: list[Span] = []
        for trace in by_id.values():
            for span in trace.spans:
                if span.run_id != trace.run.run_id:
                    raise ValueError(f"span {span.span_id} has run_id {span.run_id}, not {trace.run.run_id}")
            spans.extend(trace.spans)
        self._replace([trace.run for trace in by_id.values()], spans)

    def _replace(self, runs: list[RunRecord], spans: list[Span]) -> None:
        if not runs:
            return
        run_rows = [run_row(run) for run in runs]
        rows = span_rows(spans) if spans else []
        run_ids = [run.run_id for run in runs]
        with self._connection(write=True) as con, _transaction(con):
            # The runs primary key answers this from its index; the span tables are scanned only when needed.
            existing = con.execute(
                "SELECT run_id, status FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [run_ids]
            ).fetchall()
            if existing:
                con.execute(
                    "DELETE FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [[row[0] for row in existing]]
                )
            # A run still 'started' has no spans yet: only finished runs need the (scanning) deletes below.
            finished = [row[0] for row in existing if row[1] != "started"]
            if finished:
                for table in _TABLES_BY_RUN:
                    if table != "runs":
                        con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [finished])
            if len(run_rows) > _FEW_RUNS:
                append_rows(con, "runs", run_rows)
            else:
                # A few rows (begin_run, one finished run): plain INSERTs cost the least.
                for row in run_rows:
                    con.execute(_INSERT_RUN, list(row))
            if rows:
                append_rows(con, "spans", rows)
                project(con, run_ids, {span.operation for span in spans})

    def begin_runs(self, runs: Sequence[RunRecord]) -> None:
        """Record many runs as ``started`` in one transaction (the eval runner, before launching a batch)."""
        self._replace([run.model_copy(update={"status": "started"}) for run in runs], [])

    # -- eval runs -------------------------------------------------------------------------------------------------

    def write_eval_run(self, record: EvalRunRecord) -> None:
        """Insert or replace an eval run's row (written when it starts, rewritten when it ends)."""
        with self._connection(write=True) as con:
            _eval_runs.write_eval_run(con, record)

    def get_eval_run(self, eval_run_id: str) -> EvalRunRecord:
        """The eval run whose id is ``eval_run_id`` or starts with it."""
        with self._connection(write=False) as con:
            return _eval_runs.read_eval_run(con, eval_run_id.strip(), self.path)

    def list_eval_runs(self, limit: int | None = 20) -> list[EvalRunRecord]:
        """Eval runs, newest first."""
        with self._connection(write=False) as con:
            return _eval_runs.list_eval_runs(con, limit)

    def finished_keys(self, eval_run_id: str) -> set[tuple[str, str, str, int]]:
        """(dataset, case id, variant, epoch) of an eval run's finished runs: what ``--resume`` skips."""
        with self._connection(write=False) as con:
            return _eval_runs.finished_keys(con, eval_run_id)

    def merge(self, shards: Sequence[str | Path]) -> dict[str, int]:
        """Copy the runs of shard files (``agenteval run --shard i/n --db shard-i.duckdb``) into this store."""
        with self._connection(write=True) as con:
            return _eval_runs.merge_files(con, [Path(s) for s in shards])

    # -- scores ----------------------------------------------------------------------------------------------------

    def write_scores(self, records: Sequence[ScoreRecord]) -> None:
        """Append score rows (re-scoring adds rows; old ones stay)."""
        with self._connection(write=True) as con:
            _scores.write_scores(con, records)

    def get_scores(
        self, *, eval_run_id: str | None = None, run_id: str | None = None, latest: bool = True
    ) -> list[ScoreRecord]:
        """Scores of an eval run or of a run: the newest row per (run, scorer), or every row."""
        with self._connection(write=False) as con:
            return _scores.read_scores(con, eval_run_id=eval_run_id, run_id=run_id, latest=latest)

    def scores_frame(self, eval_run_id: str | None = None, *, latest: bool = True) -> pd.DataFrame:
        """Score rows (of an eval run, or all) as a DataFrame: the hand-off to reports."""
        table = "latest_scores" if latest else "scores"
        if eval_run_id is None:
            return self._frame(f"SELECT * FROM {table} ORDER BY run_id, scorer", [])
        return self._frame(f"SELECT * FROM {table} WHERE eval_run_id = ? ORDER BY run_id, scorer", [eval_run_id])

    def eval_run_frames(self, eval_run_id: str) -> dict[str, pd.DataFrame]:
        """What reports need of an eval run, as DataFrames: ``runs`` (finished runs), ``scores`` (latest per run and
        scorer) and ``tool_calls`` (run, tool, is_error)."""
        sql = {
            "runs": "SELECT run_id, dataset, case_id, variant, epoch, status, tags, model, start_ns, end_ns, steps, "
            "input_tokens, output_tokens, retries FROM runs WHERE eval_run_id = ? AND status <> 'started' "
            "ORDER BY dataset, case_id, variant, epoch",
            "scores": "SELECT run_id, scorer, source, passed, value, label, explanation, error_type "
            "FROM latest_scores WHERE eval_run_id = ? ORDER BY run_id, created_ns, scorer",
            "tool_calls": "SELECT t.run_id, t.tool_name, t.is_error FROM tool_calls t JOIN runs r USING (run_id) "
            "WHERE r.eval_run_id = ?",
        }
        return {name: self._frame(query, [eval_run_id]) for name, query in sql.items()}

    def eval_run_outputs(self, eval_run_id: str) -> dict[str, str | None]:
        """Run id -> final answer (``output_text``) of an eval run's runs, from the ``runs`` table alone (no spans)."""
        with self._connection(write=False) as con:
            rows = con.execute("SELECT run_id, output_text FROM runs WHERE eval_run_id = ?", [eval_run_id]).fetchall()
        return dict(rows)

    def get_traces(self, run_ids: Sequence[str]) -> dict[str, RunTrace]:
        """Several runs (exact ids) with their spans, read in two queries on one connection; missing ids are left
        out."""
        if not run_ids:
            return {}
        ids = list(dict.fromkeys(run_ids))
        with self._connection(write=False) as con:
            runs = [
                run_from_row(row)
                for row in con.execute("SELECT * FROM runs WHERE run_id IN (SELECT unnest(?))", [ids]).fetchall()
            ]
            spans: dict[str, list[Span]] = {run.run_id: [] for run in runs}
            for row in con.execute(
                "SELECT * FROM spans WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, seq", [ids]
            ).fetchall():
                span = span_from_row(row)
                spans[span.run_id].append(span)
        return {run.run_id: RunTrace.model_construct(run=run, spans=spans[run.run_id]) for run in runs}

    def eval_run_traces(self, eval_run_id: str) -> list[RunTrace]:
        """Every run of an eval run with its spans, in (dataset, case, variant, epoch) order."""
        with self._connection(write=False) as con:
            runs = [
                run_from_row(row)
                for row in con.execute(
                    "SELECT * FROM runs WHERE eval_run_id = ? ORDER BY dataset, case_id, variant, epoch, run_id",
                    [eval_run_id],
                ).fetchall()
            ]
            spans: dict[str, list[Span]] = {run.run_id: [] for run in runs}
            for row in con.execute(
                "SELECT s.* FROM spans s JOIN runs r USING (run_id) WHERE r.eval_run_id = ? ORDER BY s.run_id, s.seq",
                [eval_run_id],
            ).fetchall():
                span = span_from_row(row)
                spans[span.run_id].append(span)
        return [RunTrace.model_construct(run=run, spans=spans[run.run_id]) for run in runs]

    # -- readers ---------------------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema version of the file (after migrating it, if it was older)."""
        with self._connection(write=False) as con:
            return current_version(con)

    def resolve_run_id(self, prefix: str) -> str:
        """Return the one run id that starts with ``prefix`` (a full id always matches itself).

        Raises:
            RunNotFoundError: No run, or several runs, match.
        """
        return self.get_run(prefix).run_id

    def get_run(self, run_id: str) -> RunRecord:
        """The run whose id is ``run_id`` or starts with it (like a git commit prefix).

        Raises:
            RunNotFoundError: No run, or several runs, match; the message says what to do.
            NoTracesError: The store file does not exist.
        """
        prefix = run_id.strip()
        if not prefix:
            raise RunNotFoundError("Give a run id (or its first characters). List runs with `agenteval traces list`.")
        with self._connection(write=False) as con:
            rows = con.execute(
                "SELECT * FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id = ? DESC, start_ns DESC LIMIT 6",
                [prefix, prefix],
            ).fetchall()
        runs = [run_from_row(row) for row in rows]
        if runs and (len(runs) == 1 or runs[0].run_id == prefix):
            return runs[0]
        if not runs:
            raise RunNotFoundError(
                f"No run id starts with '{prefix}' in {self.path}. "
                "List the runs with `agenteval traces list` (with the same --db), then copy an id."
            )
        shown = "; ".join(f"{run.run_id} ({run.agent_name}, {run.status})" for run in runs[:5])
        more = " and more" if len(runs) > 5 else ""
        raise RunNotFoundError(
            f"Run id prefix '{prefix}' is ambiguous: it matches {shown}{more}. Give more characters of the id."
        )

    def list_runs(self, *, limit: int | None = 50, **filters: Unpack[RunFilterArgs]) -> list[RunRecord]:
        """Runs matching the filters, newest first.

        Args:
            limit: At most this many runs (``None``: all).
            **filters: ``status``, ``agent``, ``prompt_version``, ``since_ns``, ``until_ns`` (on the start time).
        """
        where, params = RunFilter(**filters).where()
        sql = f"SELECT * FROM runs WHERE {where} ORDER BY start_ns DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connection(write=False) as con:
            return [run_from_row(row) for row in con.execute(sql, params).fetchall()]

    def get_spans(self, run_id: str) -> list[Span]:
        """Every span of the run with exactly this id, in ``seq`` order (empty when it has none)."""
        with self._connection(write=False) as con:
            rows = con.execute("SELECT * FROM spans WHERE run_id = ? ORDER BY seq", [run_id]).fetchall()
        return [span_from_row(row) for row in rows]

    def get_trace(self, run_id: str) -> RunTrace:
        """The run (id or unique prefix) with all its spans."""
        run = self.get_run(run_id)
        return RunTrace(run=run, spans=self.get_spans(run.run_id))

    def runs_frame(self, **filters: Unpack[RunFilterArgs]) -> pd.DataFrame:
        """The ``runs`` rows matching the filters as a DataFrame, oldest first."""
        where, params = RunFilter(**filters).where()
        return self._frame(f"SELECT * FROM runs WHERE {where} ORDER BY start_ns, run_id", params)

    def llm_calls_frame(self, run_id: str | None = None, **filters: Unpack[RunFilterArgs]) -> pd.DataFrame:
        """The ``llm_calls`` rows of one run (exact id) or of the runs matching the filters."""
        return self._projection_frame("llm_calls", run_id, RunFilter(**filters))

    def tool_calls_frame(self, run_id: str | None = None, **filters: Unpack[RunFilterArgs]) -> pd.DataFrame:
        """The ``tool_calls`` rows of one run (exact id) or of the runs matching the filters."""
        return self._projection_frame("tool_calls", run_id, RunFilter(**filters))

    def messages_frame(self, run_id: str | None = None, **filters: Unpack[RunFilterArgs]) -> pd.DataFrame:
        """The ``messages`` rows of one run (exact id) or of the runs matching the filters."""
        return self._projection_frame("messages", run_id, RunFilter(**filters))

    def _projection_frame(self, table: str, run_id: str | None, run_filter: RunFilter) -> pd.DataFrame:
        where, params = run_filter.where("r.")
        if run_id is not None:
            where += " AND r.run_id = ?"
            params.append(run_id)
        if table == "messages":  # messages carry no seq: order them by their chat span's
            join = "JOIN spans s ON s.run_id = t.run_id AND s.span_id = t.span_id"
            order = "t.run_id, s.seq, t.direction, t.msg_index, t.part_index"
        else:
            join, order = "", "t.run_id, t.seq"
        sql = f"SELECT t.* FROM {table} t JOIN runs r ON r.run_id = t.run_id {join} WHERE {where} ORDER BY {order}"
        return self._frame(sql, params)

    def _frame(self, sql: str, params: list[Any]) -> pd.DataFrame:
        with self._connection(write=False) as con:
            return con.execute(sql, params).df()


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
