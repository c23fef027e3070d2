"""The composition root: what the CLI and the pytest plugin call. Returns values or raises; never prints.

One module per area (``_traces``, ``_agent``, ...); this package re-exports their public functions. Names are
resolved on first use, so that a command imports only the stages it needs (openai, duckdb and pandas take most of a
second to import; ``agenteval --help`` should not pay for them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness._lazy import lazy_names

_WHERE: dict[str, str] = {
    "run_agent": "harness.api._agent",
    "build_report": "harness.api._report",
    "load_baseline": "harness.api._report",
    "report_traces": "harness.api._report",
    "save_baseline": "harness.api._report",
    "write_reports": "harness.api._report",
    "EvalItem": "harness.api._eval_result",
    "EvalResult": "harness.api._eval_result",
    "EvalSession": "harness.api._session",
    "SessionOutcome": "harness.api._session",
    "finish_eval_session": "harness.api._session",
    "shard_path": "harness.api._session",
    "DEFAULT_CASSETTE_DIR": "harness.api._cassettes",
    "list_cassettes": "harness.api._cassettes",
    "scan_cassettes": "harness.api._cassettes",
    "scrub_cassettes": "harness.api._cassettes",
    "verify_cassettes": "harness.api._cassettes",
    "list_datasets": "harness.api._datasets",
    "show_dataset": "harness.api._datasets",
    "validate_datasets": "harness.api._datasets",
    "import_datasets": "harness.api._importers",
    "compare_variants": "harness.api._compare",
    "calibrate_live": "harness.api._judge",
    "calibrate_recorded": "harness.api._judge",
    "PairwiseReport": "harness.api._pairwise",
    "judge_pairwise": "harness.api._pairwise",
    "merge_shards": "harness.api._run",
    "run_evals": "harness.api._run",
    "replay_run": "harness.api._replay",
    "cassette_from_trace": "harness.api._replay",
    "ReplayReport": "harness.api._replay",
    "score_eval_run": "harness.api._score",
    "selfcheck": "harness.api._selfcheck",
    "DEFAULT_TRACE_DB": "harness.api._traces",
    "EXPORT_FORMATS": "harness.api._traces",
    "export_trace": "harness.api._traces",
    "get_trace": "harness.api._traces",
    "list_traces": "harness.api._traces",
    "trace_stats": "harness.api._traces",
    "AgentUnderTest": "harness.agent.under_test",
    "DatasetSummary": "harness.datasets",
    "LoadedDataset": "harness.datasets",
    "SelfCheckReport": "harness.mockllm.selfcheck",
}

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "DEFAULT_TRACE_DB",
    "EXPORT_FORMATS",
    "AgentUnderTest",
    "DatasetSummary",
    "EvalItem",
    "EvalResult",
    "EvalSession",
    "LoadedDataset",
    "PairwiseReport",
    "ReplayReport",
    "SelfCheckReport",
    "SessionOutcome",
    "build_report",
    "calibrate_live",
    "calibrate_recorded",
    "cassette_from_trace",
    "compare_variants",
    "export_trace",
    "finish_eval_session",
    "get_trace",
    "import_datasets",
    "judge_pairwise",
    "list_cassettes",
    "list_datasets",
    "list_traces",
    "load_baseline",
    "merge_shards",
    "replay_run",
    "report_traces",
    "run_agent",
    "run_evals",
    "save_baseline",
    "scan_cassettes",
    "score_eval_run",
    "scrub_cassettes",
    "selfcheck",
    "shard_path",
    "show_dataset",
    "trace_stats",
    "validate_datasets",
    "verify_cassettes",
    "write_reports",
]

if TYPE_CHECKING:
    from harness.agent.under_test import AgentUnderTest
    from harness.api._agent import run_agent
    from harness.api._cassettes import (
        DEFAULT_CASSETTE_DIR,
        list_cassettes,
        scan_cassettes,
        scrub_cassettes,
        verify_cassettes,
    )
    from harness.api._compare import compare_variants
    from harness.api._datasets import list_datasets, show_dataset, validate_datasets
    from harness.api._eval_result import EvalItem, EvalResult
    from harness.api._importers import import_datasets
    from harness.api._judge import calibrate_live, calibrate_recorded
    from harness.api._pairwise import PairwiseReport, judge_pairwise
    from harness.api._replay import ReplayReport, cassette_from_trace, replay_run
    from harness.api._report import build_report, load_baseline, report_traces, save_baseline, write_reports
    from harness.api._run import merge_shards, run_evals
    from harness.api._score import score_eval_run
    from harness.api._selfcheck import selfcheck
    from harness.api._session import (
        EvalSession,
        SessionOutcome,
        finish_eval_session,
        shard_path,
    )
    from harness.api._traces import (
        DEFAULT_TRACE_DB,
        EXPORT_FORMATS,
        export_trace,
        get_trace,
        list_traces,
        trace_stats,
    )
    from harness.datasets import DatasetSummary, LoadedDataset
    from harness.mockllm.selfcheck import SelfCheckReport


__getattr__ = lazy_names(__name__, _WHERE, globals())
