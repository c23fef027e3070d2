"""Row shapes of the tables written from Python (``runs``, ``spans``), and the DataFrames they are appended as.

Each such table has a NamedTuple whose fields are the table's columns in order (a unit test holds them equal to the
migrated schema). Rows are plain tuples, so a batch turns into columns with one ``zip(*rows)``; the column's Python
annotation picks a pandas dtype that keeps NULLs and 64-bit integers exact (a plain list with ``None`` would become
float64 and round nanosecond timestamps).
"""

from __future__ import annotations

import gc
import json
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from harness.models.traces import RunRecord, Span, SpanEvent

if TYPE_CHECKING:
    import duckdb
    import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs

Json = typing.NewType("Json", str)
"""Text of a JSON value, for a DuckDB ``JSON`` column."""


def dumps(value: Any) -> Json:
    """Serialise to compact JSON text.

    orjson does it about 4x faster than the standard library, which is most of the cost of ingesting spans
    (measured on the ingest benchmark: 0.85 s → 0.19 s per 100k spans' attributes). One difference: orjson writes
    NaN and Infinity as ``null``. Values orjson refuses (integers beyond 64 bits) go through the standard library.
    """
    try:
        return Json(orjson.dumps(value, default=str).decode())
    except (orjson.JSONEncodeError, TypeError):
        return Json(_ENCODER.encode(value))


def dumps_or_none(value: Any) -> Json | None:
    """Like :func:`dumps`, but ``None`` stays SQL ``NULL``."""
    return None if value is None else dumps(value)


# One encoder for every call: json.dumps with options builds a new one each time, which shows at 100k spans.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
_NO_EVENTS = Json("[]")


class RunRow(NamedTuple):
    run_id: str
    trace_id: str
    kind: str
    agent_name: str
    prompt_name: str | None
    prompt_version: str | None
    prompt_sha256: str | None
    model: str
    base_url: str | None
    status: str
    status_detail: str | None
    error_type: str | None
    error_message: str | None
    start_ns: int
    end_ns: int | None
    input: str
    output_text: str | None
    output_data: Json | None
    steps: int
    llm_calls: int
    tool_calls: int
    tool_errors: int
    input_tokens: int
    output_tokens: int
    retries: int
    security_events: int
    mode: str
    tags: list[str]
    metadata: Json
    eval_run_id: str | None
    case_id: str | None
    variant: str | None
    epoch: int | None
    dataset: str | None  # added by migration 2, hence last


class SpanRow(NamedTuple):
    trace_id: str
    span_id: str
    parent_span_id: str | None
    run_id: str
    seq: int
    name: str
    kind: str
    operation: str
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str | None
    attributes: Json
    events: Json


TABLE_ROWS: dict[str, type[tuple[Any, ...]]] = {
    "runs": RunRow,
    "spans": SpanRow,
}
"""The tables written from Python, with their row shapes (the typed tables are filled in SQL)."""


def _dtype(annotation: Any) -> str:
    args = set(typing.get_args(annotation)) - {type(None)} or {annotation}
    if args == {bool}:
        return "boolean"
    if args == {int}:
        return "Int64"
    if args == {float}:
        return "Float64"
    # Strings, JSON text and lists stay Python objects: DuckDB reads them directly, and pandas' own string dtype
    # would only add a conversion on the way in.
    return "object"


_DTYPES: dict[str, dict[str, str]] = {
    table: {name: _dtype(hint) for name, hint in typing.get_type_hints(row).items()}
    for table, row in TABLE_ROWS.items()
}


def to_frame(table: str, rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Turn rows of ``table`` into a DataFrame with the table's columns, in order, and NULL-safe dtypes."""
    import pandas as pd  # imported on the first large batch write only: it costs 0.3 s to import

    dtypes = _DTYPES[table]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in dtypes]
    data: dict[str, Any] = {}
    for (name, dtype), values in zip(dtypes.items(), columns, strict=True):
        # pd.Series(list-of-lists, dtype=object) keeps each list as one cell (np.array would build a 2-D array).
        data[name] = pd.Series(values, dtype=dtype) if dtype == "object" else pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(dtypes))


def run_row(run: RunRecord) -> RunRow:
    """The ``runs`` row of a run record."""
    values = dict(run)
    values["output_data"] = dumps_or_none(run.output_data)
    values["metadata"] = dumps(run.metadata)
    values["tags"] = list(run.tags)
    return RunRow(**values)


def run_from_row(row: Sequence[Any]) -> RunRecord:
    """Rebuild a run record from a ``SELECT *`` row of ``runs``."""
    values = dict(zip(RunRow._fields, row, strict=True))
    values["output_data"] = None if values["output_data"] is None else json.loads(values["output_data"])
    values["metadata"] = {} if values["metadata"] is None else json.loads(values["metadata"])
    values["tags"] = values["tags"] or []
    return RunRecord.model_validate(values)


def span_row(span: Span) -> SpanRow:
    """The ``spans`` row of a span: every attribute and event kept verbatim as JSON."""
    return SpanRow(
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.run_id,
        span.seq,
        span.name,
        span.kind,
        span.operation,
        span.start_ns,
        span.end_ns,
        span.status_code,
        span.status_message,
        dumps(span.attributes),
        dumps([{"name": e.name, "time_ns": e.time_ns, "attributes": e.attributes} for e in span.events])
        if span.events
        else _NO_EVENTS,
    )


def span_from_row(row: Sequence[Any]) -> Span:
    """Rebuild a span from a ``SELECT *`` row of ``spans``."""
    values = dict(zip(SpanRow._fields, row, strict=True))
    values["attributes"] = json.loads(values["attributes"])
    values["events"] = [SpanEvent.model_validate(e) for e in json.loads(values["events"])]
    return Span.model_validate(values)


def span_rows(spans: Sequence[Span]) -> list[SpanRow]:
    """The ``spans`` rows of a batch."""
    with _gc_paused():
        return [span_row(span) for span in spans]


def spans_frame(spans: Sequence[Span]) -> pd.DataFrame:
    """The ``spans`` rows of a batch, as one DataFrame ready for ``con.append``."""
    rows = span_rows(spans)
    with _gc_paused():
        return to_frame("spans", rows)


_APPENDER_MAX = 4096
"""Below this many rows DuckDB's Appender is used (no pandas import, no DataFrame to build); above it a DataFrame
append is faster (measured: 0.18 s vs 0.45 s per 100k rows)."""


def append_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows of ``table`` (tuples in the table's column order) in one batch."""
    if not rows:
        return
    if len(rows) < _APPENDER_MAX:
        with con.appender(table) as appender:
            appender.append_rows(list(rows))
        return
    with _gc_paused():
        frame = to_frame(table, rows)
    # by_name: a column added by a later migration takes its default instead of shifting the others.
    con.append(table, frame, by_name=True)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is turned into rows.

    Building 100k rows allocates millions of objects, which triggers full collections that walk every live span;
    the rows are flat tuples of strings and numbers (no cycles), so nothing is lost by collecting afterwards.
    Measured on the ingest benchmark: 1.0 s → 0.44 s per 100k spans.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
