"""Table cells shared by every section: a metric with its CI (text and SVG bar), status badges."""

from __future__ import annotations

from typing import Any

from medevals.report.html.escape import esc, finite
from medevals.report.html.formats import fmt_int, fmt_num, fmt_pct


def ci_bar(m: dict[str, Any] | None) -> str:
    """A 0–100% track with a line from ci_low to ci_high and a dot at the value (inline SVG).

    Only numbers we format ourselves go into the SVG.
    """
    if not m:
        return ""
    v = finite(m.get("value"))
    if v is None:
        return ""
    lo, hi = finite(m.get("ci_low")), finite(m.get("ci_high"))
    w, pad = 120.0, 4.0
    a, b = _scale(m) or (0.0, 1.0)

    def x(p: float) -> float:
        return pad + min(1.0, max(0.0, (p - a) / (b - a))) * (w - 2 * pad)

    label = (
        f"{fmt_num(v)} on {a:g}-{b:g} (95% CI {fmt_num(lo)}–{fmt_num(hi)})"
        if _scale(m)
        else f"{fmt_pct(v)}% (95% CI {fmt_pct(lo)}–{fmt_pct(hi)})"
    )
    parts = [
        f'<svg class="ci" width="{w:.0f}" height="14" viewBox="0 0 {w:.0f} 14" role="img" '
        f'aria-label="{label}">',
        f'<rect x="{pad}" y="6" width="{w - 2 * pad}" height="2" rx="1" fill="#d8dee6"/>',
    ]
    for tick in (a, (a + b) / 2, b):
        parts.append(f'<rect x="{x(tick) - 0.5:.1f}" y="4" width="1" height="6" fill="#b8c1cc"/>')
    if lo is not None and hi is not None:
        parts.append(
            f'<line x1="{x(lo):.1f}" y1="7" x2="{x(hi):.1f}" y2="7" stroke="#5b8def" '
            f'stroke-width="3" stroke-linecap="round"/>'
        )
    parts.append(f'<circle cx="{x(v):.1f}" cy="7" r="3.5" fill="#1f3d7a"/>')
    parts.append("</svg>")
    return "".join(parts)


def _scale(m: dict[str, Any]) -> tuple[float, float] | None:
    """A metric's scale when it is not a share (``MetricSpec.scale``: a 1-5 rating)."""
    sc = m.get("scale")
    if isinstance(sc, list | tuple) and len(sc) == 2:
        a, b = finite(sc[0]), finite(sc[1])
        if a is not None and b is not None and b > a:
            return (a, b)
    return None


def metric_cell(m: dict[str, Any] | None, *, with_n: bool = False) -> str:
    if not m or finite(m.get("value")) is None:
        return '<span class="muted">—</span>'
    lo, hi = m.get("ci_low"), m.get("ci_high")
    n = f' <span class="muted">n={fmt_int(m.get("n"))}</span>' if with_n else ""
    sc = _scale(m)
    if sc:
        ci = f'<span class="ci-text">[{fmt_num(lo)}, {fmt_num(hi)}]</span>' if finite(lo) is not None else ""
        unit = f' <span class="muted small">({sc[0]:g}–{sc[1]:g})</span>'
        return f'<div class="val"><b>{fmt_num(m.get("value"))}</b>{unit} {ci}{n}</div>{ci_bar(m)}'
    ci = f'<span class="ci-text">[{fmt_pct(lo)}, {fmt_pct(hi)}]</span>' if finite(lo) is not None else ""
    return f'<div class="val"><b>{fmt_pct(m.get("value"))}%</b> {ci}{n}</div>{ci_bar(m)}'


STATUS_CLASS = {
    "complete": "ok",
    "incomplete": "warn",
    "interrupted": "warn",
    "running": "warn",
    "failed": "bad",
}


def status_badge(status: str) -> str:
    cls = STATUS_CLASS.get(status, "warn")
    label = status.upper() if cls != "ok" else status
    return f'<span class="badge {cls}">{esc(label)}</span>'


def cell(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        return metric_cell(value, with_n="n" in value)
    if isinstance(value, float):
        return esc(f"{value:.4g}")
    return esc(value)
