"""Inline SVG plots: a protocol's ``extra.plots`` and the cross-run cost-accuracy frontier.

Only numbers formatted here go into SVG attributes; every text from a plot spec is escaped.
"""

from __future__ import annotations

import math
from typing import Any

from medevals.report.html.cells import metric_cell
from medevals.report.html.escape import esc, finite, trunc
from medevals.report.html.formats import fmt_secs
from medevals.report.html.runs import RunView

PALETTE = ("#1f3d7a", "#d1495b", "#2e933c", "#c77d00", "#7b2cbf", "#00798c", "#8c564b", "#c2408f", "#5f6b7a")
PLOT_LABEL_CHARS = 40


def fmt_tick(v: float, log: bool, step: float | None = None) -> str:
    """A tick label: thousands separated, and as many decimals as the tick step needs (so 0.00004
    rather than 4.03e-05, and never 0.25, 0.5, 0.75 printed at different precisions)."""
    if log or abs(v) >= 1000:
        return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"
    if step is not None and step > 0:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        if round(step / 10**-decimals, 6) % 1:  # a step of 2.5 x 10^k needs one more
            decimals += 1
        text = f"{v:.{min(decimals, 8)}f}"
        return text.lstrip("-") if float(text) == 0 else text  # never "-0.00"
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], float]:
    """Ticks at a 1, 2, 2.5 or 5 x 10^k step covering [lo, hi] (about ``target`` of them)."""
    span = float(hi) - float(lo)
    if not span > 0 or not math.isfinite(span):
        return [lo], 0.0
    raw = span / max(1, target - 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(first + k * step)
        k += 1
    return ticks, step


#: Approximate advance of a 10px plot label character, for laying labels out without a browser.
LABEL_CHAR_W = 6.0
LABEL_H = 11.0
TICK_CHAR_W = 6.2


def place_labels(
    points: list[tuple[float, float, str]], bounds: tuple[float, float, float, float]
) -> list[tuple[float, float, str, str]]:
    """(x, y, anchor, text) for each point label that fits without touching another label or a
    point, inside ``bounds`` (x0, y0, x1, y1); a label with no free spot is left out (the table
    under the plot names every point). Tried, in order: right-above, right-below, left-above,
    left-below, then further above and below."""
    x0, y0, x1, y1 = bounds
    taken: list[tuple[float, float, float, float]] = [
        (px - 4, py - 4, px + 4, py + 4) for px, py, _ in points
    ]
    out = []
    for px, py, text in points:
        if not text:
            continue
        w = LABEL_CHAR_W * len(text)
        for dx, dy in ((7, -6), (7, 12), (-7, -6), (-7, 12), (7, -17), (-7, -17), (7, 23), (-7, 23)):
            left = px + dx if dx > 0 else px + dx - w
            box = (left, py + dy - LABEL_H + 2, left + w, py + dy + 2)
            if box[0] < x0 or box[2] > x1 or box[1] < y0 or box[3] > y1:
                continue
            if any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
                continue
            taken.append(box)
            out.append((px + dx, py + dy, "start" if dx > 0 else "end", text))
            break
    return out


def svg_plot(plot: dict[str, Any], *, width: int = 520, height: int = 320) -> str:
    """One ``extra.plots`` entry as inline SVG (line, scatter or bar), numbers formatted here.

    Optional keys: ``x_range``/``y_range`` ([lo, hi]), ``x_log``, ``reference: "diagonal"``
    (the y = x line of a reliability diagram), ``frontier: true`` (the lower-x/higher-y Pareto
    staircase over all points, drawn dashed, frontier points ringed); per series ``labels``
    (one short text per point) and ``intervals`` ([lo, hi] per point, drawn as whiskers).
    Every text from the plot spec is escaped; nothing from it becomes markup, a link or an id.
    A spec with no drawable point gives "" (no empty frame on the page).
    """
    from medevals.scoring.pareto import pareto_front

    kind = plot.get("kind") if plot.get("kind") in ("line", "scatter", "bar") else "scatter"
    x_log = bool(plot.get("x_log"))
    series = []
    for i, s in enumerate(plot.get("series") or []):
        if not isinstance(s, dict):
            continue
        pts, labels, ivs = [], [], []
        raw_labels = s.get("labels") if isinstance(s.get("labels"), list) else []
        raw_iv = s.get("intervals") if isinstance(s.get("intervals"), list) else []
        for j, p in enumerate(s.get("points") or []):
            if not isinstance(p, list | tuple) or len(p) < 2:
                continue
            x, y = finite(p[0]), finite(p[1])
            if x is None or y is None or (x_log and x <= 0):
                continue
            pts.append((x, y))
            labels.append(str(raw_labels[j]) if j < len(raw_labels) and raw_labels[j] is not None else "")
            iv = (
                raw_iv[j]
                if j < len(raw_iv) and isinstance(raw_iv[j], list | tuple) and len(raw_iv[j]) == 2
                else None
            )
            lo, hi = (finite(iv[0]), finite(iv[1])) if iv else (None, None)
            ivs.append((lo, hi) if lo is not None and hi is not None else None)
        series.append((str(s.get("name", f"series {i + 1}")), PALETTE[i % len(PALETTE)], pts, labels, ivs))
    all_pts = [p for _, _, pts, _, _ in series for p in pts]
    title = f'<div class="plot-title">{esc(plot.get("title", ""))}</div>'
    if not all_pts:
        return ""  # an empty frame says nothing: the plot is left out

    def rng(key: str, vals: list[float], log: bool) -> tuple[float, float]:
        r = plot.get(key)
        if (
            isinstance(r, list)
            and len(r) == 2
            and finite(r[0]) is not None
            and finite(r[1]) is not None
            and r[1] > r[0]
        ):
            return float(r[0]), float(r[1])
        lo, hi = min(vals), max(vals)
        if log:
            return lo / 1.5, hi * 1.5
        if kind == "bar":
            lo = min(lo, 0.0)
        pad = (hi - lo) * 0.08 or (abs(hi) * 0.1 or 1.0)
        # non-negative data (tokens, seconds, dollars) never gets a negative axis
        lo, hi = (lo - pad if lo - pad >= 0 or lo < 0 else 0.0), hi + pad
        _, step = nice_ticks(lo, hi)  # the axis ends on ticks
        if step > 0:
            lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
        return lo, hi

    ys = [p[1] for p in all_pts] + [v for *_, ivs in series for iv in ivs if iv for v in iv]
    x0, x1 = rng("x_range", [p[0] for p in all_pts], x_log)
    if x_log and x0 <= 0:  # a range that includes 0 cannot be drawn on a log axis
        x_log = False
    y0, y1 = rng("y_range", ys, False)
    left, right, top, bottom = 56, 16, 12, 44
    pw, ph = width - left - right, height - top - bottom

    def X(x: float) -> float:
        if x_log:
            return left + (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) * pw
        return left + (x - x0) / (x1 - x0) * pw

    def Y(y: float) -> float:
        return top + ph - (min(max(y, y0), y1) - y0) / (y1 - y0) * ph

    out = [
        f'<figure class="plot">{title}<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(plot.get("title", "plot"))}">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fbfcfd" stroke="#dfe4ea"/>',
    ]
    yt, ystep = nice_ticks(y0, y1)
    xstep: float | None = None
    if x_log:
        xt = [
            10**e
            for e in range(math.floor(math.log10(x0)), math.ceil(math.log10(x1)) + 1)
            if x0 <= 10**e <= x1
        ]
        xt = xt or [x0, x1]
    else:
        xt, xstep = nice_ticks(x0, x1)
    for v in yt:
        out.append(f'<line x1="{left}" y1="{Y(v):.1f}" x2="{left + pw}" y2="{Y(v):.1f}" stroke="#eef1f5"/>')
        out.append(
            f'<text x="{left - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" class="tick">{esc(fmt_tick(v, False, ystep))}</text>'
        )
    if kind != "bar":
        for v in xt:
            out.append(f'<line x1="{X(v):.1f}" y1="{top}" x2="{X(v):.1f}" y2="{top + ph}" stroke="#eef1f5"/>')
            label = fmt_tick(v, x_log, xstep)
            # a label wider than the margin at either end is aligned to the plot's edge instead
            half = len(label) * TICK_CHAR_W / 2
            anchor, tx = "middle", X(v)
            if tx + half > width - 2:
                anchor, tx = "end", float(width - 2)
            elif tx - half < 2:
                anchor, tx = "start", 2.0
            out.append(
                f'<text x="{tx:.1f}" y="{top + ph + 16}" text-anchor="{anchor}" class="tick">{esc(label)}</text>'
            )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle" class="axis">{esc(plot.get("x_label", ""))}</text>'
    )
    out.append(
        f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 14 {top + ph / 2:.0f})">{esc(plot.get("y_label", ""))}</text>'
    )
    if plot.get("reference") == "diagonal":
        a, b = max(x0, y0), min(x1, y1)
        if b > a:
            out.append(
                f'<line x1="{X(a):.1f}" y1="{Y(a):.1f}" x2="{X(b):.1f}" y2="{Y(b):.1f}" stroke="#9aa5b1" '
                'stroke-dasharray="4 4"/>'
            )
    if kind == "bar":
        cats = sorted({p[0] for p in all_pts})
        slot = pw / max(1, len(cats))
        bw = slot * 0.8 / max(1, len(series))
        for si, (_, color, pts, _, _) in enumerate(series):
            for x, y in pts:
                ci = cats.index(x)
                bx = left + ci * slot + slot * 0.1 + si * bw
                yb, yv = Y(max(y0, 0.0)), Y(y)
                out.append(
                    f'<rect x="{bx:.1f}" y="{min(yb, yv):.1f}" width="{bw:.1f}" height="{abs(yb - yv):.1f}" fill="{color}"/>'
                )
        for ci, c in enumerate(cats):
            out.append(
                f'<text x="{left + ci * slot + slot / 2:.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">'
                f"{esc(fmt_tick(c, False))}</text>"
            )
    else:
        if plot.get("frontier"):
            flat = [(x, y) for _, _, pts, _, _ in series for x, y in pts]
            front = [flat[i] for i in pareto_front(flat)]
            path = []
            for k, (x, y) in enumerate(front):
                if k:
                    path.append(f"{X(x):.1f},{Y(front[k - 1][1]):.1f}")
                path.append(f"{X(x):.1f},{Y(y):.1f}")
            out.append(
                f'<polyline points="{" ".join(path)}" fill="none" stroke="#2e933c" stroke-width="2" '
                'stroke-dasharray="6 3"/>'
            )
            for x, y in front:
                out.append(
                    f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="8" fill="none" stroke="#2e933c" stroke-width="2"/>'
                )
        for _, color, pts, _labels, ivs in series:
            for (x, _), iv in zip(pts, ivs, strict=True):
                if iv:
                    out.append(
                        f'<line x1="{X(x):.1f}" y1="{Y(iv[0]):.1f}" x2="{X(x):.1f}" y2="{Y(iv[1]):.1f}" '
                        f'stroke="{color}" stroke-opacity="0.45" stroke-width="2"/>'
                    )
            if kind == "line" and len(pts) > 1:
                line = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)
                out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
            for x, y in pts:
                out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="4" fill="{color}"/>')
        to_label = [
            (X(x), Y(y), trunc(lab, PLOT_LABEL_CHARS))
            for _, _, pts, labels, _ in series
            for (x, y), lab in zip(pts, labels, strict=True)
        ]
        placed = place_labels(to_label, (left + 1, top + 1, left + pw - 1, top + ph - 1))
        for tx, ty, anchor, text in placed:
            out.append(
                f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" class="plabel">{esc(text)}</text>'
            )
        hidden = sum(1 for *_, t in to_label if t) - len(placed)
    out.append("</svg>")
    if kind == "bar":
        hidden = 0
    legend = "".join(
        f'<span class="key"><i style="background:{color}"></i>{esc(trunc(name, PLOT_LABEL_CHARS * 2))}</span>'
        for name, color, *_ in series
    )
    if plot.get("frontier"):
        legend += '<span class="key"><i class="front"></i>Pareto frontier</span>'
    if plot.get("reference") == "diagonal":
        legend += '<span class="key"><i class="diag"></i>perfect calibration</span>'
    if hidden:
        legend += f'<span class="key">{hidden} point label{"s" if hidden != 1 else ""} left out where they would overlap</span>'
    out.append(f'<figcaption class="legend">{legend}</figcaption></figure>')
    return "".join(out)


