r"""Ingestion benchmark for the DuckDB trace store (harness/traces).

Generates realistic runs (a root ``invoke_agent`` span, then chat -> tool -> tool rounds and a final chat, with
GenAI attributes, input/output messages and request/response bodies of modest size) and measures, in one process,
each into a fresh file database:

(a) ``TraceStore.write_traces`` of all spans: runs + spans + llm_calls/tool_calls/messages projections, one
    transaction, DataFrame appends;
(b) the spans table alone, batch: rows serialised to JSON, one DataFrame, one ``con.append`` (also reported:
    the append alone, from a prebuilt DataFrame);
(c) the spans table alone, row at a time: ``INSERT INTO spans VALUES (?, ...)`` per row in one transaction, on a
    subset (``--row-subset``, default 5,000 spans); the rate reported is the one measured on that subset;
(d) for scale, how the agent runtime writes without batching: ``begin_run`` + ``write_trace`` per run inside one
    ``store.session()``, on the first ``--per-run`` runs (default 100); fixed per-statement costs dominate here.

Run it from the project root:

    .venv/bin/python benchmarks/trace_ingest.py [--spans 100000] [--spans-per-run 50] [--json PATH]

This is a benchmark, not a test: figures vary with the machine; compare ratios within one run. It always exits 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from harness.models import semconv as sc
from harness.models.traces import RunRecord, RunTrace, Span, SpanEvent
from harness.traces import TraceStore
from harness.traces._rows import span_row, spans_frame
from harness.traces.schema import migrate

TARGET_SPANS_PER_S = 100_000
MS = 1_000_000
T0 = 1_767_225_600_000_000_000
SYSTEM = "You are the support agent of ACME. Answer briefly, use the tools, never promise refunds you did not issue."


def make_traces(total_spans: int, spans_per_run: int) -> list[RunTrace]:
    """Runs of ``spans_per_run`` spans each (the last run may be shorter) adding up to ``total_spans``."""
    traces = []
    for index in range((total_spans + spans_per_run - 1) // spans_per_run):
        count = min(spans_per_run, total_spans - index * spans_per_run)
        traces.append(_trace(index, count))
    return traces


def _trace(index: int, count: int) -> RunTrace:
    run_id = f"{index:08x}" + "0" * 24
    trace_id = f"{index:032x}"
    start = T0 + index * 10_000 * MS
    spans = [
        Span.model_construct(
            trace_id=trace_id,
            span_id=f"{index:08x}{0:08x}",
            parent_span_id=None,
            run_id=run_id,
            seq=0,
            name="invoke_agent support",
            kind="INTERNAL",
            operation=sc.OP_INVOKE_AGENT,
            start_ns=start,
            end_ns=start + count * 20 * MS,
            status_code="UNSET",
            status_message=None,
            attributes={sc.OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.AGENT_NAME: "support", sc.RUN_ID: run_id},
            events=[],
        )
    ]
    for seq in range(1, count):
        step = (seq - 1) // 3 + 1
        is_chat = (seq - 1) % 3 == 0 or seq == count - 1
        attrs = _chat(step, seq) if is_chat else _tool(step, seq)
        events = []
        if is_chat and step % 5 == 0:
            events.append(
                SpanEvent.model_construct(
                    name=sc.EVENT_RETRY, time_ns=start + seq * 20 * MS, attributes={sc.HTTP_STATUS: 429}
                )
            )
        spans.append(
            Span.model_construct(
                trace_id=trace_id,
                span_id=f"{index:08x}{seq:08x}",
                parent_span_id=f"{index:08x}{0:08x}",
                run_id=run_id,
                seq=seq,
                name="chat mock-gpt" if is_chat else f"execute_tool {attrs[sc.TOOL_NAME]}",
                kind="CLIENT" if is_chat else "INTERNAL",
                operation=sc.OP_CHAT if is_chat else sc.OP_EXECUTE_TOOL,
                start_ns=start + seq * 20 * MS,
                end_ns=start + seq * 20 * MS + 15 * MS,
                status_code="UNSET",
                status_message=None,
                attributes=attrs,
                events=events,
            )
        )
    run = RunRecord(
        run_id=run_id,
        trace_id=trace_id,
        agent_name="support",
        prompt_version="v2",
        model="mock-gpt",
        status="completed",
        start_ns=start,
        end_ns=start + count * 20 * MS,
        input="Where is my order?",
        steps=count // 3,
    )
    return RunTrace.model_construct(run=run, spans=spans)


def _chat(step: int, seq: int) -> dict[str, Any]:
    user = {"role": "user", "parts": [{"type": "text", "content": f"Where is my order A-{seq}? It is late."}]}
    call = {"type": "tool_call", "id": f"call_{seq}", "name": "lookup_order", "arguments": {"order_id": f"A-{seq}"}}
    output = {"role": "assistant", "parts": [call], "finish_reason": "tool_calls"}
    return {
        sc.OPERATION_NAME: sc.OP_CHAT,
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "mock-gpt",
        sc.REQUEST_TEMPERATURE: 0.2,
        sc.REQUEST_MAX_TOKENS: 512,
        sc.RESPONSE_ID: f"chatcmpl-{seq}",
        sc.RESPONSE_MODEL: "mock-gpt",
        sc.RESPONSE_FINISH_REASONS: ["tool_calls"],
        sc.USAGE_INPUT_TOKENS: 120 + seq,
        sc.USAGE_OUTPUT_TOKENS: 30,
        sc.SERVER_ADDRESS: "127.0.0.1",
        sc.SERVER_PORT: 8765,
        sc.STEP: step,
        sc.ATTEMPTS: 2 if step % 5 == 0 else 1,
        sc.LATENCY_MS: 12.5,
        sc.SYSTEM_INSTRUCTIONS: [{"type": "text", "content": SYSTEM}],
        sc.INPUT_MESSAGES: [user],
        sc.OUTPUT_MESSAGES: [output],
        sc.REQUEST_BODY: {"model": "mock-gpt", "messages": [{"role": "user", "content": "Where is my order?"}]},
        sc.RESPONSE_BODY: {"id": f"chatcmpl-{seq}", "usage": {"prompt_tokens": 120, "completion_tokens": 30}},
    }


def _tool(step: int, seq: int) -> dict[str, Any]:
    return {
        sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
        sc.TOOL_NAME: "lookup_order",
        sc.TOOL_CALL_ID: f"call_{seq}",
        sc.TOOL_CALL_ARGUMENTS: f'{{"order_id": "A-{seq}"}}',
        sc.TOOL_CALL_RESULT: '{"status": "shipped", "eta_days": 2}',
        sc.TOOL_OUTCOME: "ok" if seq % 7 else "error",
        sc.TOOL_SIDE_EFFECTS: False,
        sc.STEP: step,
    }


def bench_write_traces(traces: list[RunTrace], folder: Path) -> float:
    store = TraceStore(folder / "a.duckdb")
    store.schema_version() if store.path.exists() else store.begin_run(traces[0].run)  # migrate outside the timing
    started = time.perf_counter()
    store.write_traces(traces)
    return time.perf_counter() - started


def bench_spans_batch(spans: list[Span], folder: Path) -> tuple[float, float]:
    """Seconds for serialise + append, and for the append of a prebuilt DataFrame alone (two fresh files)."""
    timings = []
    for name, prebuild in (("b.duckdb", False), ("b2.duckdb", True)):
        con = duckdb.connect(str(folder / name))
        migrate(con)
        frame = spans_frame(spans) if prebuild else None
        started = time.perf_counter()
        if frame is None:
            frame = spans_frame(spans)
        con.execute("BEGIN TRANSACTION")
        con.append("spans", frame, by_name=True)
        con.execute("COMMIT")
        timings.append(time.perf_counter() - started)
        con.close()
    return timings[0], timings[1]


def bench_per_run(traces: list[RunTrace], folder: Path) -> float:
    store = TraceStore(folder / "d.duckdb")
    with store.session():
        started = time.perf_counter()
        for trace in traces:
            store.begin_run(trace.run)
            store.write_trace(trace)
        return time.perf_counter() - started


def bench_row_at_a_time(spans: list[Span], folder: Path) -> float:
    con = duckdb.connect(str(folder / "c.duckdb"))
    migrate(con)
    placeholders = ", ".join("?" * 14)
    started = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for span in spans:
        con.execute(f"INSERT INTO spans VALUES ({placeholders})", list(span_row(span)))
    con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=100_000, help="spans to write (default 100000)")
    parser.add_argument("--spans-per-run", type=int, default=50, help="spans per run (default 50)")
    parser.add_argument("--row-subset", type=int, default=5_000, help="spans for the row-at-a-time baseline")
    parser.add_argument("--per-run", type=int, default=100, help="runs written one by one for (d)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    traces = make_traces(args.spans, args.spans_per_run)
    spans = [span for trace in traces for span in trace.spans]
    subset = spans[: args.row_subset]
    with tempfile.TemporaryDirectory(prefix="trace-ingest-") as tmp:
        folder = Path(tmp)
        write_s = bench_write_traces(traces, folder)
        batch_s, append_s = bench_spans_batch(spans, folder)
        row_s = bench_row_at_a_time(subset, folder)
        per_run = traces[: args.per_run]
        per_run_s = bench_per_run(per_run, folder)
        con = duckdb.connect(str(folder / "a.duckdb"), read_only=True)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "spans", "messages")}  # type: ignore[index]
        con.close()

    results = [
        ("(a) write_traces: spans + projections", len(spans), write_s),
        ("(b) spans only, batch (serialise + append)", len(spans), batch_s),
        ("    spans only, append of a built DataFrame", len(spans), append_s),
        (f"(c) spans only, row at a time (subset of {len(subset)})", len(subset), row_s),
        (f"(d) begin_run + write_trace per run ({len(per_run)} runs)", sum(len(t.spans) for t in per_run), per_run_s),
    ]
    print(
        f"trace ingest: {len(spans):,} spans in {len(traces):,} runs; duckdb {duckdb.__version__}, "
        f"python {platform.python_version()}; rows written by (a): {counts}"
    )
    print(f"{'scenario':<56} {'spans':>9} {'seconds':>9} {'spans/s':>11}")
    for name, count, seconds in results:
        print(f"{name:<56} {count:>9,} {seconds:>9.3f} {count / seconds:>11,.0f}")
    per_run_ms = per_run_s / len(per_run) * 1000
    print(f"(d) per run: {per_run_ms:.1f} ms for begin_run + write_trace of {args.spans_per_run} spans")
    rate = {name: count / seconds for name, count, seconds in results}
    names = [name for name, _, _ in results]
    ratio = rate[names[1]] / rate[names[3]]
    print(f"batch (b) vs row-at-a-time (c): {ratio:,.0f}x faster")
    for label, name in (("(b) spans batch", names[1]), ("(a) write_traces", names[0])):
        met = "met" if rate[name] >= TARGET_SPANS_PER_S else "NOT met"
        print(f"target >= {TARGET_SPANS_PER_S:,} spans/s for {label}: {met} ({rate[name]:,.0f} spans/s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "spans": len(spans),
            "runs": len(traces),
            "duckdb": duckdb.__version__,
            "results": [{"scenario": n.strip(), "spans": c, "seconds": s, "spans_per_s": c / s} for n, c, s in results],
            "batch_vs_row_ratio": ratio,
            "target_spans_per_s": TARGET_SPANS_PER_S,
            "rows_written": counts,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
