"""The composition root: what the CLI and the pytest plugin call. Returns values or raises; never prints.

One module per area (``_traces``, ``_agent``, ...); this package re-exports their public functions.
"""

from harness.api._agent import run_agent
from harness.api._selfcheck import selfcheck
from harness.api._traces import DEFAULT_TRACE_DB, EXPORT_FORMATS, export_trace, get_trace, list_traces, trace_stats
from harness.mockllm.selfcheck import SelfCheckReport

__all__ = [
    "DEFAULT_TRACE_DB",
    "EXPORT_FORMATS",
    "SelfCheckReport",
    "export_trace",
    "get_trace",
    "list_traces",
    "run_agent",
    "selfcheck",
    "trace_stats",
]
