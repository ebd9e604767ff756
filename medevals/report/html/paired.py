"""The paired section of a multi-run report: each run after the first against the first (A).

Per benchmark, variant and metric: both means, the difference B - A with its 95% CI (number
and a bar around zero), McNemar's exact and mid-p tests for 0/1 outcomes, and what was left
unpaired. Below, the items only one run got right, each a link to a side-by-side drill-down
of the two samples (A's and B's calls, answers and how they were read). The drill-downs are
capped (``max_pairs`` per comparison) so a large run keeps a small page; the ids beyond the
cap are still listed.
"""

from __future__ import annotations

from medevals.report.html.escape import esc, finite, trunc
from medevals.report.html.runs import RunView
from medevals.report.html.samples import MARKERS, SHORT_CHARS, marker, sample_body
from medevals.report.paired import fmt_diff, fmt_level, fmt_p, fmt_unpaired
from medevals.runs.paired_runs import MetricPair, RunPair, ScoreRow, VariantPair, read_sample_at
from medevals.schema import Sample

#: Item ids listed per direction and variant (links or plain text); more are counted.
MAX_IDS = 500


def diff_bar(m: MetricPair, span: float) -> str:
    """The difference and its CI on a symmetric axis [-span, +span] around zero (inline SVG)."""
    d = m.diff
    v, lo, hi = finite(d.delta), finite(d.ci_low), finite(d.ci_high)
    if v is None or span <= 0:
        return ""
    w, pad = 140.0, 5.0

    def x(p: float) -> float:
        return pad + (min(span, max(-span, p)) + span) / (2 * span) * (w - 2 * pad)

    colour = "#1d7a46" if lo is not None and lo > 0 else "#b42318" if hi is not None and hi < 0 else "#5b6b7f"
    parts = [
        f'<svg class="ci" width="{w:.0f}" height="14" viewBox="0 0 {w:.0f} 14" role="img" '
        f'aria-label="{esc(fmt_diff(m))}">',
        f'<rect x="{pad}" y="6" width="{w - 2 * pad}" height="2" rx="1" fill="#d8dee6"/>',
        f'<rect x="{x(0) - 0.5:.1f}" y="1" width="1" height="12" fill="#8a96a3"/>',
    ]
    if lo is not None and hi is not None:
        parts.append(
            f'<line x1="{x(lo):.1f}" y1="7" x2="{x(hi):.1f}" y2="7" stroke="{colour}" '
            'stroke-width="3" stroke-linecap="round" stroke-opacity="0.55"/>'
        )
    parts.append(f'<circle cx="{x(v):.1f}" cy="7" r="3.5" fill="{colour}"/></svg>')
    return "".join(parts)


def _span(pair: RunPair) -> float:
    """One axis for every bar of a comparison (so bars compare), from the widest CI, on a nice step."""
    widest = 0.0
    for v in pair.variants:
        for m in v.metrics:
            if m.scale:
                continue
            for x in (m.diff.ci_low, m.diff.ci_high, m.diff.delta):
                f = finite(x)
                if f is not None:
                    widest = max(widest, abs(f))
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if widest <= step:
            return step
    return widest


def _scale_span(m: MetricPair) -> float:
    assert m.scale is not None
    return (m.scale[1] - m.scale[0]) / 2


def paired_section(runs: list[RunView], max_pairs: int = 200) -> str:
    """The section (empty for a single run)."""
    if len(runs) < 2:
        return ""
    from medevals.runs.paired_runs import compare_runs

    out = [
        '<section id="paired"><h2>Paired differences</h2>',
        '<p class="muted">Each run against the first (A), on the items both scored (matched by '
        "benchmark, item, variant and repeat). B − A in percentage points (or on the metric's "
        "scale), 95% CI by bootstrap over items; for 0/1 outcomes McNemar's exact and mid-p tests "
        "over the items only one run got right. Bar: the difference around zero (green: CI above "
        "zero, red: below).</p>",
    ]
    for k, other in enumerate(runs[1:], start=1):
        pair = compare_runs(runs[0].folder, other.folder)
        out.append(_comparison(k, runs[0], other, pair, max_pairs))
    out.append("</section>")
    return "".join(out)


def _run_label(r: RunView) -> str:
    return f"<b>{esc(r.manifest.model.spec)}</b> <span class='muted small'>{esc(r.folder.path.name)}</span>"


