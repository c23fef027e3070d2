"""The DuckDB trace store: runs and spans (the lossless core), typed projections, statistics, OTLP export.

See docs/traces.md for the tables, and ARCHITECTURE.md ("Trace store") for the contract.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_names
from harness.traces.errors import (
    NoTracesError,
    RunNotFoundError,
    SchemaVersionError,
    TraceStoreError,
    TraceStoreLockedError,
)
from harness.traces.filters import RunFilter, parse_since
from harness.traces.otlp import to_otlp_json
from harness.traces.schema import MIGRATIONS, SCHEMA_VERSION, Migration
from harness.traces.store import DEFAULT_DB_PATH, RunFilterArgs, TraceStore

__all__ = [
    "DEFAULT_DB_PATH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "NoTracesError",
    "RunFilter",
    "RunFilterArgs",
    "RunNotFoundError",
    "SchemaVersionError",
    "ToolErrorStats",
    "TraceStats",
    "TraceStore",
    "TraceStoreError",
    "TraceStoreLockedError",
    "compute_stats",
    "parse_since",
    "to_otlp_json",
]


if TYPE_CHECKING:
    from harness.traces.stats import ToolErrorStats, TraceStats, compute_stats


# Statistics need pandas (0.3 s to import): load them only when asked for, not on every trace write.
__getattr__ = lazy_names(
    __name__, dict.fromkeys(("ToolErrorStats", "TraceStats", "compute_stats"), "harness.traces.stats"), globals()
)
