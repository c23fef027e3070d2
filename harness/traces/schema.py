"""The trace store's schema, as an ordered list of migrations.

A migration is never edited once released: a change to the schema is a new migration at the end of
:data:`MIGRATIONS`. :func:`migrate` applies the pending ones in order, each in its own transaction, and records it
in ``schema_migrations``; running it again is a no-op. docs/traces.md documents the tables for SQL users.

Hot tables (``spans`` and the projections) have no PRIMARY KEY or UNIQUE constraint on purpose: DuckDB checks
them row by row through an ART index at every append, which costs more than the whole batched insert (notes
replay-and-traces.md, section 3.6). Rows are looked up and replaced by ``run_id``, which the writer guarantees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Migration:
    """One step of the schema's history."""

    version: int
    """Schema version after this migration; versions are consecutive from 1."""
    description: str
    """What the migration does, for ``schema_migrations`` and humans."""
    sql: str
    """DDL statements, separated by semicolons."""


_V1_TABLES = """
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    trace_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    agent_name VARCHAR NOT NULL,
    prompt_name VARCHAR,
    prompt_version VARCHAR,
    prompt_sha256 VARCHAR,
    model VARCHAR NOT NULL,
    base_url VARCHAR,
    status VARCHAR NOT NULL,
    status_detail VARCHAR,
    error_type VARCHAR,
    error_message VARCHAR,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT,
    input VARCHAR NOT NULL,
    output_text VARCHAR,
    output_data JSON,
    steps INTEGER NOT NULL,
    llm_calls INTEGER NOT NULL,
    tool_calls INTEGER NOT NULL,
    tool_errors INTEGER NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    retries INTEGER NOT NULL,
    security_events INTEGER NOT NULL,
    mode VARCHAR NOT NULL,
    tags VARCHAR[],
    metadata JSON,
    eval_run_id VARCHAR,
    case_id VARCHAR,
    variant VARCHAR,
    epoch INTEGER
);
CREATE TABLE spans (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    parent_span_id VARCHAR,
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    operation VARCHAR NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    status_code VARCHAR NOT NULL,
    status_message VARCHAR,
    attributes JSON NOT NULL,
    events JSON NOT NULL
);
CREATE TABLE llm_calls (
    span_id VARCHAR NOT NULL,
    trace_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER,
    provider VARCHAR,
    request_model VARCHAR,
    response_model VARCHAR,
    response_id VARCHAR,
    server_address VARCHAR,
    server_port INTEGER,
    stream BOOLEAN,
    request_params JSON,
    finish_reasons VARCHAR[],
    http_status INTEGER,
    error_type VARCHAR,
    attempts INTEGER,
    retries INTEGER,
    input_tokens BIGINT,
    output_tokens BIGINT,
    latency_ms DOUBLE,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    request_body JSON,
    response_body JSON
);
CREATE TABLE tool_calls (
    span_id VARCHAR NOT NULL,
    trace_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER,
    tool_call_id VARCHAR,
    tool_name VARCHAR,
    arguments JSON,
    result VARCHAR,
    outcome VARCHAR,
    is_error BOOLEAN NOT NULL,
    error_type VARCHAR,
    side_effects BOOLEAN,
    idempotency_key VARCHAR,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL
);
CREATE TABLE messages (
    span_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    direction VARCHAR NOT NULL,
    msg_index INTEGER NOT NULL,
    part_index INTEGER NOT NULL,
    role VARCHAR,
    part_type VARCHAR,
    content VARCHAR,
    tool_call_id VARCHAR,
    tool_name VARCHAR,
    arguments JSON,
    finish_reason VARCHAR
);
CREATE VIEW run_summary AS
SELECT
    run_id, agent_name, prompt_name, prompt_version, model, status, status_detail, mode,
    make_timestamp_ns(start_ns) AS started_at,
    make_timestamp_ns(end_ns) AS ended_at,
    (end_ns - start_ns) / 1e6 AS duration_ms,
    steps, llm_calls, tool_calls, tool_errors, retries,
    input_tokens, output_tokens, input_tokens + output_tokens AS total_tokens,
    eval_run_id, case_id, variant, epoch
FROM runs;
CREATE VIEW span_timeline AS
SELECT
    run_id, seq, span_id, parent_span_id, name, kind, operation, status_code, status_message,
    make_timestamp_ns(start_ns) AS started_at,
    (end_ns - start_ns) / 1e6 AS duration_ms
FROM spans;
"""

_V2_EVAL_RUNS = """
ALTER TABLE runs ADD COLUMN dataset VARCHAR;
CREATE TABLE eval_runs (
    eval_run_id VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL,
    started_ns BIGINT NOT NULL,
    finished_ns BIGINT,
    agent VARCHAR NOT NULL,
    datasets JSON NOT NULL,
    variants JSON NOT NULL,
    epochs INTEGER NOT NULL,
    shard VARCHAR,
    filters VARCHAR[],
    "limit" INTEGER,
    planned INTEGER NOT NULL,
    git_commit VARCHAR,
    git_dirty BOOLEAN,
    concurrency INTEGER NOT NULL,
    metadata JSON
);
"""

_V3_SCORES = """
CREATE TABLE scores (
    score_id VARCHAR NOT NULL,
    scoring_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    eval_run_id VARCHAR,
    dataset VARCHAR,
    case_id VARCHAR,
    variant VARCHAR,
    epoch INTEGER,
    scorer VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    passed BOOLEAN,
    value DOUBLE,
    label VARCHAR,
    explanation VARCHAR NOT NULL,
    error_type VARCHAR,
    error_message VARCHAR,
    traceback VARCHAR,
    created_ns BIGINT NOT NULL,
    metadata JSON
);
CREATE VIEW latest_scores AS
SELECT * EXCLUDE (rank_) FROM (
    SELECT *, row_number() OVER (PARTITION BY run_id, scorer ORDER BY created_ns DESC, score_id) AS rank_
    FROM scores
) WHERE rank_ = 1;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, spans, llm_calls, tool_calls, messages; views run_summary, span_timeline", _V1_TABLES),
    Migration(2, "eval_runs; runs.dataset", _V2_EVAL_RUNS),
    Migration(3, "scores; view latest_scores", _V3_SCORES),
)
"""Every migration, oldest first. Append only."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this code reads and writes."""

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_ns BIGINT NOT NULL
)
"""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return the highest applied migration, 0 for a database that has none (or no migrations table)."""
    # fetchall, not fetchone: DuckDB keeps a half-read result open, and an appender on the same connection then
    # refuses to start ("connection has an unfinished result").
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()
    if not exists or not exists[0][0]:
        return 0
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the pending migrations in order, each in one transaction.

    Args:
        con: A read-write connection.
        migrations: The history to apply (tests pass a longer one to check ordering).

    Returns:
        The versions applied now; empty when the schema was already current.
    """
    con.execute(_BOOTSTRAP)
    applied: list[int] = []
    done = current_version(con)
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.description, time.time_ns()],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
