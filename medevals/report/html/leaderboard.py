"""The leaderboard page: one self-contained HTML file over the results index, sortable columns.

Sections: models (mean share, win rate, per-category means, cost, cost per point), a model x
benchmark grid, the head-to-head win-rate matrix, every leaderboard row (value, CI, counts,
cost, run), and the run folders that could not be read.

Sorting is the one piece of script medevals pages carry: a fixed, inline function (``SORT_JS``)
that reorders table rows when a header is clicked (or focused and Enter pressed). The page's
Content-Security-Policy allows exactly that script by its SHA-256 hash and nothing else (no
other inline script, no event-handler attribute, nothing fetched), so a model name such as
``<img onerror=...>`` stays text: every value from the index goes through ``esc``, and the
script only moves existing rows, reading the numbers from ``data-v`` attributes. Without
script the tables read the same, in their default order.

Sections below the first screen are laid out only when scrolled to (``content-visibility:
auto``): a 2,000-row board then opens in headless Chromium in ~0.6 s over the browser's own
start-up instead of ~1.9 s (perf/leaderboard_scale.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import medevals
from medevals.report.html.escape import esc, esc_breakable, finite
from medevals.report.html.style import CSS

SORT_JS = """
(function(){
function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent.trim():v;}
function sortBy(table,th,col){
  var num=th.getAttribute('data-type')==='num';
  var cur=th.getAttribute('aria-sort');
  var asc=cur?cur!=='ascending':!num;
  var body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  rows.forEach(function(r,i){if(!r.hasAttribute('data-i'))r.setAttribute('data-i',i);});
  rows.sort(function(a,b){
    var x=key(a.cells[col]),y=key(b.cells[col]);
    if(x===''||y===''){if(x===y)return a.getAttribute('data-i')-b.getAttribute('data-i');return x===''?1:-1;}
    var d=num?parseFloat(x)-parseFloat(y):x.localeCompare(y);
    if(d===0)return a.getAttribute('data-i')-b.getAttribute('data-i');
    return asc?d:-d;
  });
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
}
Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(table){
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
    th.tabIndex=0;
    th.addEventListener('click',function(){sortBy(table,th,col);});
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(table,th,col);}});
  });
});
})();
""".strip()

SORT_HASH = base64.b64encode(hashlib.sha256(SORT_JS.encode("utf-8")).digest()).decode("ascii")

#: As the run report's (nothing fetched, images only as data: URIs, inline styles), plus the one
#: sorting script, allowed by its hash: no other script runs, inline, injected or as a handler.
CSP = (
    f"default-src 'none'; script-src 'sha256-{SORT_HASH}'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

SORT_CSS = """
table.sortable thead th{cursor:pointer;user-select:none;white-space:nowrap}
table.sortable thead th::after{content:" \\2195";color:#9aa5b1;font-size:11px}
table.sortable thead th[aria-sort=ascending]::after{content:" \\25B2";color:var(--accent)}
table.sortable thead th[aria-sort=descending]::after{content:" \\25BC";color:var(--accent)}
td.na{color:var(--muted)}
section{content-visibility:auto;contain-intrinsic-size:auto 1200px}
"""


def _pct(x: Any) -> str:
    v = finite(x)
    return "—" if v is None else f"{100 * v:.1f}"


def _value_text(value: Any, scale: Any) -> str:
    v = finite(value)
    if v is None:
        return "—"
    return f"{v:.2f}" if scale else f"{100 * v:.1f}"


def _num_td(sort_value: Any, text: str, title: str = "") -> str:
    """A numeric cell: ``data-v`` holds the value the script sorts by (empty sorts last)."""
    v = finite(sort_value)
    attr = "" if v is None else repr(v)
    t = f' title="{esc(title)}"' if title else ""
    cls = "num" if v is not None else "num na"
    return f'<td class="{cls}" data-v="{attr}"{t}>{esc(text)}</td>'


def _text_td(text: Any, *, breakable: bool = False) -> str:
    return f"<td>{esc_breakable(text) if breakable else esc(text)}</td>"


def _th(label: str, *, num: bool = False, title: str = "") -> str:
    attrs = ' data-type="num"' if num else ""
    if title:
        attrs += f' title="{esc(title)}"'
    return f'<th scope="col"{attrs}>{esc(label)}</th>'


def _cost(x: Any) -> str:
    v = finite(x)
    return "unknown" if v is None else f"${v:.4f}"


def _table(headers: Iterable[str], rows: Iterable[str], *, cls: str = "") -> str:
    return (
        f'<div class="scroll"><table class="grid compact sortable {cls}"><thead><tr>'
        + "".join(headers)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def models_section(
    models: list[dict[str, Any]],
    wins: dict[str, tuple[float, int]],
    cats: dict[tuple[str, str], dict[str, Any]],
) -> str:
    categories = sorted({c for _, c in cats})
    headers = [
        _th("model"),
        _th("mean %", num=True, title="unweighted mean of the primary share over the model's benchmarks"),
        _th("win rate %", num=True, title="head to head on shared benchmarks, ties = 1/2"),
        *(_th(c + " %", num=True, title=f"mean share over the model's {c} benchmarks") for c in categories),
        _th("benchmarks", num=True),
        _th("cost", num=True, title="cost of the leaderboard runs of this model, where known"),
        _th("$ / point", num=True, title="cost / (100 x sum of shares), over benchmarks with a known cost"),
        _th("errors", num=True, title="samples that failed for good, not in n"),
    ]
    rows = []
    for m in models:
        name = m["model"]
        rate, comps = wins.get(name, (None, 0))
        cells = [
            _text_td(name, breakable=True),
            _num_td(m["mean"], _pct(m["mean"]), f"{m['shares']} benchmark(s) with a share"),
            _num_td(rate, _pct(rate), f"{comps} comparison(s)"),
        ]
        for c in categories:
            cm = cats.get((name, c))
            if cm is None:
                cells.append(_num_td(None, "—"))
            else:
                cells.append(_num_td(cm["mean"], _pct(cm["mean"]), f"k = {cm['benchmarks']} benchmark(s)"))
        cells += [
            _num_td(m["benchmarks"], str(m["benchmarks"])),
            _num_td(m["cost_usd"], _cost(m["cost_usd"]), f"known for {m['costed']} of {m['benchmarks']}"),
            _num_td(m["cost_per_point"], _cost(m["cost_per_point"])),
            _num_td(m["n_errors"], "—" if m["n_errors"] is None else str(m["n_errors"])),
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<section id="models"><h2>Models</h2><p class="muted">One row per model over its newest '
        "finished run per benchmark. Mean and category means average shares only (a primary on "
        "its own scale, a 1-5 rating, is left out of them); click a header to sort.</p>"
        + _table(headers, rows, cls="models")
        + "</section>"
    )


def grid_section(board: list[dict[str, Any]], models: list[str]) -> str:
    benches: dict[str, str] = {}
    for r in sorted(board, key=lambda r: (r["category"] or "", r["benchmark"])):
        benches.setdefault(r["benchmark"], r["category"] or "(uncategorised)")
    by = {(r["model"], r["benchmark"]): r for r in board}
    headers = [_th("model"), *(_th(b, num=True, title=c) for b, c in benches.items())]
    rows = []
    for name in models:
        cells = [_text_td(name, breakable=True)]
        for b in benches:
            r = by.get((name, b))
            if r is None:
                cells.append(_num_td(None, "—"))
                continue
            ci = f"95% CI [{_value_text(r['ci_low'], r['scale'])}, {_value_text(r['ci_high'], r['scale'])}]"
            cells.append(
                _num_td(r["value"], _value_text(r["value"], r["scale"]), f"{ci}, n = {r['n_scored']}")
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<section id="grid"><h2>Model x benchmark</h2><p class="muted">Primary metric (% for '
        "shares, the scale's own units otherwise); hover for the 95% CI and n.</p>"
        + _table(headers, rows, cls="grid-table")
        + "</section>"
    )


def matrix_section(pairs: list[dict[str, Any]], models: list[str]) -> str:
    if not pairs:
        return ""
    by = {(p["model_a"], p["model_b"]): p for p in pairs}
    headers = [_th("model \\ against"), *(_th(m, num=True) for m in models)]
    rows = []
    for a in models:
        cells = [_text_td(a, breakable=True)]
        for b in models:
            p = by.get((a, b))
            if p is None:
                cells.append(_num_td(None, "—"))
            else:
                cells.append(
                    _num_td(
                        p["win_rate"],
                        _pct(p["win_rate"]),
                        f"{p['wins']} won, {p['ties']} tied, {p['losses']} lost of {p['shared']} shared",
                    )
                )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<section id="head-to-head"><h2>Head to head</h2><p class="muted">Win rate (%) of the row '
        "model against the column model over the benchmarks both have (ties = 1/2); hover for "
        "won/tied/lost.</p>" + _table(headers, rows, cls="matrix") + "</section>"
    )


def results_section(board: list[dict[str, Any]]) -> str:
    headers = [
        _th("benchmark"),
        _th("category"),
        _th("model"),
        _th("value", num=True),
        _th("95% CI", num=True),
        _th("n", num=True),
        _th("unscored", num=True),
        _th("errors", num=True),
        _th("cost", num=True),
        _th("$ / point", num=True),
        _th("run"),
    ]
    rows = []
    for r in board:
        sc = r["scale"]
        ci = f"[{_value_text(r['ci_low'], sc)}, {_value_text(r['ci_high'], sc)}]"
        unit = f" (scale {sc})" if sc else " %"
        rows.append(
            "<tr>"
            + _text_td(r["benchmark"])
            + _text_td(r["category"] or "(uncategorised)")
            + _text_td(r["model"], breakable=True)
            + _num_td(r["value"], _value_text(r["value"], sc) + unit)
            + _num_td(r["ci_low"], ci)
            + _num_td(r["n_scored"], str(r["n_scored"]))
            + _num_td(r["n_unscored"], "—" if r["n_unscored"] is None else str(r["n_unscored"]))
            + _num_td(r["n_errors"], "—" if r["n_errors"] is None else str(r["n_errors"]))
            + _num_td(r["cost_usd"], _cost(r["cost_usd"]))
            + _num_td(r["cost_per_point"], _cost(r["cost_per_point"]))
            + f'<td class="small" title="{esc(r["path"])}">{esc_breakable(r["run_id"])}</td>'
            + "</tr>"
        )
    return (
        '<section id="results"><h2>Every result</h2><p class="muted">The newest finished run '
        "(complete, or incomplete with its errors counted) per model x benchmark.</p>"
        + _table(headers, rows, cls="results")
        + "</section>"
    )


def problems_section(problems: list[tuple[str, str]]) -> str:
    if not problems:
        return ""
    items = "".join(f"<li><code>{esc_breakable(problem)}</code></li>" for _, problem in problems)
    return (
        f'<section id="unreadable"><h2>Unreadable run folders ({len(problems):,})</h2>'
        '<p class="banner bad">These folders are not on the leaderboard: each line says why.</p>'
        f'<ul class="prov">{items}</ul></section>'
    )


def render_leaderboard(con: Any, problems: list[tuple[str, str]], *, n_folders: int) -> str:
    """The page for the index behind ``con`` (see ``runs/index.py``)."""
    from medevals.runs.index import board, category_means, model_summary, pairwise_wins, win_rates

    rows = board(con)
    models = model_summary(con)
    names = [m["model"] for m in models]
    wins = {m: (rate, comps) for m, rate, comps, _ in win_rates(con)}
    cats = {(c["model"], c["category"]): c for c in category_means(con)}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    n_bench = len({r["benchmark"] for r in rows})
    body = [
        "<header><h1>medevals leaderboard</h1>",
        f'<p class="muted">Generated {esc(now)} by medevals {esc(medevals.__version__)} · '
        f"{n_folders:,} run folders · {len(names):,} models · {n_bench:,} benchmarks"
        + (f' · <a href="#unreadable">{len(problems):,} unreadable</a>' if problems else "")
        + "</p></header>",
    ]
    if not rows:
        body.append("<p>No finished runs with metrics.</p>")
    else:
        body.append(
            '<nav class="small"><a href="#models">models</a> · <a href="#grid">model x benchmark</a>'
            + (' · <a href="#head-to-head">head to head</a>' if len(names) > 1 else "")
            + ' · <a href="#results">every result</a>'
            + (' · <a href="#unreadable">unreadable folders</a>' if problems else "")
            + "</nav>"
        )
        body.append(models_section(models, wins, cats))
        body.append(grid_section(rows, names))
        body.append(matrix_section(pairwise_wins(con), names))
        body.append(results_section(rows))
    body.append(problems_section(problems))
    body.append(
        "<footer>Every value on this page was read from the run folders' manifest.json and "
        "metrics.json through the results index; no sample was read.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<title>medevals leaderboard</title>"
        f"<style>{CSS}{SORT_CSS}</style></head><body>"
        + "".join(body)
        + f"<script>{SORT_JS}</script></body></html>\n"
    )
