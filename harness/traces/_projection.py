"""Typed rows projected from stored span attributes: ``llm_calls``, ``tool_calls`` and ``messages``.

The projections are SQL over the ``spans`` table, run in the writer's transaction right after the spans are
appended. So they read span attributes only, never the live objects the runtime had: a trace written by the agent,
a trace imported from OTLP and a trace re-projected after a schema change give the same rows. Doing it in DuckDB
(one ``INSERT ... SELECT`` per table, JSON parsed once per span by ``json_transform``) is also several times faster
than building the rows in Python, whose JSON decoding and per-row objects dominated the write.

Attribute names come from :mod:`harness.models.semconv`. A missing or mistyped attribute becomes NULL, never an
error, because imported traces may carry fewer attributes or other types. Values that may arrive either as JSON or
as a JSON-encoded string (tool arguments, message lists from OTLP) are accepted in both shapes.

No lambdas or other syntax newer than DuckDB 1.1 here: pyproject allows ``duckdb>=1.1``.
"""

from __future__ import annotations

import json

import duckdb

from harness.models import semconv as sc


def _fields(**types: str) -> str:
    # json_transform parses the attributes once and returns a STRUCT; keys keep their dots.
    return json.dumps(types).replace("'", "''")


def _a(key: str) -> str:
    """The projected attribute ``key`` (a field of the ``a`` struct)."""
    return f"struct_extract(a, '{key}')"


def _json(x: str) -> str:
    """SQL: a JSON value, decoding a JSON-encoded string; a string that is not JSON stays a JSON string literal."""
    x = f"({x})"
    return (
        f"(CASE json_type({x}) WHEN 'NULL' THEN NULL "
        f"WHEN 'VARCHAR' THEN coalesce(try_cast({x} ->> '$' AS JSON), {x}) ELSE {x} END)"
    )


def _text(x: str) -> str:
    """SQL: a JSON value as text (strings unquoted, anything else as JSON text)."""
    x = f"({x})"
    return f"(CASE json_type({x}) WHEN 'NULL' THEN NULL WHEN 'VARCHAR' THEN {x} ->> '$' ELSE {x}::VARCHAR END)"


_BATCH = "run_id IN (SELECT unnest(?::VARCHAR[]))"

_LLM_FIELDS = _fields(
    **{
        sc.STEP: "INTEGER",
        sc.PROVIDER_NAME: "VARCHAR",
        sc.REQUEST_MODEL: "VARCHAR",
        sc.RESPONSE_MODEL: "VARCHAR",
        sc.RESPONSE_ID: "VARCHAR",
        sc.SERVER_ADDRESS: "VARCHAR",
        sc.SERVER_PORT: "INTEGER",
        sc.REQUEST_STREAM: "BOOLEAN",
        sc.REQUEST_TEMPERATURE: "JSON",
        sc.REQUEST_TOP_P: "JSON",
        sc.REQUEST_MAX_TOKENS: "JSON",
        sc.REQUEST_SEED: "JSON",
        sc.RESPONSE_FINISH_REASONS: "VARCHAR[]",
        sc.HTTP_STATUS: "INTEGER",
        sc.ERROR_TYPE: "VARCHAR",
        sc.ATTEMPTS: "INTEGER",
        sc.USAGE_INPUT_TOKENS: "BIGINT",
        sc.USAGE_OUTPUT_TOKENS: "BIGINT",
        sc.LATENCY_MS: "DOUBLE",
        sc.REQUEST_BODY: "JSON",
        sc.RESPONSE_BODY: "JSON",
    }
)

