"""The composition root: what the CLI and the pytest plugin call. Returns values or raises; never prints.

One module per area (``_traces``, ``_agent``, ...); this package re-exports their public functions.
"""

from harness.api._agent import run_agent
from harness.api._cassettes import (
    DEFAULT_CASSETTE_DIR,
    list_cassettes,
    scan_cassettes,
    scrub_cassettes,
    verify_cassettes,
)
from harness.api._datasets import list_datasets, show_dataset, validate_datasets
from harness.api._importers import import_datasets
from harness.api._run import merge_shards, run_evals
from harness.api._selfcheck import selfcheck
from harness.api._traces import DEFAULT_TRACE_DB, EXPORT_FORMATS, export_trace, get_trace, list_traces, trace_stats
from harness.datasets import DatasetSummary, LoadedDataset
from harness.mockllm.selfcheck import SelfCheckReport

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "DEFAULT_TRACE_DB",
    "EXPORT_FORMATS",
    "DatasetSummary",
    "LoadedDataset",
    "SelfCheckReport",
    "export_trace",
    "get_trace",
    "import_datasets",
    "list_cassettes",
    "list_datasets",
    "list_traces",
    "merge_shards",
    "run_agent",
    "run_evals",
    "scan_cassettes",
    "scrub_cassettes",
    "selfcheck",
    "show_dataset",
    "trace_stats",
    "validate_datasets",
    "verify_cassettes",
]
