"""What can go wrong when reading or writing the trace store; each message says how to fix it."""

from __future__ import annotations

from harness.errors import HarnessError


class TraceStoreError(HarnessError):
    """Base class of the trace store's user-facing errors."""


class TraceStoreLockedError(TraceStoreError):
    """Another process holds the DuckDB file (DuckDB allows one writer process, or many readers, per file)."""


class NoTracesError(TraceStoreError):
    """The trace store file does not exist yet: nothing has been recorded there."""


class RunNotFoundError(TraceStoreError):
    """No run, or more than one run, matches the given run id (prefix)."""


class SchemaVersionError(TraceStoreError):
    """The file was written by a newer agenteval whose schema this version does not know."""
