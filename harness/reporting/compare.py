"""Variants side by side: the matrix, the aggregates and the paired tests of a comparison, and its Markdown and HTML.

Pure functions, no I/O. A case passes under a variant exactly as in reports (:attr:`CaseResult.passed`: a majority of
its runs passed every score). Model output is untrusted: the Markdown shows it only inside neutralised code spans,
the HTML escapes every value (jinja2 autoescape) and forbids scripts with a Content-Security-Policy.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from harness.models.comparisons import (
    Comparison,
    JudgeSummary,
    MatrixRow,
    PairComparison,
    VariantAggregate,
    VariantCell,
)
from harness.models.evals import EvalRunRecord
from harness.models.reports import CaseResult, Operations
from harness.reporting._format import code, fit, num, pct, short
from harness.reporting.stats import mcnemar_exact, wilson

MARKDOWN_LIMIT = 60_000


def build_comparison(
    eval_run: EvalRunRecord,
    variants: Sequence[str],
    cases: Sequence[CaseResult],
    ops: Sequence[Operations],
    *,
    outputs: Mapping[str, str | None] | None = None,
    judges: Mapping[tuple[str, str], JudgeSummary] | None = None,
    alpha: float = 0.05,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare ``variants`` case by case.

    Args:
        cases: Case × variant results of the eval run (other variants are left out).
        ops: Operational metrics per variant.
        outputs: Run id -> final answer text (the first run of each case × variant is shown).
        judges: (a, b) -> the pairwise judge's verdicts on ``b`` against ``a``.
        alpha: Significance level of the McNemar tests.
    """
    by_case: dict[tuple[str, str], dict[str, VariantCell]] = defaultdict(dict)
    for case in cases:
        if case.variant in variants:
            by_case[(case.dataset, case.case_id)][case.variant] = _cell(case, outputs or {})
    rows = [
        MatrixRow(dataset=dataset, case_id=case_id, cells=cells, differs=_differs(cells, variants))
        for (dataset, case_id), cells in by_case.items()
    ]
    rows.sort(key=lambda r: (not r.differs, r.dataset, r.case_id))
    ops_of = {o.variant: o for o in ops}
    aggregates = [_aggregate(v, [c for c in cases if c.variant == v], ops_of.get(v)) for v in variants]
    pairs = [_pair(a, b, rows, alpha, (judges or {}).get((a, b))) for a, b in itertools.combinations(variants, 2)]
    return Comparison(
        eval_run=eval_run,
        variants=list(variants),
        generated_ns=time.time_ns(),
        alpha=alpha,
        rows=rows,
        aggregates=aggregates,
        pairs=pairs,
        notes=list(notes),
    )


def _cell(case: CaseResult, outputs: Mapping[str, str | None]) -> VariantCell:
    first = case.run_ids[0] if case.run_ids else None
    status = Counter(case.statuses).most_common(1)[0][0] if case.statuses else "unknown"
    return VariantCell(
        variant=case.variant,
        status=status,
        passed=case.passed,
        passed_runs=case.passed_runs,
        runs=case.runs,
        failure=None if case.passed or not case.failures else case.failures[0],
        output=outputs.get(first) if first else None,
        run_id=first,
    )


def _differs(cells: Mapping[str, VariantCell], variants: Sequence[str]) -> bool:
    if any(v not in cells for v in variants):
        return True
    return len({(c.passed, c.status) for c in cells.values()}) > 1


def _aggregate(variant: str, cases: Sequence[CaseResult], ops: Operations | None) -> VariantAggregate:
    passed = sum(c.passed for c in cases)
    interval = wilson(passed, len(cases))
    rates: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        for scorer, rate in case.scorer_pass_rates.items():
            rates[scorer].append(rate)
    return VariantAggregate(
        variant=variant,
        cases=len(cases),
        passed=passed,
        pass_rate=round(passed / len(cases), 6) if cases else 0.0,
        ci_low=round(interval.low, 6),
        ci_high=round(interval.high, 6),
        scorer_pass_rates={k: round(sum(v) / len(v), 6) for k, v in sorted(rates.items())},
        runs=sum(c.runs for c in cases),
        tokens_per_run=ops.tokens_per_run if ops else None,
        p50_ms=ops.p50_ms if ops else None,
    )


def _pair(a: str, b: str, rows: Sequence[MatrixRow], alpha: float, judge: JudgeSummary | None) -> PairComparison:
    both = [(r.cells[a].passed, r.cells[b].passed) for r in rows if a in r.cells and b in r.cells]
    a_only = sum(pa and not pb for pa, pb in both)
    b_only = sum(pb and not pa for pa, pb in both)
    p_value = mcnemar_exact(b_only, a_only).p_value
    return PairComparison(
        variant_a=a,
        variant_b=b,
        paired=len(both),
        a_only=a_only,
        b_only=b_only,
        p_value=p_value,
        significant=p_value < alpha,
        judge=judge,
    )


