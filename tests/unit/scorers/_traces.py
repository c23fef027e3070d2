"""Stored runs for scorer tests: a run record and spans shaped like the runtime's (chat spans carrying the model's
tool calls as output parts, execute_tool spans for the calls that ran)."""

from __future__ import annotations

import hashlib
from typing import Any

from harness.models import semconv as sc
from harness.models.cases import Case
from harness.models.traces import RunRecord, RunTrace, Span
from harness.scorers import ScoreContext

T0 = 1_767_225_600_000_000_000


def _hex(seed: str, digits: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:digits]


def make_trace(
    calls: list[tuple[str, dict[str, Any]]] | None = None,
    *,
    output: str = "",
    output_data: Any = None,
    refused: set[int] | None = None,
    run_id: str = "run-1",
    **run: Any,
) -> RunTrace:
    """A run whose model asked for ``calls`` (in order, one chat span each), each run unless its index is in
    ``refused``; then a final chat span answering ``output``."""
    calls = calls or []
    refused = refused or set()
    trace_id = _hex(run_id, 32)
    spans: list[Span] = []

    def add(name: str, operation: str, attributes: dict[str, Any], status: str = "UNSET") -> None:
        seq = len(spans)
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=_hex(f"{run_id}:{seq}", 16),
                run_id=run_id,
                seq=seq,
                name=name,
                operation=operation,
                start_ns=T0 + seq * 1_000_000,
                end_ns=T0 + seq * 1_000_000 + 500_000,
                status_code=status,  # type: ignore[arg-type]
                attributes={sc.OPERATION_NAME: operation, **attributes},
            )
        )

    for index, (name, arguments) in enumerate(calls):
        part = {"type": "tool_call", "id": f"call_{index}", "name": name, "arguments": arguments}
        add("chat mock-gpt", sc.OP_CHAT, {sc.OUTPUT_MESSAGES: [{"role": "assistant", "parts": [part]}]})
        if index not in refused:
            add(
                f"execute_tool {name}",
                sc.OP_EXECUTE_TOOL,
                {sc.TOOL_NAME: name, sc.TOOL_CALL_ID: f"call_{index}", sc.TOOL_CALL_RESULT: "ok"},
            )
    final = {"role": "assistant", "parts": [{"type": "text", "content": output}]}
    add("chat mock-gpt", sc.OP_CHAT, {sc.OUTPUT_MESSAGES: [final]})
    values: dict[str, Any] = {
        "run_id": run_id,
        "trace_id": trace_id,
        "agent_name": "support",
        "model": "mock-gpt",
        "status": "completed",
        "start_ns": T0,
        "end_ns": T0 + 1_500_000_000,
        "input": "question",
        "output_text": output,
        "output_data": output_data,
        "steps": len(calls) + 1,
        "llm_calls": len(calls) + 1,
        "tool_calls": len(calls),
        "input_tokens": 300,
        "output_tokens": 50,
        "eval_run_id": "ev-1",
        "dataset": "test/set",
        "case_id": "case-1",
        "variant": "v1",
        "epoch": 1,
    }
    values.update(run)
    return RunTrace(run=RunRecord.model_validate(values), spans=spans)


def context(case: Case | dict[str, Any], trace: RunTrace | None = None, **kwargs: Any) -> ScoreContext:
    """A scoring context for ``case`` (a Case or its fields) and ``trace`` (or a trace built from ``kwargs``)."""
    if isinstance(case, dict):
        case = Case.model_validate({"id": "case-1", "input": "question", **case})
    return ScoreContext(trace=trace or make_trace(**kwargs), case=case, prices={"mock-gpt": (1.0, 2.0)})
