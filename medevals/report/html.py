"""A self-contained HTML report over one or more run folders.

One file, inline CSS, no external assets and no JavaScript (sample filtering is CSS-only, via
radio buttons), so it opens anywhere, offline, and reads the same with scripts disabled.
Sections: run cards (provenance), a per-benchmark comparison with 95% CI bars, a MedHELM-style
mean per taxonomy category, subset/variant breakdowns, and a sample browser that streams the
first ``max_samples`` samples of each run (never the whole file).

SECURITY: benchmark data and model output are untrusted (a response may well contain
``<script>``, ``onerror=`` attributes or ``javascript:`` links). Every string that comes from a
run folder goes through :func:`_e` (``html.escape(..., quote=True)``) before it reaches the
page; attribute values built from such text are always escaped *and* double-quoted; no
untrusted text is ever placed inside ``<script>`` or ``<style>``, and none becomes a link.
Element ids and class names are generated from indices and fixed vocabularies only.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

import medevals
from medevals.errors import MedevalsError
from medevals.models.openai_format import text as response_text
from medevals.runs.folder import RunFolder
from medevals.schema import RunManifest, Sample

QUESTION_CHARS = 600
RESPONSE_CHARS = 4000
SHORT_CHARS = 160


# --------------------------------------------------------------------------- helpers


def _e(value: Any) -> str:
    """Escape anything for HTML text or a double-quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def _num(x: Any) -> float | None:
    """A finite float, or None (null, NaN, inf, non-numbers)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _trunc(s: str, n: int) -> str:
    """Cut before escaping, so an entity is never split."""
    if len(s) <= n:
        return s
    return f"{s[:n]}… [{len(s) - n:,} more characters]"


def _pct(x: Any) -> str:
    v = _num(x)
    return "—" if v is None else f"{100 * v:.1f}"


def _int(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else "—"


def _secs(x: Any) -> str:
    v = _num(x)
    return "—" if v is None else f"{v:.2f}s"


def _cost(x: Any) -> str:
    v = _num(x)
    return "unknown" if v is None else f"${v:.4f}"


def _plain(value: Any) -> str:
    """A target/answer as short plain text (escaped by the caller)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _ci_bar(m: dict[str, Any] | None) -> str:
    """A 0–100% track with a line from ci_low to ci_high and a dot at the value (inline SVG).

    Only numbers we format ourselves go into the SVG.
    """
    if not m:
        return ""
    v = _num(m.get("value"))
    if v is None:
        return ""
    lo, hi = _num(m.get("ci_low")), _num(m.get("ci_high"))
    w, pad = 120.0, 4.0

    def x(p: float) -> float:
        return pad + min(1.0, max(0.0, p)) * (w - 2 * pad)

    parts = [
        f'<svg class="ci" width="{w:.0f}" height="14" viewBox="0 0 {w:.0f} 14" role="img" '
        f'aria-label="{_pct(v)}% (95% CI {_pct(lo)}–{_pct(hi)})">',
        f'<rect x="{pad}" y="6" width="{w - 2 * pad}" height="2" rx="1" fill="#d8dee6"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        parts.append(f'<rect x="{x(tick) - 0.5:.1f}" y="4" width="1" height="6" fill="#b8c1cc"/>')
    if lo is not None and hi is not None:
        parts.append(
            f'<line x1="{x(lo):.1f}" y1="7" x2="{x(hi):.1f}" y2="7" stroke="#5b8def" '
            f'stroke-width="3" stroke-linecap="round"/>'
        )
    parts.append(f'<circle cx="{x(v):.1f}" cy="7" r="3.5" fill="#1f3d7a"/>')
    parts.append("</svg>")
    return "".join(parts)


def _metric_cell(m: dict[str, Any] | None, *, with_n: bool = False) -> str:
    if not m or _num(m.get("value")) is None:
        return '<span class="muted">—</span>'
    lo, hi = m.get("ci_low"), m.get("ci_high")
    ci = f'<span class="ci-text">[{_pct(lo)}, {_pct(hi)}]</span>' if _num(lo) is not None else ""
    n = f' <span class="muted">n={_int(m.get("n"))}</span>' if with_n else ""
    return f'<div class="val"><b>{_pct(m.get("value"))}%</b> {ci}{n}</div>{_ci_bar(m)}'


_STATUS_CLASS = {"complete": "ok", "interrupted": "warn", "running": "warn", "failed": "bad"}


def _status_badge(status: str) -> str:
    cls = _STATUS_CLASS.get(status, "warn")
    label = status.upper() if cls != "ok" else status
    return f'<span class="badge {cls}">{_e(label)}</span>'


# --------------------------------------------------------------------------- loading


class _Run:
    """What the report needs from one folder: manifest, metrics (or why there are none)."""

    def __init__(self, index: int, folder: RunFolder):
        self.index = index
        self.folder = folder
        self.manifest: RunManifest = folder.read_manifest()
        self.metrics: dict[str, Any] | None = None
        self.metrics_error: str | None = None
        try:
            self.metrics = folder.read_metrics()
        except (MedevalsError, OSError, ValueError) as e:
            self.metrics_error = str(e)

    @property
    def anchor(self) -> str:
        return f"run-{self.index}"

    @property
    def benchmarks(self) -> dict[str, Any]:
        return (self.metrics or {}).get("benchmarks") or {}

    def bench(self, name: str) -> dict[str, Any] | None:
        return self.benchmarks.get(name)

    def primary(self, name: str) -> dict[str, Any] | None:
        b = self.bench(name)
        if not b:
            return None
        return (b.get("metrics") or {}).get(b.get("primary"))

    def category(self, name: str) -> str | None:
        b = self.bench(name)
        if b and (b.get("taxonomy") or {}).get("category"):
            return str(b["taxonomy"]["category"])
        for rec in self.manifest.benchmarks:
            if rec.name == name:
                return rec.taxonomy.category
        return None

    def col_header(self) -> str:
        m = self.manifest
        badge = "" if m.status == "complete" else " " + _status_badge(m.status)
        return (
            f'<th class="runcol"><a href="#{self.anchor}">{_e(m.model.spec)}</a>{badge}'
            f'<div class="muted small">{_e(m.run_id)}</div></th>'
        )


def _benchmark_names(runs: list[_Run]) -> list[str]:
    names: list[str] = []
    for r in runs:
        for n in [*r.benchmarks, *(b.name for b in r.manifest.benchmarks)]:
            if n not in names:
                names.append(n)
    return names


# --------------------------------------------------------------------------- sections


def _run_card(r: _Run) -> str:
    m = r.manifest
    cls = _STATUS_CLASS.get(m.status, "warn")
    out = [f'<article class="card status-{cls}" id="{r.anchor}">']
    out.append(f"<h3>{_e(m.model.spec)} {_status_badge(m.status)}</h3>")
    if m.status != "complete":
        out.append(
            f'<p class="banner {cls}">This run is <b>{_e(m.status)}</b>: results cover only the samples '
            "finished so far; resume it with the same command to complete it.</p>"
        )
    rows = [
        ("run id", m.run_id),
        ("model", f"{m.model.spec} (backend {m.model.backend}, name {m.model.name})"),
        ("medevals", m.medevals_version),
        ("git sha", m.git_sha or "—"),
        ("seed", m.seed),
        ("repeats / limit", f"{m.repeats} / {m.limit if m.limit is not None else 'none'}"),
        ("created", m.created_at),
        ("ended", m.ended_at or "—"),
        ("folder", str(r.folder.path)),
    ]
    if m.roles:
        rows.append(("roles", ", ".join(f"{k}: {v.spec}" for k, v in m.roles.items())))
    out.append('<table class="kv">')
    for k, v in rows:
        out.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    cmd = " ".join(m.command) if m.command else "—"
    out.append(f'<tr><th>command</th><td><code class="cmd">{_e(cmd)}</code></td></tr>')
    out.append("</table>")
    if r.metrics_error:
        out.append(f'<p class="banner bad">No metrics: {_e(r.metrics_error)}</p>')
    if m.benchmarks:
        out.append(
            '<table class="prov"><thead><tr><th>benchmark</th><th>split</th><th>items</th>'
            "<th>protocol</th><th>category</th><th>data source</th><th>data hash</th>"
            "<th>license</th><th>source</th></tr></thead><tbody>"
        )
        for b in m.benchmarks:
            cat = b.taxonomy.category + (f" / {b.taxonomy.subcategory}" if b.taxonomy.subcategory else "")
            short_hash = b.data_hash[:12] + ("…" if len(b.data_hash) > 12 else "")
            out.append(
                f"<tr><td>{_e(b.name)}</td><td>{_e(b.split)}</td><td>{_int(b.n_items)}</td>"
                f"<td>{_e(b.protocol)}</td><td>{_e(cat)}</td>"
                f'<td class="wrap">{_e(b.data_source)}</td>'
                f'<td><code title="{_e(b.data_hash)}">{_e(short_hash)}</code></td>'
                f'<td>{_e(b.license)}</td><td class="wrap">{_e(b.source)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</article>")
    return "".join(out)


def _comparison(runs: list[_Run], names: list[str]) -> str:
    out = [
        '<section id="comparison"><h2>Benchmarks</h2>',
        '<p class="muted">Primary metric, % with 95% CI (bar: 0–100%, line = CI, dot = value).</p>',
        '<div class="scroll"><table class="grid"><thead><tr><th>benchmark</th>',
    ]
    out.extend(r.col_header() for r in runs)
    out.append("</tr></thead><tbody>")
    for name in names:
        prim = next((b.get("primary") for r in runs if (b := r.bench(name))), None)
        cat = next((c for r in runs if (c := r.category(name))), None)
        out.append(
            f'<tr><th class="rowhead">{_e(name)}<div class="muted small">{_e(prim or "")}'
            f"{' · ' + _e(cat) if cat else ''}</div></th>"
        )
        for r in runs:
            b = r.bench(name)
            if not b:
                out.append('<td class="muted">—</td>')
                continue
            u = b.get("usage") or {}
            lat = b.get("latency_s") or {}
            scored = b.get("n_scored", 0)
            n = f"{_int(scored)}/{_int(b['expected'])}" if b.get("expected") else _int(scored)
            errs = b.get("errors") or {}
            err_detail = ""
            if errs:
                err_detail = " (" + ", ".join(f"{_e(k)}: {_int(v)}" for k, v in errs.items()) + ")"
            unscored = b.get("n_unscored", 0)
            head = b.get("headline_variant")
            out.append(
                "<td>"
                + _metric_cell(r.primary(name))
                + '<dl class="facts">'
                + (f"<dt>headline variant</dt><dd>{_e(head)}</dd>" if head else "")
                + f"<dt>n scored</dt><dd>{n}</dd>"
                + f"<dt>unparseable</dt><dd>{_int(b.get('n_unparseable', 0))}</dd>"
                + (f"<dt>unscored</dt><dd>{_int(unscored)}</dd>" if unscored else "")
                + f"<dt>errors</dt><dd>{_int(b.get('n_errors', 0))}{err_detail}</dd>"
                + f"<dt>tokens in/out</dt><dd>{_int(u.get('prompt_tokens', 0))} / "
                f"{_int(u.get('completion_tokens', 0))}</dd>"
                + f"<dt>cost</dt><dd>{_cost(u.get('cost_usd'))}</dd>"
                + f"<dt>latency p50/p95</dt><dd>{_secs(lat.get('p50'))} / {_secs(lat.get('p95'))}</dd>"
                + "</dl></td>"
            )
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _categories(runs: list[_Run], names: list[str]) -> str:
    cats: dict[str, list[str]] = {}
    for name in names:
        cat = next((c for r in runs if (c := r.category(name))), None) or "(uncategorised)"
        cats.setdefault(cat, []).append(name)
    out = [
        '<section id="categories"><h2>By category</h2>',
        '<p class="muted">Unweighted mean of the primary metric over the benchmarks of each '
        "taxonomy category (k = benchmarks with a value).</p>",
        '<div class="scroll"><table class="grid compact"><thead><tr><th>category</th><th>benchmarks</th>',
    ]
    out.extend(r.col_header() for r in runs)
    out.append("</tr></thead><tbody>")
    for cat in sorted(cats):
        members = cats[cat]
        out.append(f'<tr><th class="rowhead">{_e(cat)}</th><td class="small">{_e(", ".join(members))}</td>')
        for r in runs:
            vals = [v for n in members if (v := _num((r.primary(n) or {}).get("value"))) is not None]
            if vals:
                out.append(
                    f"<td><b>{_pct(sum(vals) / len(vals))}%</b> "
                    f'<span class="muted small">k={len(vals)}/{len(members)}</span></td>'
                )
            else:
                out.append('<td class="muted">—</td>')
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _breakdowns(runs: list[_Run], names: list[str]) -> str:
    blocks: list[str] = []
    for name in names:
        for kind, label in (("subsets", "subset"), ("variants", "variant")):
            keys: list[str] = []
            for r in runs:
                for k in (r.bench(name) or {}).get(kind) or {}:
                    if k not in keys:
                        keys.append(k)
            if not keys:
                continue
            blocks.append(f'<h3>{_e(name)} <span class="muted">by {label}</span></h3>')
            blocks.append(f'<div class="scroll"><table class="grid compact"><thead><tr><th>{label}</th>')
            blocks.extend(r.col_header() for r in runs)
            blocks.append("</tr></thead><tbody>")
            for k in keys:
                blocks.append(f'<tr><th class="rowhead">{_e(k)}</th>')
                for r in runs:
                    m = ((r.bench(name) or {}).get(kind) or {}).get(k)
                    blocks.append(f"<td>{_metric_cell(m, with_n=True)}</td>")
                blocks.append("</tr>")
            blocks.append("</tbody></table></div>")
    if not blocks:
        return ""
    return '<section id="breakdowns"><h2>Breakdowns</h2>' + "".join(blocks) + "</section>"


def _cell(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        return _metric_cell(value, with_n="n" in value)
    if isinstance(value, float):
        return _e(f"{value:.4g}")
    return _e(value)


def _protocol_tables(runs: list[_Run], names: list[str]) -> str:
    """Tables a protocol added under ``extra.tables`` (see Protocol.summarize), one block per run."""
    blocks: list[str] = []
    for name in names:
        for r in runs:
            extra = (r.bench(name) or {}).get("extra") or {}
            for t in extra.get("tables") or []:
                label = f" · {_e(r.folder.path.name)}" if len(runs) > 1 else ""
                blocks.append(
                    f'<h3>{_e(name)} <span class="muted">{_e(t.get("title", ""))}{label}</span></h3>'
                )
                blocks.append('<div class="scroll"><table class="grid compact"><thead><tr>')
                blocks.extend(f"<th>{_e(c)}</th>" for c in t.get("columns") or [])
                blocks.append("</tr></thead><tbody>")
                for row in t.get("rows") or []:
                    blocks.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>")
                blocks.append("</tbody></table></div>")
                if t.get("caption"):
                    blocks.append(f'<p class="muted small caption">{_e(t["caption"])}</p>')
    if not blocks:
        return ""
    return '<section id="protocol-tables"><h2>Protocol analyses</h2>' + "".join(blocks) + "</section>"


# --------------------------------------------------------------------------- plots

_PALETTE = ("#1f3d7a", "#d1495b", "#2e933c", "#c77d00", "#7b2cbf", "#00798c", "#8c564b", "#c2408f", "#5f6b7a")
PLOT_LABEL_CHARS = 40


def _fmt_tick(v: float, log: bool) -> str:
    if log or abs(v) >= 1000:
        return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"
    return f"{v:.3g}"


def _svg_plot(plot: dict[str, Any], *, width: int = 520, height: int = 320) -> str:
    """One ``extra.plots`` entry as inline SVG (line, scatter or bar), numbers formatted here.

    Optional keys: ``x_range``/``y_range`` ([lo, hi]), ``x_log``, ``reference: "diagonal"``
    (the y = x line of a reliability diagram), ``frontier: true`` (the lower-x/higher-y Pareto
    staircase over all points, drawn dashed, frontier points ringed); per series ``labels``
    (one short text per point) and ``intervals`` ([lo, hi] per point, drawn as whiskers).
    Every text from the plot spec is escaped; nothing from it becomes markup, a link or an id.
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
            x, y = _num(p[0]), _num(p[1])
            if x is None or y is None or (x_log and x <= 0):
                continue
            pts.append((x, y))
            labels.append(str(raw_labels[j]) if j < len(raw_labels) and raw_labels[j] is not None else "")
            iv = (
                raw_iv[j]
                if j < len(raw_iv) and isinstance(raw_iv[j], list | tuple) and len(raw_iv[j]) == 2
                else None
            )
            lo, hi = (_num(iv[0]), _num(iv[1])) if iv else (None, None)
            ivs.append((lo, hi) if lo is not None and hi is not None else None)
        series.append((str(s.get("name", f"series {i + 1}")), _PALETTE[i % len(_PALETTE)], pts, labels, ivs))
    all_pts = [p for _, _, pts, _, _ in series for p in pts]
    title = f'<div class="plot-title">{_e(plot.get("title", ""))}</div>'
    if not all_pts:
        return f'<figure class="plot">{title}<p class="muted small">No points to plot.</p></figure>'

    def rng(key: str, vals: list[float], log: bool) -> tuple[float, float]:
        r = plot.get(key)
        if (
            isinstance(r, list)
            and len(r) == 2
            and _num(r[0]) is not None
            and _num(r[1]) is not None
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
        return (lo - pad if lo - pad >= 0 or lo < 0 else 0.0), hi + pad

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
        f'role="img" aria-label="{_e(plot.get("title", "plot"))}">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fbfcfd" stroke="#dfe4ea"/>',
    ]
    yt = [y0 + (y1 - y0) * k / 4 for k in range(5)]
    if x_log:
        xt = [
            10**e
            for e in range(math.floor(math.log10(x0)), math.ceil(math.log10(x1)) + 1)
            if x0 <= 10**e <= x1
        ]
        xt = xt or [x0, x1]
    else:
        xt = [x0 + (x1 - x0) * k / 4 for k in range(5)]
    for v in yt:
        out.append(f'<line x1="{left}" y1="{Y(v):.1f}" x2="{left + pw}" y2="{Y(v):.1f}" stroke="#eef1f5"/>')
        out.append(
            f'<text x="{left - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" class="tick">{_e(_fmt_tick(v, False))}</text>'
        )
    if kind != "bar":
        for v in xt:
            out.append(f'<line x1="{X(v):.1f}" y1="{top}" x2="{X(v):.1f}" y2="{top + ph}" stroke="#eef1f5"/>')
            out.append(
                f'<text x="{X(v):.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">{_e(_fmt_tick(v, x_log))}</text>'
            )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle" class="axis">{_e(plot.get("x_label", ""))}</text>'
    )
    out.append(
        f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 14 {top + ph / 2:.0f})">{_e(plot.get("y_label", ""))}</text>'
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
                f"{_e(_fmt_tick(c, False))}</text>"
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
        for _, color, pts, labels, ivs in series:
            for (x, _), iv in zip(pts, ivs, strict=True):
                if iv:
                    out.append(
                        f'<line x1="{X(x):.1f}" y1="{Y(iv[0]):.1f}" x2="{X(x):.1f}" y2="{Y(iv[1]):.1f}" '
                        f'stroke="{color}" stroke-opacity="0.45" stroke-width="2"/>'
                    )
            if kind == "line" and len(pts) > 1:
                line = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)
                out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
            for (x, y), lab in zip(pts, labels, strict=True):
                out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="4" fill="{color}"/>')
                if lab:
                    out.append(
                        f'<text x="{X(x) + 7:.1f}" y="{Y(y) - 6:.1f}" class="plabel">{_e(_trunc(lab, PLOT_LABEL_CHARS))}</text>'
                    )
    out.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{color}"></i>{_e(_trunc(name, PLOT_LABEL_CHARS * 2))}</span>'
        for name, color, *_ in series
    )
    if plot.get("frontier"):
        legend += '<span class="key"><i class="front"></i>Pareto frontier</span>'
    if plot.get("reference") == "diagonal":
        legend += '<span class="key"><i class="diag"></i>perfect calibration</span>'
    out.append(f'<figcaption class="legend">{legend}</figcaption></figure>')
    return "".join(out)


def _protocol_plots(runs: list[_Run], names: list[str]) -> str:
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
            label = f" · {_e(r.folder.path.name)}" if len(runs) > 1 else ""
            blocks.append(f'<h3>{_e(name)} <span class="muted">plots{label}</span></h3><div class="plots">')
            blocks.extend(_svg_plot(p) for p in plots)
            blocks.append("</div>")
    if not blocks:
        return ""
    return '<section id="protocol-plots"><h2>Protocol plots</h2>' + "".join(blocks) + "</section>"


def _pareto_series(
    per_run: list[tuple[_Run, list[dict[str, Any]]]], xkey: str, many: bool
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


def _pareto(runs: list[_Run], names: list[str]) -> str:
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
                p for p in pts if _num(p.get("accuracy")) is not None and _num(p.get("tokens")) is not None
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
        costs = [_num(p.get("cost_usd")) for _, p in flat]
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
        blocks.append(f'<h3>{_e(name)}</h3><div class="plots">')
        blocks.extend(_svg_plot(pl) for pl in plots)
        blocks.append(
            '</div><div class="scroll"><table class="grid compact"><thead><tr><th>run</th><th>strategy</th>'
            "<th>accuracy</th><th>calls / item</th><th>tokens / item</th><th>cost / item</th>"
            "<th>latency / item</th><th>on frontier (tokens)</th></tr></thead><tbody>"
        )
        for i, (r, p) in enumerate(flat):
            acc = {k: p.get(k) for k in ("ci_low", "ci_high", "n")} | {"value": p.get("accuracy")}
            cost = _num(p.get("cost_usd"))
            blocks.append(
                f'<tr><td>{_e(r.manifest.model.spec)}<div class="muted small">{_e(r.folder.path.name)}</div></td>'
                f"<td>{_e(p.get('label', ''))}</td><td>{_metric_cell(acc, with_n=True)}</td>"
                f"<td>{_e(_fmt_tick(_num(p.get('calls')) or 0, False))}</td>"
                f"<td>{float(p['tokens']):,.0f}</td>"
                f"<td>{'unknown' if cost is None else _e(f'${cost:.5f}')}</td>"
                f"<td>{_secs(p.get('latency_s'))}</td><td>{'✓' if i in front else ''}</td></tr>"
            )
        blocks.append("</tbody></table></div>")
    if not blocks:
        return ""
    return (
        '<section id="pareto"><h2>Cost–accuracy</h2><p class="muted">One point per (model, strategy); '
        "whiskers: 95% CI of accuracy; dashed green: the Pareto frontier (no other point is both cheaper and "
        "more accurate), across every run in this report.</p>" + "".join(blocks) + "</section>"
    )


# --------------------------------------------------------------------------- samples

_MARKERS = {
    "correct": "✓ correct",
    "incorrect": "✗ incorrect",
    "unparseable": "? unparseable",
    "error": "! error",
    "unscored": "– unscored",
    "partial": "≈ partial",
}


def _marker(s: Sample) -> str:
    if s.error is not None:
        return "error"
    sc = s.score
    if sc is None or sc.value is None:
        return "unscored"
    if not sc.parsed:
        return "unparseable"
    if sc.value >= 1:
        return "correct"
    if sc.value <= 0:
        return "incorrect"
    return "partial"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        bits = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text":
                bits.append(str(p.get("text", "")))
            elif isinstance(p, dict) and p.get("type") in ("image_url", "input_image", "image"):
                bits.append("[image]")
            elif isinstance(p, dict) and p.get("type") in ("input_audio", "audio"):
                bits.append("[audio]")
            else:
                bits.append(_plain(p))
        return " ".join(bits)
    return _plain(content)


def _question_text(s: Sample) -> str:
    item = s.item
    parts: list[str] = []
    if item.context:
        parts.append(f"Context: {item.context}")
    if isinstance(item.input, str):
        parts.append(item.input)
    else:
        parts.extend(f"{m.get('role', '?')}: {_content_text(m.get('content'))}" for m in item.input)
    if item.choices:
        parts.extend(f"{k}. {v}" for k, v in item.choices.items())
    return "\n".join(parts)


def _sample_html(s: Sample) -> str:
    mk = _marker(s)
    sc = s.score
    target = sc.target if sc is not None and sc.target is not None else s.item.target
    answer = sc.answer if sc is not None else None
    last = s.calls[-1] if s.calls else None
    response = response_text(last.raw) if last is not None else ""
    variant = s.variant + (f" · r{s.repeat}" if s.repeat else "")
    subset = f" · {s.item.subset}" if s.item.subset else ""
    out = [
        f'<details class="sample s-{mk}"><summary>',
        f'<span class="mk mk-{mk}">{_e(_MARKERS[mk])}</span> ',
        f"<code>{_e(_trunc(s.item.id, SHORT_CHARS))}</code> ",
        f'<span class="muted">{_e(s.benchmark)} · {_e(variant)}{_e(subset)}</span> ',
        f'<span class="ta">target <b>{_e(_trunc(_plain(target), SHORT_CHARS))}</b> · '
        f"answer <b>{_e(_trunc(_plain(answer), SHORT_CHARS))}</b></span>",
        "</summary>",
        f'<div class="label">question</div><pre>{_e(_trunc(_question_text(s), QUESTION_CHARS))}</pre>',
    ]
    if last is not None:
        meta = f"{last.model} · {_secs(last.latency_s)} · {last.usage.prompt_tokens:,}/{last.usage.completion_tokens:,} tokens"
        if last.cached:
            meta += " · cached"
        if last.replayed:
            meta += " · replayed"
        out.append(f'<div class="label">response <span class="muted">({_e(meta)})</span></div>')
        shown = _e(_trunc(response, RESPONSE_CHARS)) if response else '<span class="muted">(empty)</span>'
        out.append(f"<pre>{shown}</pre>")
        if last.error:
            out.append(
                f'<div class="label">call error</div><pre class="err">{_e(_trunc(last.error, RESPONSE_CHARS))}</pre>'
            )
    else:
        out.append('<div class="label">response</div><pre><span class="muted">(no model call)</span></pre>')
    if s.error:
        out.append(
            f'<div class="label">error</div><pre class="err">{_e(_trunc(s.error, RESPONSE_CHARS))}</pre>'
        )
    if sc is not None and sc.explanation:
        out.append(
            f'<div class="label">explanation</div><pre>{_e(_trunc(sc.explanation, RESPONSE_CHARS))}</pre>'
        )
    out.append("</details>")
    return "".join(out)


def _total_samples(r: _Run) -> int | None:
    if not r.metrics:
        return None
    ns = [b.get("n") for b in r.benchmarks.values()]
    return sum(n for n in ns if isinstance(n, int)) if ns else None


def _sample_browser(r: _Run, max_samples: int) -> str:
    m = r.manifest
    name = f"f{r.index}"
    out = [
        f'<section class="samples-run" id="samples-{r.index}">',
        f'<h3>{_e(m.model.spec)} <span class="muted small">{_e(m.run_id)}</span></h3>',
    ]
    # CSS-only filter: radio inputs precede the list; rules in the stylesheet hide non-matches.
    # The inputs must be siblings of .sample-list for the `~` selectors to reach it.
    out.append('<span class="filters">show:</span>')
    for i, key in enumerate(["all", *_MARKERS]):
        checked = " checked" if key == "all" else ""
        out.append(
            f'<input type="radio" class="flt flt-{key}" name="{name}" id="{name}-{i}"{checked}>'
            f'<label class="flt-label" for="{name}-{i}">{key}</label>'
        )
    out.append('<div class="sample-list">')
    shown = 0
    problem = ""
    gen = r.folder.iter_samples()
    try:
        for s in islice(gen, max_samples):
            out.append(_sample_html(s))
            shown += 1
    except MedevalsError as e:
        problem = str(e)
    finally:
        gen.close()
    out.append("</div>")
    total = _total_samples(r)
    note = f"Showing the first {shown:,}" + (f" of {total:,}" if total is not None else "") + " samples."
    if shown == 0:
        note = "No samples."
    out.append(f'<p class="muted small">{_e(note)}</p>')
    if problem:
        out.append(f'<p class="banner bad">Stopped reading samples: {_e(problem)}</p>')
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------- page

_CSS = """
:root{--fg:#1d2430;--muted:#6b7685;--line:#dfe4ea;--zebra:#f6f8fa;--accent:#1f3d7a;
--ok:#1d7a46;--okbg:#e6f4ec;--warn:#9a5b00;--warnbg:#fff3dc;--bad:#b42318;--badbg:#fdecea}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;color:var(--fg);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
a{color:var(--accent)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;word-break:break-word;background:var(--zebra);border:1px solid var(--line);
border-radius:4px;padding:8px;margin:2px 0 8px;max-height:28em;overflow:auto}
pre.err{background:var(--badbg);border-color:#f3c1bb}
.muted{color:var(--muted)}.small{font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;border-top:4px solid var(--ok)}
.card.status-warn{border-top-color:#e0a100}.card.status-bad{border-top-color:var(--bad)}
.card h3{margin-top:4px}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:10px;vertical-align:middle}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.badge.bad{background:var(--badbg);color:var(--bad)}
.banner{padding:6px 10px;border-radius:4px;margin:6px 0}
.banner.warn{background:var(--warnbg);color:var(--warn)}.banner.bad{background:var(--badbg);color:var(--bad)}
table{border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
thead th{background:#eef1f5;font-weight:600}
tbody tr:nth-child(even){background:var(--zebra)}
table.kv th{font-weight:500;color:var(--muted);white-space:nowrap;padding-right:16px}
table.kv td,td.wrap{word-break:break-word}
table.prov{margin-top:10px;font-size:12px;width:100%}
code.cmd{word-break:break-all}
.scroll{overflow-x:auto}
table.grid th.runcol{min-width:200px}
th.rowhead{white-space:nowrap}
.val b{font-size:15px}.ci-text{color:var(--muted);font-size:12px}
svg.ci{display:block;margin:2px 0 4px}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:4px 0 0;font-size:12px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
table.compact td,table.compact th{padding:4px 8px}
.filters{font-size:12px;color:var(--muted);margin-right:4px}
.flt{margin:0 2px 8px 0;vertical-align:middle}.flt-label{margin:0 10px 0 0;font-size:12px}
.sample{border:1px solid var(--line);border-radius:4px;margin:3px 0;padding:3px 8px}
.sample:nth-child(even){background:var(--zebra)}
.sample summary{cursor:pointer}
.sample[open]{background:#fff}
.ta{margin-left:6px}
.label{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin-top:6px}
.mk{display:inline-block;min-width:8.5em;font-weight:600;font-size:12px}
.mk-correct{color:var(--ok)}.mk-incorrect{color:var(--bad)}.mk-unparseable{color:var(--warn)}
.mk-error{color:#fff;background:var(--bad);padding:0 6px;border-radius:3px;min-width:0;margin-right:4px}
.mk-unscored,.mk-partial{color:var(--muted)}
footer{margin-top:40px;color:var(--muted);font-size:12px}
.plots{display:flex;flex-wrap:wrap;gap:16px}
figure.plot{margin:4px 0 12px;border:1px solid var(--line);border-radius:6px;padding:8px}
.plot-title{font-weight:600;font-size:13px;margin-bottom:4px}
svg text.tick{font-size:10px;fill:#6b7685}svg text.axis{font-size:11px;fill:#1d2430}
svg text.plabel{font-size:10px;fill:#1d2430}
.legend{font-size:11px;color:var(--muted);max-width:520px}
.legend .key{display:inline-block;margin-right:10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
.legend i.front{border:2px dashed #2e933c;background:none;width:14px;height:0;border-radius:0}
.legend i.diag{border-top:2px dashed #9aa5b1;background:none;width:14px;height:0;border-radius:0}
p.caption{max-width:1000px}
"""

_FILTER_CSS = "".join(f".flt-{k}:checked~.sample-list .sample:not(.s-{k}){{display:none}}" for k in _MARKERS)


def render_html(folders: list[RunFolder], *, max_samples: int = 200) -> str:
    """The report for ``folders`` (one column per run) as one self-contained HTML string."""
    runs = [_Run(i, f) for i, f in enumerate(folders)]
    names = _benchmark_names(runs)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    body: list[str] = [
        "<header><h1>medevals report</h1>",
        f'<p class="muted">Generated {_e(now)} by medevals {_e(medevals.__version__)} · '
        f"{len(runs)} run{'s' if len(runs) != 1 else ''} · {len(names)} benchmark"
        f"{'s' if len(names) != 1 else ''}</p></header>",
        '<nav class="small"><a href="#runs">runs</a> · <a href="#comparison">benchmarks</a> · '
        '<a href="#categories">categories</a> · <a href="#breakdowns">breakdowns</a> · '
        '<a href="#pareto">cost–accuracy</a> · <a href="#protocol-tables">analyses</a> · '
        '<a href="#protocol-plots">plots</a> · '
        '<a href="#samples">samples</a></nav>',
    ]
    if not runs:
        body.append("<p>No runs given.</p>")
    else:
        body.append('<section id="runs"><h2>Runs</h2><div class="cards">')
        body.extend(_run_card(r) for r in runs)
        body.append("</div></section>")
        body.append(_comparison(runs, names))
        body.append(_categories(runs, names))
        body.append(_breakdowns(runs, names))
        body.append(_pareto(runs, names))
        body.append(_protocol_tables(runs, names))
        body.append(_protocol_plots(runs, names))
        body.append('<section id="samples"><h2>Samples</h2>')
        body.append(
            f'<p class="muted">The first {max_samples:,} samples of each run, in file order. '
            "Texts are truncated; the run folder's samples.jsonl has everything.</p>"
        )
        body.extend(_sample_browser(r, max_samples) for r in runs)
        body.append("</section>")
    body.append(
        "<footer>Every value on this page was read from the run folders; nothing was recomputed.</footer>"
    )
    return _page(body)


def _page(body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>medevals report</title>"
        f"<style>{_CSS}{_FILTER_CSS}</style></head><body>" + "".join(body) + "</body></html>\n"
    )


def write_report(folders: list[RunFolder], out_path: Path, *, max_samples: int = 200) -> Path:
    """Render the report and write it to ``out_path`` (UTF-8); returns the path."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(folders, max_samples=max_samples), encoding="utf-8")
    return out_path
