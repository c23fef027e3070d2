"""Inline SVG charts for the HTML report: horizontal bars, drawn here so that the page needs no script or library.

Every label is escaped by :class:`markupsafe.Markup` formatting (variant, scorer and tag names come from user files).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from harness.models.reports import Operations

_LABEL_W = 230
_BAR_X = _LABEL_W + 10
_BAR_W = 380
_WIDTH = _BAR_X + _BAR_W + 210
_ROW_H = 30
_TOP = 24
_GOOD, _BAD, _NOW, _BASE = "#1a7f37", "#cf222e", "#0969da", "#afb8c1"
_P95, _P99 = "#54aeff", "#b6e3ff"


@dataclass(frozen=True)
class RateRow:
    """One bar pair: a pass rate now and in the baseline."""

    label: str
    now: float | None
    baseline: float | None
    delta: float | None


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _frame(title: str, rows: int, body: list[Markup], legend: Markup) -> Markup:
    height = _TOP + rows * _ROW_H + 26
    head = Markup(
        '<svg class="chart" role="img" aria-label="{title}" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        '<title>{title}</title><text x="0" y="14" class="ct">{title}</text>'
    ).format(title=title, w=_WIDTH, h=height)
    return head + Markup("").join(body) + legend.format(y=height - 8) + Markup("</svg>")


def rate_chart(title: str, rows: list[RateRow]) -> Markup:
    """Pass rates (0..1) now as a thick bar, the baseline as a thin grey bar under it, and the delta in colour."""
    body: list[Markup] = []
    for i, row in enumerate(rows):
        y = _TOP + i * _ROW_H
        body.append(Markup('<text x="0" y="{y}" class="cl">{label}</text>').format(y=y + 14, label=_short(row.label)))
        body.append(
            Markup('<rect x="{x}" y="{y}" width="{w}" height="20" fill="#f6f8fa"/>').format(x=_BAR_X, y=y, w=_BAR_W)
        )
        if row.now is not None:
            body.append(
                Markup('<rect x="{x}" y="{y}" width="{w:.1f}" height="13" fill="{c}"><title>{t}</title></rect>').format(
                    x=_BAR_X, y=y, w=row.now * _BAR_W, c=_NOW, t=f"now {row.now:.1%}"
                )
            )
        if row.baseline is not None:
            body.append(
                Markup('<rect x="{x}" y="{y}" width="{w:.1f}" height="6" fill="{c}"><title>{t}</title></rect>').format(
                    x=_BAR_X, y=y + 14, w=row.baseline * _BAR_W, c=_BASE, t=f"baseline {row.baseline:.1%}"
                )
            )
        now = "—" if row.now is None else f"{row.now:.1%}"
        body.append(
            Markup('<text x="{x}" y="{y}" class="cv">{v}</text>').format(x=_BAR_X + _BAR_W + 8, y=y + 14, v=now)
        )
        if row.delta is not None:
            color = _BAD if row.delta < -0.0005 else _GOOD if row.delta > 0.0005 else "#57606a"
            body.append(
                Markup('<text x="{x}" y="{y}" class="cv" fill="{c}">{d}</text>').format(
                    x=_BAR_X + _BAR_W + 68, y=y + 14, c=color, d=f"{row.delta:+.1%}"
                )
            )
    legend = Markup(
        '<text x="{x}" y="{{y}}" class="cg"><tspan fill="{now}">■ now</tspan>  <tspan fill="{base}">■ baseline</tspan>'
        "  Δ = now − baseline</text>"
    ).format(x=_BAR_X, now=_NOW, base=_BASE)
    return _frame(title, len(rows), body, legend)


def latency_chart(title: str, rows: list[tuple[str, Operations]]) -> Markup:
    """Run duration per variant: nested bars to p99, p95 and p50 on one millisecond scale, with the numbers."""
    known = [o for _, o in rows if o.p99_ms is not None or o.p95_ms is not None or o.p50_ms is not None]
    top = max((max(x for x in (o.p50_ms, o.p95_ms, o.p99_ms) if x is not None) for o in known), default=0.0) or 1.0
    body: list[Markup] = []
    for i, (label, ops) in enumerate(rows):
        y = _TOP + i * _ROW_H
        body.append(Markup('<text x="0" y="{y}" class="cl">{label}</text>').format(y=y + 14, label=_short(label)))
        for value, color, name in ((ops.p99_ms, _P99, "p99"), (ops.p95_ms, _P95, "p95"), (ops.p50_ms, _NOW, "p50")):
            if value is None:
                continue
            body.append(
                Markup('<rect x="{x}" y="{y}" width="{w:.1f}" height="20" fill="{c}"><title>{t}</title></rect>').format(
                    x=_BAR_X, y=y, w=value / top * _BAR_W, c=color, t=f"{name} {value:,.0f} ms"
                )
            )
        numbers = " · ".join(
            f"{name} {'—' if v is None else f'{v:,.0f}'}"
            for name, v in (("p50", ops.p50_ms), ("p95", ops.p95_ms), ("p99", ops.p99_ms))
        )
        body.append(
            Markup('<text x="{x}" y="{y}" class="cv">{v} ms</text>').format(x=_BAR_X + _BAR_W + 8, y=y + 14, v=numbers)
        )
    legend = Markup(
        '<text x="{x}" y="{{y}}" class="cg"><tspan fill="{p50}">■ p50</tspan>  <tspan fill="{p95}">■ p95</tspan>'
        '  <tspan fill="{p99}">■ p99</tspan>  scale: 0–{top} ms</text>'
    ).format(x=_BAR_X, p50=_NOW, p95=_P95, p99=_P99, top=f"{top:,.0f}")
    return _frame(title, len(rows), body, legend)