def protocol_plots(runs: list[RunView], names: list[str]) -> str:
    """Plots a protocol added under ``extra.plots`` (see Protocol.summarize), one block per run."""
    blocks: list[str] = []
    for name in names:
        for r in runs:
            plots = [
                p
                for p in ((r.bench(name) or {}).get("extra") or {}).get("plots") or []
                if isinstance(p, dict)
            ]
            if not plots:
                continue
            label = f" · {esc(r.folder.path.name)}" if len(runs) > 1 else ""
            drawn = [svg for p in plots if (svg := svg_plot(p))]
            if not drawn:
                continue
            blocks.append(f'<h3>{esc(name)} <span class="muted">plots{label}</span></h3><div class="plots">')
            blocks.extend(drawn)
            blocks.append("</div>")
    if not blocks:
        return ""
    return '<section id="protocol-plots"><h2>Protocol plots</h2>' + "".join(blocks) + "</section>"


def _pareto_series(
    per_run: list[tuple[RunView, list[dict[str, Any]]]], xkey: str, many: bool
) -> list[dict[str, Any]]:
    """One scatter series per run: x = ``xkey``, y = accuracy, labelled by strategy, CI whiskers."""
    return [
        {
            "name": f"{r.manifest.model.spec} · {r.folder.path.name}" if many else r.manifest.model.spec,
            "points": [[p.get(xkey), p["accuracy"]] for p in pts],
            "labels": [p.get("label", "") for p in pts],
            "intervals": [[p.get("ci_low"), p.get("ci_high")] for p in pts],
        }
        for r, pts in per_run
    ]