# -- Markdown -----------------------------------------------------------------------------------------------------


def win_rate(judge: JudgeSummary | None) -> str:
    """``b``'s win rate with its interval, or why there is none."""
    if judge is None:
        return "— (no rubric)"
    if judge.win_rate_b is None:
        return f"— (no decided pair; {judge.ties} ties)"
    return f"{judge.win_rate_b:.1%} [{pct(judge.ci_low)}, {pct(judge.ci_high)}]"


def to_markdown(comparison: Comparison, *, limit: int = MARKDOWN_LIMIT, output_chars: int = 120) -> str:
    """Render the comparison as Markdown of at most ``limit`` characters (the matrix is cut, differing rows first)."""
    run = comparison.eval_run
    lines = [
        f"## agenteval compare: {' vs '.join(comparison.variants)}",
        "",
        f"Eval run `{run.eval_run_id}`" + (f" at `{run.git_commit[:10]}`" if run.git_commit else "") + ": "
        f"{len(comparison.rows)} cases, {comparison.differing} where the variants differ.",
        "",
        "| variant | cases | pass rate (95% CI) | tokens/run | p50 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for agg in comparison.aggregates:
        lines.append(
            f"| {agg.variant} | {agg.cases} | {pct(agg.pass_rate)} [{pct(agg.ci_low)}, {pct(agg.ci_high)}] | "
            f"{num(agg.tokens_per_run)} | {num(agg.p50_ms)} |"
        )
    lines += [
        "",
        "| pair | cases | only a passes | only b passes | McNemar p | judge: b's win rate (95% CI) | consistency |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pair in comparison.pairs:
        judge = pair.judge
        lines.append(
            f"| {pair.variant_a} vs {pair.variant_b} | {pair.paired} | {pair.a_only} | {pair.b_only} | "
            f"{pair.p_value:.3g}{' ★' if pair.significant else ''} | {win_rate(judge)} | "
            f"{pct(judge.position_consistency) if judge else '—'} |"
        )
    lines += ["", f"★ significant at α = {comparison.alpha:g} (exact McNemar on case pass/fail)."]
    rubrics = sorted({p.judge.rubric for p in comparison.pairs if p.judge})
    if rubrics:
        lines.append(f"Judge: {', '.join(rubrics)}, both orders per pair; ties and inconsistent pairs not decided.")
    lines += [*(f"> {note}" for note in comparison.notes), "", *_scorers_markdown(comparison)]
    text = "\n".join(lines) + "\n"
    return text + _matrix_markdown(comparison, limit - len(text), output_chars)


def _scorers_markdown(comparison: Comparison) -> list[str]:
    scorers = sorted({s for agg in comparison.aggregates for s in agg.scorer_pass_rates})
    if not scorers:
        return []
    rows = [
        "<details><summary>Pass rate per scorer</summary>",
        "",
        "| scorer | " + " | ".join(comparison.variants) + " |",
        "|---|" + "---:|" * len(comparison.variants),
    ]
    for scorer in scorers:
        cells = [pct(agg.scorer_pass_rates.get(scorer)) for agg in comparison.aggregates]
        rows.append(f"| {scorer} | " + " | ".join(cells) + " |")
    return [*rows, "", "</details>", ""]


def _matrix_markdown(comparison: Comparison, budget: int, output_chars: int) -> str:
    head = [
        f"<details{' open' if comparison.differing else ''}><summary>Cases: {comparison.differing} differ, "
        f"{len(comparison.rows) - comparison.differing} agree</summary>",
        "",
        "| case | " + " | ".join(comparison.variants) + " |",
        "|---|" + "---|" * len(comparison.variants),
    ]
    foot = ["", "</details>", ""]
    overhead = sum(len(line) + 1 for line in head + foot)
    body, left_out = fit(
        comparison.rows, lambda row: _row_markdown(row, comparison.variants, output_chars), budget, overhead
    )
    if left_out:
        foot.insert(0, f"\n… {left_out} more case(s) left out to fit GitHub's size limit.")
    return "\n".join(head + body + foot)


def _row_markdown(row: MatrixRow, variants: Sequence[str], output_chars: int) -> str:
    cells = [_cell_markdown(row.cells.get(v), output_chars) for v in variants]
    name = code(f"{row.dataset}/{row.case_id}", 120)
    return f"| {f'**{name}**' if row.differs else name} | " + " | ".join(cells) + " |"


def _cell_markdown(cell: VariantCell | None, output_chars: int) -> str:
    if cell is None:
        return "— not run"
    parts = [
        f"{'✅' if cell.passed else '❌'} {cell.status}"
        + (f" ({cell.passed_runs}/{cell.runs})" if cell.runs > 1 else "")
    ]
    if cell.failure:
        parts.append(code(cell.failure, 100))
    if cell.output:
        parts.append(code(cell.output, output_chars))
    return "<br>".join(parts)


# -- HTML ---------------------------------------------------------------------------------------------------------

# No script, no external resource: the CSP forbids both, so an output that smuggles markup past the escaping still
# cannot run or call home. Inline styles only.
_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agenteval compare {{ c.variants | join(" vs ") }}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs > td:first-child { border-left: 4px solid #bf8700; }
.pass { color: #1a7f37; } .fail { color: #cf222e; }
.failure { color: #57606a; font-size: 12px; }
pre { white-space: pre-wrap; max-width: 60ch; margin: 0.3rem 0 0; font-size: 12px; }
summary { cursor: pointer; font-size: 12px; max-width: 60ch; }
</style>
</head>
<body>
<h1>agenteval compare: {{ c.variants | join(" vs ") }}</h1>
<p>Eval run <code>{{ c.eval_run.eval_run_id }}</code>{% if c.eval_run.git_commit %} at
<code>{{ c.eval_run.git_commit[:10] }}</code>{% endif %}: {{ c.rows | length }} cases,
{{ c.differing }} where the variants differ.</p>
{% for note in c.notes %}<p><em>{{ note }}</em></p>{% endfor %}
<h2>Variants</h2>
<table>
<tr><th>variant</th><th>cases</th><th>pass rate</th><th>95% CI</th><th>tokens/run</th><th>p50 ms</th>
{% for s in scorers %}<th>{{ s }}</th>{% endfor %}</tr>
{% for a in c.aggregates %}<tr><td>{{ a.variant }}</td><td class="num">{{ a.cases }}</td>
<td class="num">{{ pct(a.pass_rate) }}</td><td class="num">{{ pct(a.ci_low) }} – {{ pct(a.ci_high) }}</td>
<td class="num">{{ number(a.tokens_per_run) }}</td><td class="num">{{ number(a.p50_ms) }}</td>
{% for s in scorers %}<td class="num">{{ pct(a.scorer_pass_rates.get(s)) }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Pairs</h2>
<table>
<tr><th>pair</th><th>cases</th><th>only a passes</th><th>only b passes</th><th>McNemar p</th>
<th>judge: b's win rate (95% CI)</th><th>a / b / ties</th><th>position consistency</th></tr>
{% for p in c.pairs %}<tr><td>{{ p.variant_a }} vs {{ p.variant_b }}</td><td class="num">{{ p.paired }}</td>
<td class="num">{{ p.a_only }}</td><td class="num">{{ p.b_only }}</td>
<td class="num">{{ "%.3g" | format(p.p_value) }}{% if p.significant %} ★{% endif %}</td>
<td class="num">{{ win_rate(p.judge) }}</td>
<td class="num">{% if p.judge %}{{ p.judge.wins_a }} / {{ p.judge.wins_b }} / {{ p.judge.ties }}
{% else %}—{% endif %}</td>
<td class="num">{{ pct(p.judge.position_consistency) if p.judge else "—" }}</td></tr>
{% endfor %}</table>
<p>★ significant at α = {{ c.alpha }} (exact McNemar on case pass/fail).
{% if judged %}Judge: {{ judged }}, both orders per pair.{% endif %}</p>
<h2>Cases</h2>
<table>
<tr><th>case</th>{% for v in c.variants %}<th>{{ v }}</th>{% endfor %}</tr>
{% for row in c.rows %}<tr{% if row.differs %} class="differs"{% endif %}>
<td><code>{{ row.dataset }}/{{ row.case_id }}</code></td>
{% for v in c.variants %}{% set cell = row.cells.get(v) %}<td>{% if cell is none %}— not run{% else %}
<span class="{{ 'pass' if cell.passed else 'fail' }}">{{ "✓" if cell.passed else "✗" }} {{ cell.status }}</span>
{% if cell.runs > 1 %}({{ cell.passed_runs }}/{{ cell.runs }}){% endif %}
{% if cell.failure %}<div class="failure">{{ cell.failure }}</div>{% endif %}
{% if cell.output %}<details><summary>{{ flatten(cell.output, 100) }}</summary>
<pre>{{ cell.output }}</pre></details>{% endif %}
{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
</body>
</html>
"""


def to_html(comparison: Comparison) -> str:
    """Render the comparison as one self-contained HTML page (no script, no external resource; all text escaped)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    template = env.from_string(_HTML)
    scorers = sorted({s for agg in comparison.aggregates for s in agg.scorer_pass_rates})
    judged = ", ".join(sorted({f"{p.judge.rubric} ({p.judge.judge})" for p in comparison.pairs if p.judge}))
    return template.render(
        c=comparison, scorers=scorers, judged=judged, pct=pct, number=num, win_rate=win_rate, flatten=short
    )