LLM_CALLS_SQL = f"""
INSERT INTO llm_calls BY NAME
SELECT
    span_id, trace_id, run_id, seq, start_ns, end_ns,
    {_a(sc.STEP)} AS step,
    {_a(sc.PROVIDER_NAME)} AS provider,
    {_a(sc.REQUEST_MODEL)} AS request_model,
    {_a(sc.RESPONSE_MODEL)} AS response_model,
    {_a(sc.RESPONSE_ID)} AS response_id,
    {_a(sc.SERVER_ADDRESS)} AS server_address,
    {_a(sc.SERVER_PORT)} AS server_port,
    {_a(sc.REQUEST_STREAM)} AS stream,
    nullif(json_merge_patch('{{}}', json_object(
        'temperature', {_a(sc.REQUEST_TEMPERATURE)}, 'top_p', {_a(sc.REQUEST_TOP_P)},
        'max_tokens', {_a(sc.REQUEST_MAX_TOKENS)}, 'seed', {_a(sc.REQUEST_SEED)}
    )), '{{}}'::JSON) AS request_params,
    {_a(sc.RESPONSE_FINISH_REASONS)} AS finish_reasons,
    {_a(sc.HTTP_STATUS)} AS http_status,
    {_a(sc.ERROR_TYPE)} AS error_type,
    {_a(sc.ATTEMPTS)} AS attempts,
    greatest({_a(sc.ATTEMPTS)} - 1, 0) AS retries,
    {_a(sc.USAGE_INPUT_TOKENS)} AS input_tokens,
    {_a(sc.USAGE_OUTPUT_TOKENS)} AS output_tokens,
    -- The runtime measures the successful attempt; an imported span only has its own duration.
    coalesce({_a(sc.LATENCY_MS)}, (end_ns - start_ns) / 1e6) AS latency_ms,
    {_json(_a(sc.REQUEST_BODY))} AS request_body,
    {_json(_a(sc.RESPONSE_BODY))} AS response_body
FROM (
    SELECT *, json_transform(attributes, '{_LLM_FIELDS}') AS a
    FROM spans WHERE operation = '{sc.OP_CHAT}' AND {_BATCH}
)
"""

_TOOL_FIELDS = _fields(
    **{
        sc.STEP: "INTEGER",
        sc.TOOL_CALL_ID: "VARCHAR",
        sc.TOOL_NAME: "VARCHAR",
        sc.TOOL_CALL_ARGUMENTS: "JSON",
        sc.TOOL_CALL_RESULT: "JSON",
        sc.TOOL_OUTCOME: "VARCHAR",
        sc.ERROR_TYPE: "VARCHAR",
        sc.TOOL_SIDE_EFFECTS: "BOOLEAN",
        sc.TOOL_IDEMPOTENCY_KEY: "VARCHAR",
    }
)

TOOL_CALLS_SQL = f"""
INSERT INTO tool_calls BY NAME
SELECT
    span_id, trace_id, run_id, seq, start_ns, end_ns,
    {_a(sc.STEP)} AS step,
    {_a(sc.TOOL_CALL_ID)} AS tool_call_id,
    {_a(sc.TOOL_NAME)} AS tool_name,
    {_json(_a(sc.TOOL_CALL_ARGUMENTS))} AS arguments,
    {_text(_a(sc.TOOL_CALL_RESULT))} AS result,
    {_a(sc.TOOL_OUTCOME)} AS outcome,
    -- Without an outcome (an imported span), the span status or error.type decides.
    coalesce(
        {_a(sc.TOOL_OUTCOME)} <> 'ok',
        status_code = 'ERROR' OR {_a(sc.ERROR_TYPE)} IS NOT NULL
    ) AS is_error,
    {_a(sc.ERROR_TYPE)} AS error_type,
    {_a(sc.TOOL_SIDE_EFFECTS)} AS side_effects,
    {_a(sc.TOOL_IDEMPOTENCY_KEY)} AS idempotency_key
FROM (
    SELECT *, json_transform(attributes, '{_TOOL_FIELDS}') AS a
    FROM spans WHERE operation = '{sc.OP_EXECUTE_TOOL}' AND {_BATCH}
)
"""

_MESSAGE_FIELDS = _fields(**{sc.SYSTEM_INSTRUCTIONS: "JSON", sc.INPUT_MESSAGES: "JSON", sc.OUTPUT_MESSAGES: "JSON"})