def _distinct_x(plot: dict[str, Any]) -> int:
    xs = {
        x
        for s in plot.get("series") or []
        for p in s.get("points") or []
        if (x := finite(p[0])) is not None and finite(p[1]) is not None and (x > 0 or not plot.get("x_log"))
    }
    return len(xs)


def pareto_section(runs: list[RunView], names: list[str]) -> str:
    """Cost-accuracy points (``extra.pareto``) of every run, one frontier per benchmark across runs."""
    from medevals.scoring.pareto import pareto_front

    blocks: list[str] = []
    for name in names:
        per_run = []
        for r in runs:
            pts = [
                p
                for p in ((r.bench(name) or {}).get("extra") or {}).get("pareto") or []
                if isinstance(p, dict)
            ]
            pts = [
                p
                for p in pts
                if finite(p.get("accuracy")) is not None and finite(p.get("tokens")) is not None
            ]
            if pts:
                per_run.append((r, pts))
        if not per_run:
            continue
        many = len(runs) > 1

        flat = [(r, p) for r, pts in per_run for p in pts]
        xs = [float(p["tokens"]) for _, p in flat if float(p["tokens"]) > 0]
        plots = [
            {
                "title": "Accuracy vs tokens per item",
                "x_label": "tokens per item (in + out)",
                "y_label": "accuracy",
                "x_log": bool(xs) and min(xs) > 0 and max(xs) / min(xs) > 8,
                "series": _pareto_series(per_run, "tokens", many),
            },
            {
                "title": "Accuracy vs latency per item",
                "x_label": "seconds per item (sum of call latencies)",
                "y_label": "accuracy",
                "series": _pareto_series(per_run, "latency_s", many),
            },
        ]
        costs = [finite(p.get("cost_usd")) for _, p in flat]
        if all(c is not None for c in costs) and any(c for c in costs):
            plots.append(
                {
                    "title": "Accuracy vs cost per item",
                    "x_label": "USD per item",
                    "y_label": "accuracy",
                    "series": _pareto_series(per_run, "cost_usd", many),
                }
            )
        for pl in plots:
            pl.update(kind="scatter", frontier=True, y_range=[0, 1])
        front = set(pareto_front([(float(p["tokens"]), float(p["accuracy"])) for _, p in flat]))
        blocks.append(f"<h3>{esc(name)}</h3>")
        # a plot needs points at two x positions at least; one point (or all at the same cost)
        # is a table row, not a chart
        drawn = [svg_plot(pl) for pl in plots if _distinct_x(pl) >= 2]
        if drawn:
            blocks.append('<div class="plots">' + "".join(drawn) + "</div>")
        blocks.append(
            '<div class="scroll"><table class="grid compact"><thead><tr><th>run</th><th>strategy</th>'
            "<th>accuracy</th><th>calls / item</th><th>tokens / item</th><th>cost / item</th>"
            "<th>latency / item</th><th>on frontier (tokens)</th></tr></thead><tbody>"
        )
        for i, (r, p) in enumerate(flat):
            acc = {k: p.get(k) for k in ("ci_low", "ci_high", "n")} | {"value": p.get("accuracy")}
            cost = finite(p.get("cost_usd"))
            blocks.append(
                f'<tr><td>{esc(r.manifest.model.spec)}<div class="muted small">{esc(r.folder.path.name)}</div></td>'
                f"<td>{esc(p.get('label', ''))}</td><td>{metric_cell(acc, with_n=True)}</td>"
                f"<td>{esc(fmt_tick(finite(p.get('calls')) or 0, False))}</td>"
                f"<td>{float(p['tokens']):,.0f}</td>"
                f"<td>{'unknown' if cost is None else esc(f'${cost:.5f}')}</td>"
                f"<td>{fmt_secs(p.get('latency_s'))}</td><td>{'✓' if i in front else ''}</td></tr>"
            )
        blocks.append("</tbody></table></div>")
    if not blocks:
        return ""
    return (
        '<section id="pareto"><h2>Cost–accuracy</h2><p class="muted">One point per (model, strategy); '
        "whiskers: 95% CI of accuracy; dashed green: the Pareto frontier (no other point is both cheaper and "
        "more accurate), across every run in this report.</p>" + "".join(blocks) + "</section>"
    )
