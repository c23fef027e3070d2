"""The report as Markdown for a GitHub PR comment or ``$GITHUB_STEP_SUMMARY``: the verdict first, details collapsed.

GitHub rejects comments over 65,536 characters, so the output is built to a budget (default 60,000): the summary
tables always fit, and the per-case list is cut, regressions first, with a line saying how many were left out.
Model output is untrusted: it is shown only inside code spans, with backticks and pipes neutralised.
"""

from __future__ import annotations

from harness.models.reports import CaseChange, Report
from harness.reporting._format import code, delta, fit, num, pct

LIMIT = 60_000
_ICON = {
    "regressed": "🔴 regressed",
    "fixed": "🟢 fixed",
    "still_failing": "⚪ still failing",
    "new": "🆕 new",
    "removed": "➖ removed",
    "passing": "✅ passing",
}


def to_markdown(report: Report, *, limit: int = LIMIT, replay_hint: bool = True) -> str:
    """Render the report; the result is at most ``limit`` characters."""
    gate = report.gate
    head = [
        f"## agenteval: {'✅ gate passed' if gate.passed else '❌ gate failed'}",
        "",
        f"**{gate.reason}**",
        "",
        f"Eval run `{report.eval_run.eval_run_id}`"
        + (f" at `{report.eval_run.git_commit[:10]}`" if report.eval_run.git_commit else "")
        + (f", compared with {report.baseline}." if report.baseline else ", no baseline."),
        "",
        "| variant | cases | pass rate | baseline | Δ | fixed | regressed | test | p | flaky |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for v in report.variants:
        base = f"{v.baseline_variant}: {pct(v.baseline_pass_rate)}" if v.baseline_variant else "—"
        p = "—" if v.p_value is None else f"{v.p_value:.3g}" + (" ★" if v.significant else "")
        head.append(
            f"| {v.variant} | {v.cases} | {pct(v.pass_rate)} | {base} | {delta(v.delta)} | {v.fixed} | "
            f"{v.regressed} | {v.test} | {p} | {v.flaky} |"
        )
    head += ["", "★ significant at α = " + f"{gate.alpha:g}" + " (exact McNemar, or a sign-flip test with epochs)."]
    if len(gate.failures) > 1:
        head += ["", "Gate failures:", "", *(f"- {f}" for f in gate.failures)]
    sections = [_scorers(report), _operations(report)]
    text = "\n".join(head) + "\n"
    for section in sections:
        if len(text) + len(section) < limit - 2_000:
            text += "\n" + section
    return text + _cases(report, limit - len(text), replay_hint)


def _scorers(report: Report) -> str:
    rows = [
        "<details><summary>Scorers</summary>",
        "",
        "| scorer | variant | pass rate | baseline | Δ | p | mean value | Δ value (95% CI) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in report.scorers:
        ci = (
            f"{s.value_delta:+.3f} ({s.value_ci[0]:+.3f}, {s.value_ci[1]:+.3f})"
            if s.value_ci and s.value_delta is not None
            else "—"
        )
        rows.append(
            f"| {s.scorer} | {s.variant} | {pct(s.pass_rate)} | {pct(s.baseline_pass_rate)} | {delta(s.delta)} | "
            f"{'—' if s.p_value is None else f'{s.p_value:.3g}'} | "
            f"{'—' if s.mean_value is None else f'{s.mean_value:.3f}'} | {ci} |"
        )
    rows += ["", "</details>", ""]
    return "\n".join(rows)


def _operations(report: Report) -> str:
    rows = [
        "<details><summary>Operations</summary>",
        "",
        "| variant | runs | success | p50 ms | p95 ms | p99 ms | tokens/run | retries/run | steps/completion "
        "| escalated |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in report.operations:
        for label, o in (("", d.current), (" (baseline)", d.baseline)):
            if o is None:
                continue
            rows.append(
                f"| {o.variant}{label} | {o.runs} | {pct(o.success_rate)} | {num(o.p50_ms)} | {num(o.p95_ms)} | "
                f"{num(o.p99_ms)} | {o.tokens_per_run:,.0f} | {o.retries_per_run:.2f} | "
                f"{num(o.steps_per_completion, 2)} | {pct(o.escalation_rate)} |"
            )
    rows += ["", "</details>", ""]
    return "\n".join(rows)


def _cases(report: Report, budget: int, replay_hint: bool) -> str:
    interesting = [c for c in report.cases if c.outcome != "passing" or c.newly_compromised]
    passing = len(report.cases) - len(interesting)
    open_ = (
        "<details open>" if any(c.outcome == "regressed" or c.newly_compromised for c in interesting) else "<details>"
    )
    head = [f"{open_}<summary>Cases: {len(interesting)} changed or failing, {passing} passing</summary>", ""]
    foot = ["", "</details>", ""]
    overhead = sum(len(x) + 1 for x in head + foot)
    lines, left_out = fit(interesting, lambda c: _case_line(c, replay_hint), budget, overhead)
    if left_out:
        lines.append(f"- … {left_out} more case(s) left out to fit GitHub's size limit")
    return "\n".join(head + lines + foot)


def _case_line(change: CaseChange, replay_hint: bool) -> str:
    case = change.current or change.baseline
    assert case is not None
    flag = " 🚨 newly compromised" if change.newly_compromised else ""
    rate = ""
    if change.current is not None and change.current.runs > 1:
        rate = (
            f" ({change.current.passed_runs}/{change.current.runs} epochs{', flaky' if change.current.flaky else ''})"
        )
    line = f"- {_ICON[change.outcome]}{flag}: **{change.dataset}/{change.case_id}** `{change.variant}`{rate}"
    if change.current is not None and change.current.failures:
        line += " — " + "; ".join(code(f, 160) for f in change.current.failures[:2])
    if replay_hint and change.current is not None and change.current.run_ids and change.outcome != "passing":
        line += f" · `agenteval replay {change.current.run_ids[0]}`"
    return line
