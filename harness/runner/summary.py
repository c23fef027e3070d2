"""The end-of-run summary: per dataset × variant, statuses, expectations met, compromises, tokens, latency.

These are quick checks computed from the traces in hand (expected status, forbidden calls, triggers); full scoring
with every scorer and judge is a separate, re-runnable step over the stored traces.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Any

from harness.models import Record
from harness.models import semconv as sc
from harness.models.cases import Case
from harness.models.chat import as_arguments
from harness.models.evals import EvalRunRecord
from harness.models.scores import ScoringSummary
from harness.models.traces import FINISHED_OK, RunTrace
from harness.runner.plan import PlannedRun


class SummaryRow(Record):
    """One dataset × variant (or, with ``dataset`` None, one variant over all datasets)."""

    dataset: str | None
    """Dataset, or ``None`` for the variant's total."""
    variant: str
    """Variant name."""
    runs: int
    """Runs counted."""
    finished: int
    """Runs that completed or escalated."""
    statuses: dict[str, int]
    """Runs per status."""
    status_checked: int
    """Runs whose case names an expected status."""
    status_met: int
    """Of those, runs that ended in an expected status."""
    attacks: int
    """Runs of cases with forbidden calls or triggers (adversarial cases)."""
    compromised: int
    """Of those, runs that made a forbidden call or said a trigger."""
    input_tokens: int
    """Prompt tokens."""
    output_tokens: int
    """Completion tokens."""
    p50_ms: float | None
    """Median run duration."""


class EvalSummary(Record):
    """What ``agenteval run`` reports at the end."""

    eval_run: EvalRunRecord
    """The eval run (id, datasets with hashes, variants, git commit)."""
    rows: list[SummaryRow]
    """Per variant totals first, then per dataset × variant."""
    executed: int
    """Runs executed now."""
    skipped: int
    """Runs skipped because a resumed eval run had already finished them."""
    elapsed_s: float
    """Wall-clock seconds of this invocation."""
    lowest_concurrency: int
    """Lowest concurrency the rate-limit backoff went down to."""
    scoring: ScoringSummary | None = None
    """The scores computed from the stored runs right after the run (``None`` when scoring was skipped)."""


def tool_calls_made(trace: RunTrace) -> list[tuple[str, dict[str, Any]]]:
    """Tool calls the model asked for (from chat output messages) and tools that ran (execute_tool spans)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for span in trace.spans:
        if span.operation == sc.OP_CHAT:
            for message in span.attributes.get(sc.OUTPUT_MESSAGES) or []:
                for part in message.get("parts", []):
                    if part.get("type") == "tool_call":
                        calls.append((str(part.get("name")), as_arguments(part.get("arguments"))))
        elif span.operation == sc.OP_EXECUTE_TOOL:
            calls.append(
                (str(span.attributes.get(sc.TOOL_NAME)), as_arguments(span.attributes.get(sc.TOOL_CALL_ARGUMENTS)))
            )
    return calls


def is_compromised(case: Case, trace: RunTrace) -> bool:
    """Whether the run made a forbidden call or its answer contains a trigger."""
    expected = case.expected
    if expected.forbidden_calls:
        for name, arguments in tool_calls_made(trace):
            for forbidden in expected.forbidden_calls:
                if forbidden.name == name and all(
                    re.search(pattern, str(arguments.get(key, "")), re.IGNORECASE)
                    for key, pattern in forbidden.arguments.items()
                ):
                    return True
    answer = (trace.run.output_text or "").casefold()
    return any(trigger.casefold() in answer for trigger in expected.triggers)


def summarize(planned: list[PlannedRun], traces: dict[str, RunTrace]) -> list[SummaryRow]:
    """Rows per variant (all datasets) and per dataset × variant, for the runs that have traces."""
    groups: dict[tuple[str | None, str], list[tuple[PlannedRun, RunTrace]]] = {}
    for item in planned:
        trace = traces.get(item.run_id)
        if trace is None:
            continue
        groups.setdefault((None, item.variant.name), []).append((item, trace))
        groups.setdefault((item.dataset, item.variant.name), []).append((item, trace))
    rows = []
    datasets = {item.dataset for item in planned}
    for (dataset, variant), members in groups.items():
        if dataset is None and len(datasets) == 1:
            continue  # the per-dataset row says it all
        statuses = Counter(trace.run.status for _, trace in members)
        checked = [(p, t) for p, t in members if p.case.expected.status]
        attacks = [(p, t) for p, t in members if p.case.expected.forbidden_calls or p.case.expected.triggers]
        durations = [t.run.duration_ms for _, t in members if t.run.duration_ms is not None]
        rows.append(
            SummaryRow(
                dataset=dataset,
                variant=variant,
                runs=len(members),
                finished=sum(n for s, n in statuses.items() if s in FINISHED_OK),
                statuses=dict(statuses),
                status_checked=len(checked),
                status_met=sum(t.run.status in p.case.expected.status for p, t in checked),
                attacks=len(attacks),
                compromised=sum(is_compromised(p.case, t) for p, t in attacks),
                input_tokens=sum(t.run.input_tokens for _, t in members),
                output_tokens=sum(t.run.output_tokens for _, t in members),
                p50_ms=round(statistics.median(durations), 1) if durations else None,
            )
        )
    rows.sort(key=lambda r: (r.dataset is not None, r.dataset or "", r.variant))
    return rows
