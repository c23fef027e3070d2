"""The HTML report: self-contained, script-free, untrusted text escaped, charts present, changes first, fast."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any

from harness.models.reports import CaseResult, Operations, Report
from harness.models.traces import RunRecord, RunTrace, Span, SpanEvent
from harness.reporting.build import compare
from harness.reporting.html import CSP, drill_down_run_ids, to_html
from tests.unit.reporting.test_build import EVAL, case

HOSTILE = (
    "<script>alert(1)</script> </details> <img src=x onerror=alert(1)> <b>bold</b> "
    '<a href="https://evil.example/x" onclick="alert(2)">link</a> <style>body{display:none}</style> "q\' &amp;'
)
TRACE_ID = "0" * 31 + "1"


def ops(variant: str, p50: float) -> Operations:
    return Operations(
        variant=variant,
        runs=10,
        success_rate=0.9,
        p50_ms=p50,
        p95_ms=p50 * 3,
        p99_ms=p50 * 5,
        tokens_per_run=1000,
        cost_per_run=None,
        retries_per_run=0,
        steps_per_completion=2,
        escalation_rate=0,
    )


def hostile_report() -> Report:
    before = [case(i, 1) for i in range(6)]
    now = [case(i, 0 if i < 2 else 1) for i in range(6)]
    now[0] = now[0].model_copy(
        update={
            "case_id": f"c0000 {HOSTILE}",
            "failures": [f"trajectory: {HOSTILE}"],
            "statuses": ["completed"],
            "scorer_pass_rates": {"trajectory": 0.0, "status": 1.0},
        }
    )
    before[0] = before[0].model_copy(update={"case_id": now[0].case_id, "scorer_pass_rates": {"trajectory": 1.0}})
    now.append(CaseResult(dataset="d", case_id="c9999", variant="v1", runs=1, passed_runs=0, pass_rate=0.0))
    return compare(EVAL, now, before, ops=[ops("v1", 40)], baseline_ops=[ops("v1", 30)], baseline_label="eval run b")


def span(seq: int, operation: str, attributes: dict[str, Any], **kw: Any) -> Span:
    return Span(
        trace_id=TRACE_ID,
        span_id=f"{seq + 1:016x}",
        parent_span_id=None if seq == 0 else f"{1:016x}",
        run_id="run-v1-0",
        seq=seq,
        name=operation,
        operation=operation,
        start_ns=0,
        end_ns=2_000_000,
        attributes=attributes,
        **kw,
    )


def hostile_trace() -> RunTrace:
    run = RunRecord(
        run_id="run-v1-0",
        trace_id=TRACE_ID,
        agent_name="support",
        model="mock-gpt",
        status="completed",
        start_ns=0,
        end_ns=5_000_000,
        input=f"user says {HOSTILE}",
        output_text=f"final {HOSTILE}",
    )
    chat = {
        "gen_ai.request.model": "mock-gpt",
        "agenteval.step": 1,
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [
                    {"type": "text", "content": f"model says {HOSTILE}"},
                    {"type": "tool_call", "id": "c1", "name": "send_email", "arguments": {"body": HOSTILE}},
                ],
            }
        ],
    }
    tool = {
        "gen_ai.tool.name": "send_email",
        "gen_ai.tool.call.arguments": f'{{"body": "{HOSTILE}"}}',
        "gen_ai.tool.call.result": f"sent {HOSTILE}",
        "agenteval.tool.outcome": "ok",
    }
    event = SpanEvent(name="agenteval.security", time_ns=1, attributes={"detail": HOSTILE})
    spans = [
        span(0, "invoke_agent", {}),
        span(1, "chat", chat),
        span(2, "execute_tool", tool, events=[event], status_code="ERROR", status_message=f"boom {HOSTILE}"),
    ]
    return RunTrace(run=run, spans=spans)


class Tags(HTMLParser):
    """Every element and attribute the browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_untrusted_text_is_escaped_everywhere_and_nothing_can_run() -> None:
    page = to_html(hostile_report(), {"run-v1-0": hostile_trace()})
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/details&gt;" in page
    # Structure is intact: the hostile </details> closed nothing, so every <details> is closed by the page's own tag.
    assert page.count("<details") == page.count("</details>")
    elements = parse(page)
    names = {tag for tag, _ in elements.tags}
    assert names.isdisjoint({"script", "img", "iframe", "object", "embed", "link", "a", "form", "base"})
    assert [tag for tag, _ in elements.tags].count("style") == 1  # the page's own
    assert not [(tag, a) for tag, attrs in elements.tags for a, _ in attrs if a.startswith("on")]
    assert not [(tag, a) for tag, attrs in elements.tags for a, _ in attrs if a in ("src", "href", "action")]


def test_the_page_forbids_scripts_and_loads_nothing() -> None:
    page = to_html(hostile_report(), {"run-v1-0": hostile_trace()})
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in page
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "url(" not in page
    assert "@import" not in page
    # The only URL in the page is the one in the hostile text, which the parser saw as text, not as an attribute.
    assert "://" not in page.replace("https://evil.example/x", "")


def test_charts_gate_and_cases_in_order() -> None:
    page = to_html(hostile_report())
    assert page.count("<svg") == 3  # variants, scorers, latency
    assert 'class="gate' in page
    assert "gate passed" in page or "gate failed" in page
    kinds = re.findall(r'<details class="case"[^>]*>\s*<summary><span class="badge ([a-z_]+)"', page)
    assert kinds == ["regressed", "regressed", "new"]  # c9999 is new: it has no baseline
    assert "agenteval replay run-v1-1" in page
    assert "4 passing case(s)" in page


def test_drill_down_shows_the_runs_steps() -> None:
    report = hostile_report()
    assert drill_down_run_ids(report) == ["run-v1-0", "run-v1-1"]  # c9999 has no run
    assert drill_down_run_ids(report, limit=1) == ["run-v1-0"]
    page = to_html(report, {"run-v1-0": hostile_trace()})
    assert "chat mock-gpt" in page
    assert "execute_tool send_email" in page
    assert "model says &lt;script&gt;" in page
    assert "sent &lt;script&gt;" in page
    assert "agenteval.security: detail=" in page
    assert "boom &lt;script&gt;" in page
    assert "1 of them show their run's steps" in page


def test_ten_thousand_cases_by_two_variants_render_fast() -> None:
    before = [case(i, 1, variant=v) for v in ("v1", "v2") for i in range(10_000)]
    now = [case(i, 0 if i % 3 == 0 else 1, variant=v) for v in ("v1", "v2") for i in range(10_000)]
    report = compare(EVAL, now, before, ops=[ops("v1", 40), ops("v2", 50)])
    start = time.perf_counter()
    page = to_html(report)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"rendering took {elapsed:.2f} s"
    assert page.count('<details class="case"') == 5_000  # CASE_LIMIT
    assert "more changed or failing case(s) left out" in page