# msg_index counts the model's view of the conversation: the system instructions (one 'system' message, when
# present) first, then gen_ai.input.messages; output messages count from 0. Indexes are 0-based.
MESSAGES_SQL = f"""
INSERT INTO messages BY NAME
WITH chat AS (
    SELECT
        span_id, run_id,
        {_json(_a(sc.SYSTEM_INSTRUCTIONS))} AS sys,
        json_extract({_json(_a(sc.INPUT_MESSAGES))}, '$[*]') AS inputs,
        json_extract({_json(_a(sc.OUTPUT_MESSAGES))}, '$[*]') AS outputs
    FROM (
        SELECT span_id, run_id, json_transform(attributes, '{_MESSAGE_FIELDS}') AS a
        FROM spans WHERE operation = '{sc.OP_CHAT}' AND {_BATCH}
    )
),
system AS (
    SELECT
        span_id, run_id,
        CASE json_type(sys)
            WHEN 'ARRAY' THEN sys
            WHEN 'VARCHAR' THEN json_array(json_object('type', 'text', 'content', sys ->> '$'))
        END AS parts
    FROM chat
),
listed AS (
    SELECT span_id, run_id, 'input' AS direction, -1 AS msg_index, '{{"role":"system"}}'::JSON AS message, parts
    FROM system WHERE json_array_length(parts) > 0
    UNION ALL
    SELECT span_id, run_id, 'input', generate_subscripts(inputs, 1) - 1, unnest(inputs), NULL FROM chat
    UNION ALL
    SELECT span_id, run_id, 'output', generate_subscripts(outputs, 1) - 1, unnest(outputs), NULL FROM chat
),
numbered AS (
    SELECT
        span_id, run_id, direction, message,
        -- Shift the input messages of spans that have system instructions by one.
        msg_index + CASE WHEN direction = 'input'
            THEN count(*) FILTER (WHERE msg_index = -1) OVER (PARTITION BY span_id, direction) ELSE 0 END AS msg_index,
        -- A message without a parts list (a flattened {{role, content}}) is one text part.
        coalesce(parts, CASE json_type(message -> 'parts')
            WHEN 'ARRAY' THEN message -> 'parts'
            ELSE json_array(json_object('type', 'text', 'content', message -> 'content'))
        END) AS parts
    FROM listed WHERE json_type(message) = 'OBJECT'
),
parts AS (
    SELECT
        span_id, run_id, direction, msg_index,
        message ->> 'role' AS role,
        message ->> 'finish_reason' AS finish_reason,
        generate_subscripts(json_extract(parts, '$[*]'), 1) - 1 AS part_index,
        unnest(json_extract(parts, '$[*]')) AS part
    FROM numbered
)
SELECT
    span_id, run_id, direction, msg_index, part_index, role, finish_reason,
    CASE json_type(part) WHEN 'OBJECT' THEN part ->> 'type' ELSE 'text' END AS part_type,
    CASE
        WHEN json_type(part) <> 'OBJECT' THEN {_text("part")}
        WHEN part ->> 'type' = 'tool_call_response' THEN {_text("part -> 'response'")}
        WHEN part ->> 'type' = 'tool_call' THEN NULL
        ELSE {_text("part -> 'content'")}
    END AS content,
    CASE json_type(part) WHEN 'OBJECT' THEN part ->> 'id' END AS tool_call_id,
    CASE json_type(part) WHEN 'OBJECT' THEN part ->> 'name' END AS tool_name,
    CASE WHEN json_type(part) = 'OBJECT' AND part ->> 'type' = 'tool_call'
        THEN {_json("part -> 'arguments'")} END AS arguments
FROM parts
"""

PROJECTIONS: dict[str, tuple[str, str]] = {
    "llm_calls": (sc.OP_CHAT, LLM_CALLS_SQL),
    "tool_calls": (sc.OP_EXECUTE_TOOL, TOOL_CALLS_SQL),
    "messages": (sc.OP_CHAT, MESSAGES_SQL),
}
"""Each typed table, the span operation it projects, and the statement that fills it from ``spans``."""


def project(con: duckdb.DuckDBPyConnection, run_ids: list[str], operations: set[str] | None = None) -> None:
    """Fill the typed tables from the stored spans of ``run_ids``, in the caller's transaction.

    The caller deletes earlier projection rows of those runs first; this only inserts.

    Args:
        con: The writer's connection, inside its transaction.
        run_ids: Runs whose spans to project.
        operations: Span operations present among them, when known: tables no span feeds are skipped (planning
            each statement costs milliseconds, which shows when runs are written one at a time).
    """
    for operation, sql in PROJECTIONS.values():
        if operations is None or operation in operations:
            con.execute(sql, [run_ids])
