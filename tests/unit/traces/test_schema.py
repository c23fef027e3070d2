from __future__ import annotations

import duckdb
import pytest

from harness.models.traces import RunRecord
from harness.traces import MIGRATIONS, SCHEMA_VERSION, Migration, SchemaVersionError, TraceStore
from harness.traces._rows import RunRow, SpanRow
from harness.traces.schema import current_version, migrate
from tests.unit.traces.factories import make_run


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()
    return [row[0] for row in rows]


def test_migrations_are_consecutive_from_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[-1].version == SCHEMA_VERSION


def test_first_open_migrates_once_and_reopening_is_a_no_op(store: TraceStore) -> None:
    store.begin_run(make_run("r1"))
    assert store.path.exists()  # parent directories were created
    assert store.schema_version() == SCHEMA_VERSION
    con = duckdb.connect(str(store.path))
    try:
        assert migrate(con) == []  # nothing pending
        rows = con.execute("SELECT version, description, applied_ns FROM schema_migrations").fetchall()
    finally:
        con.close()
    assert [row[0] for row in rows] == [m.version for m in MIGRATIONS]
    assert all(row[1] and row[2] > 0 for row in rows)
    # A second store object on the same file does not migrate again or lose data.
    assert TraceStore(store.path).get_run("r1").run_id == "r1"


def test_pending_migrations_apply_in_order_each_in_a_transaction() -> None:
    con = duckdb.connect()
    second, third = SCHEMA_VERSION + 1, SCHEMA_VERSION + 2
    extra = (
        Migration(third, "third", "ALTER TABLE notes ADD COLUMN body VARCHAR"),
        Migration(second, "second", "CREATE TABLE notes (id INTEGER)"),
    )
    assert migrate(con, MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))
    # Given out of order, the lower version still runs first (the higher needs the table it creates).
    assert migrate(con, MIGRATIONS + extra) == [second, third]
    assert _columns(con, "notes") == ["id", "body"]
    assert current_version(con) == third


def test_a_failing_migration_rolls_back_and_keeps_the_version() -> None:
    con = duckdb.connect()
    migrate(con)
    broken = Migration(SCHEMA_VERSION + 1, "broken", "CREATE TABLE half (id INTEGER); SELECT * FROM missing_table")
    with pytest.raises(duckdb.CatalogException):
        migrate(con, (*MIGRATIONS, broken))
    assert current_version(con) == SCHEMA_VERSION
    assert "half" not in {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_python_row_shapes_match_the_migrated_tables() -> None:
    con = duckdb.connect()
    migrate(con)
    assert _columns(con, "runs") == list(RunRow._fields) == list(RunRecord.model_fields)
    assert _columns(con, "spans") == list(SpanRow._fields)
    assert _columns(con, "llm_calls")[:4] == ["span_id", "trace_id", "run_id", "seq"]
    assert {"direction", "msg_index", "part_index", "role", "part_type"} <= set(_columns(con, "messages"))
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"run_summary", "span_timeline"} <= views


def test_reading_an_older_file_migrates_it_in_place(store: TraceStore) -> None:
    store.path.parent.mkdir(parents=True)
    duckdb.connect(str(store.path)).close()  # a DuckDB file with no schema yet (version 0)
    assert store.list_runs() == []
    assert store.schema_version() == SCHEMA_VERSION


def test_a_file_from_a_newer_agenteval_is_refused(store: TraceStore) -> None:
    store.begin_run(make_run("r1"))
    con = duckdb.connect(str(store.path))
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(SchemaVersionError, match=r"newer than this agenteval knows.*Upgrade agenteval"):
        TraceStore(store.path).list_runs()
    with pytest.raises(SchemaVersionError):
        TraceStore(store.path).begin_run(make_run("r2"))