def _comparison(k: int, a: RunView, b: RunView, pair: RunPair, max_pairs: int) -> str:
    out = [f'<h3 id="pair-{k}">B = {_run_label(b)} vs A = {_run_label(a)}</h3>']
    if not pair.variants:
        out.append('<p class="muted">No benchmark in common.</p>')
        return "".join(out)
    span = _span(pair)
    out.append(
        '<div class="scroll"><table class="grid compact paired"><thead><tr>'
        "<th>benchmark · variant</th><th>metric</th><th>pairs</th><th>A</th><th>B</th>"
        f'<th>B − A [95% CI] <span class="muted small">(axis ±{esc(fmt_level_span(span))})</span></th>'
        "<th>only A / only B right</th><th>McNemar p<br><span class='muted small'>exact / mid-p</span></th>"
        "<th>unpaired</th></tr></thead><tbody>"
    )
    for vi, v in enumerate(pair.variants):
        rows = v.metrics
        for i, m in enumerate(rows):
            d = m.diff
            head = ""
            if i == 0:
                head = (
                    f'<th class="rowhead" rowspan="{len(rows)}">{esc(v.benchmark)}'
                    f'<div class="muted small">{esc(v.label)}</div></th>'
                )
            disc = ""
            if d.only_a is not None:
                disc = (
                    f'<a href="#disc-{k}-{vi}">{d.only_a:,} / {d.only_b:,}</a>'
                    if d.only_a or d.only_b
                    else "0 / 0"
                )
            p = f"{fmt_p(d.p_exact)} / {fmt_p(d.p_midp)}" if d.p_exact is not None else ""
            if d.only_a is not None and d.p_exact is None and d.n:
                p = '<span class="muted small">repeats: CI only</span>'
            bar = diff_bar(m, _scale_span(m) if m.scale else span)
            unpaired = esc(fmt_unpaired(v)) if i == 0 else ""
            name = esc(m.metric) + ("" if m.primary else ' <span class="muted small">extra</span>')
            out.append(
                f"<tr>{head}<td>{name}</td><td class='num'>{d.n:,}</td>"
                f"<td class='num'>{esc(fmt_level(m, d.mean_a))}</td><td class='num'>{esc(fmt_level(m, d.mean_b))}</td>"
                f"<td><div class='val'><b>{esc(fmt_diff(m))}</b></div>{bar}</td>"
                f"<td class='num'>{disc}</td><td class='num'>{p}</td>"
                f"<td class='small'>{unpaired if i == 0 else ''}</td></tr>"
            )
    out.append("</tbody></table></div>")
    out.append(_discordant(k, a, b, pair, max_pairs))
    return "".join(out)


def fmt_level_span(span: float) -> str:
    return f"{100 * span:g} pp"


def _discordant(k: int, a: RunView, b: RunView, pair: RunPair, max_pairs: int) -> str:
    """Per variant, the items only one run got right, each linked to both samples side by side."""
    blocks: list[str] = []
    drill: list[str] = []
    budget = max_pairs
    unlinked = False
    for vi, v in enumerate(pair.variants):
        if not v.only_a and not v.only_b:
            continue
        blocks.append(f'<div class="disc" id="disc-{k}-{vi}"><h4>{esc(v.benchmark)} · {esc(v.label)}</h4>')
        for who, rows in (("A", v.only_a), ("B", v.only_b)):
            if not rows:
                continue
            links = []
            for j, (ra, rb) in enumerate(rows[:MAX_IDS]):
                label = esc(trunc(ra.item_id, SHORT_CHARS)) + (f" r{ra.repeat}" if ra.repeat else "")
                if budget > 0:
                    anchor = f"pd-{k}-{vi}-{who}{j}"
                    links.append(f'<a href="#{anchor}"><code>{label}</code></a>')
                    drill.append(_pair_drill(anchor, a, b, v, ra, rb))
                    budget -= 1
                else:
                    links.append(f"<code>{label}</code>")
                    unlinked = True
            more = f" … and {len(rows) - MAX_IDS:,} more (samples.jsonl)" if len(rows) > MAX_IDS else ""
            blocks.append(
                f'<p class="ids"><span class="who">only {who} right ({len(rows):,}):</span> '
                + " ".join(links)
                + esc(more)
                + "</p>"
            )
        blocks.append("</div>")
    if not blocks:
        return ""
    note = ""
    if unlinked:
        note = (
            f'<p class="muted small">Side-by-side samples for the first {max_pairs:,} items '
            "(report --samples N shows more); the rest are listed without a link.</p>"
        )
    return (
        '<h4 class="sub">Items only one run got right</h4>'
        + "".join(blocks)
        + note
        # folded: a link above opens it (and the item's own details) on the way to its target
        + f'<details class="drill"><summary class="small">both samples of each linked item, side by side '
        f"({len(drill):,})</summary>" + "".join(drill) + "</details>"
    )


def _pair_drill(anchor: str, a: RunView, b: RunView, v: VariantPair, ra: ScoreRow, rb: ScoreRow) -> str:
    sa, sb = read_sample_at(a.folder, ra), read_sample_at(b.folder, rb)
    return (
        f'<details class="pairdrill"><summary>'
        f"<code>{esc(trunc(ra.item_id, SHORT_CHARS))}</code> "
        f'<span class="muted">{esc(v.benchmark)} · {esc(v.label)}{f" · r{ra.repeat}" if ra.repeat else ""}</span> '
        f'<span class="ab">A <span class="mk mk-{marker(sa)}">{esc(_short(sa))}</span> · '
        f'B <span class="mk mk-{marker(sb)}">{esc(_short(sb))}</span></span></summary>'
        # the id sits inside the details: following a link to it opens the details (HTML's
        # auto-expansion of a fragment target), which an id on the details itself would not
        f'<div class="sidebyside" id="{anchor}">'
        f"{_side('A', a, sa)}{_side('B', b, sb)}"
        "</div></details>"
    )


def _side(who: str, r: RunView, s: Sample) -> str:
    mk = marker(s)
    return (
        f'<div class="side"><div class="sidehead">{who} · {esc(r.manifest.model.spec)} '
        f'<span class="mk mk-{mk}">{esc(MARKERS[mk])}</span></div>{sample_body(s, r.folder.path)}</div>'
    )


def _short(s: Sample) -> str:
    from medevals.report.html.escape import plain

    mk = marker(s)
    ans = plain(s.score.answer) if s.score is not None else "—"
    return f"{'✓' if mk == 'correct' else '✗' if mk == 'incorrect' else '?'} {trunc(ans, 40)}"
