"""The report as one self-contained HTML file: the gate's verdict, charts, tables and a drill-down per case.

The page loads nothing: CSS is inline, charts are inline SVG drawn in :mod:`harness.reporting._html_charts`, and
interaction is ``<details>`` only. Model output, case ids, failure messages and tool results are untrusted, so the
template is rendered with jinja2 autoescape, and a Content-Security-Policy forbids scripts outright: even a bug in
the escaping could not run one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import jinja2
from markupsafe import Markup

from harness.models.reports import CaseChange, Report
from harness.models.traces import RunRecord, RunTrace
from harness.reporting._format import delta, num, pct, short
from harness.reporting._html_charts import RateRow, latency_chart, rate_chart
from harness.reporting._html_steps import Step, clip, steps

CSP = Markup("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
"""No scripts, no fetches, no fonts or frames; only the inline style and (unused) data: images."""
DRILL_DOWN_LIMIT = 500
"""Traces loaded for the drill-down (``drill_down_run_ids``): enough to read, fast on a 10,000-case report."""
CASE_LIMIT = 5_000
"""Changed or failing cases shown, each a collapsed ``<details>``; the rest are counted."""

_ORDER = {"regressed": 0, "fixed": 1, "new": 2, "removed": 3, "still_failing": 4, "passing": 5}
_LABEL = {
    "regressed": "regressed",
    "fixed": "fixed",
    "still_failing": "still failing",
    "new": "new",
    "removed": "removed",
    "passing": "passing",
}


@dataclass(frozen=True)
class TraceView:
    """A drill-down's run: the row and its steps."""

    run: RunRecord
    steps: list[Step]


@dataclass(frozen=True)
class CaseView:
    """What the template shows for one changed or failing case × variant."""

    change: CaseChange
    label: str
    scorers: list[tuple[str, str, str, bool]]
    """``(scorer, now, baseline, failed now)``."""
    trace: TraceView | None


def interesting(report: Report) -> list[CaseChange]:
    """Cases that changed or fail (and flaky ones), changes first: regressions and newly compromised cases, fixed,
    new, removed, then still failing."""
    chosen = [
        c
        for c in report.cases
        if c.outcome != "passing" or c.newly_compromised or (c.current is not None and c.current.flaky)
    ]
    return sorted(chosen, key=lambda c: 0 if c.newly_compromised else _ORDER[c.outcome])


def drill_down_run_ids(report: Report, limit: int = DRILL_DOWN_LIMIT) -> list[str]:
    """The first run of each changed or failing case, in the page's order, at most ``limit``: the traces worth
    loading for :func:`to_html`."""
    ids = [c.current.run_ids[0] for c in interesting(report) if c.current is not None and c.current.run_ids]
    return ids[:limit]


def _scorers(change: CaseChange) -> list[tuple[str, str, str, bool]]:
    now = change.current.scorer_pass_rates if change.current else {}
    before = change.baseline.scorer_pass_rates if change.baseline else {}
    return [
        (name, pct(now.get(name)), pct(before.get(name)), name in now and now[name] < 1.0)
        for name in sorted(now.keys() | before.keys())
    ]


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pct, delta=delta, num=num, clip=clip, short=short)
    return env.get_template("report.html.j2")


def _charts(report: Report) -> list[Markup]:
    charts = [
        rate_chart(
            "Pass rate per variant, now and in the baseline",
            [
                RateRow(
                    v.variant + (f" vs {v.baseline_variant}" if v.baseline_variant else ""),
                    v.pass_rate,
                    v.baseline_pass_rate,
                    v.delta,
                )
                for v in report.variants
            ],
        )
    ]
    if report.scorers:
        charts.append(
            rate_chart(
                "Pass rate per scorer",
                [
                    RateRow(f"{s.scorer} · {s.variant}", s.pass_rate, s.baseline_pass_rate, s.delta)
                    for s in report.scorers
                ],
            )
        )
    latency = [(f"{d.current.variant} now", d.current) for d in report.operations]
    latency += [(f"{d.baseline.variant} baseline", d.baseline) for d in report.operations if d.baseline is not None]
    if latency:
        charts.append(latency_chart("Run duration per variant (p50, p95, p99)", latency))
    return charts


def to_html(report: Report, traces: dict[str, RunTrace] | None = None, *, case_limit: int = CASE_LIMIT) -> str:
    """Render the report as one self-contained HTML page.

    Args:
        report: The report.
        traces: Runs by run id, for the drill-down of the cases whose first run is among them (e.g. the ones
            :func:`drill_down_run_ids` names); without them each case still shows its failures and replay command.
        case_limit: At most this many changed or failing cases get a drill-down; the rest are counted.
    """
    traces = traces or {}
    chosen = interesting(report)
    shown = {id(c) for c in chosen}
    cases = []
    for change in chosen[:case_limit]:
        run_ids = change.current.run_ids if change.current else []
        trace = traces.get(run_ids[0]) if run_ids else None
        view = TraceView(run=trace.run, steps=steps(trace)) if trace is not None else None
        cases.append(CaseView(change=change, label=_LABEL[change.outcome], scorers=_scorers(change), trace=view))
    gate = report.gate
    tone = "fail" if not gate.passed else "warn" if gate.failures else "pass"
    return _template().render(
        report=report,
        csp=CSP,
        tone=tone,
        generated=datetime.fromtimestamp(report.generated_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        charts=_charts(report),
        cases=cases,
        more_cases=len(chosen) - len(cases),
        passing=[c for c in report.cases if id(c) not in shown][:case_limit],
        passing_count=len(report.cases) - len(chosen),
        traced=sum(1 for c in cases if c.trace is not None),
    )
