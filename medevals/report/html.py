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
            out.append(
                "<td>"
                + _metric_cell(r.primary(name))
                + '<dl class="facts">'
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
    if not blocks:
        return ""
    return '<section id="protocol-tables"><h2>Protocol analyses</h2>' + "".join(blocks) + "</section>"


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
        body.append(_protocol_tables(runs, names))
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
