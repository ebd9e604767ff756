"""The report's tabular sections: run cards, benchmark comparison, categories, breakdowns,
and the tables a protocol adds under ``extra.tables``."""

from __future__ import annotations

from typing import Any

from medevals.report.html.cells import STATUS_CLASS, cell, metric_cell, status_badge
from medevals.report.html.escape import esc, esc_breakable, finite
from medevals.report.html.formats import fmt_cost, fmt_int, fmt_pct, fmt_secs
from medevals.report.html.runs import RunView
from medevals.scoring.metrics import headline_counts


def run_card(r: RunView) -> str:
    m = r.manifest
    cls = STATUS_CLASS.get(m.status, "warn")
    out = [f'<article class="card status-{cls}" id="{r.anchor}">']
    out.append(f"<h3>{esc(m.model.spec)} {status_badge(m.status)}</h3>")
    if m.status == "incomplete":
        n_err = sum(int(b.get("n_errors") or 0) for b in r.benchmarks.values())
        out.append(
            f'<p class="banner {cls}">This run is <b>incomplete</b>: {fmt_int(n_err)} sample(s) failed for '
            "good and are not in the metrics; rerun the same command to retry them.</p>"
        )
    elif m.status != "complete":
        out.append(
            f'<p class="banner {cls}">This run is <b>{esc(m.status)}</b>: results cover only the samples '
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
        out.append(f"<tr><th>{esc(k)}</th><td>{esc_breakable(v)}</td></tr>")
    cmd = " ".join(m.command) if m.command else "—"
    out.append(f'<tr><th>command</th><td><code class="cmd">{esc(cmd)}</code></td></tr>')
    out.append("</table>")
    if r.metrics_error:
        out.append(f'<p class="banner bad">No metrics: {esc(r.metrics_error)}</p>')
    if m.benchmarks:
        # one block per benchmark rather than a nine-column table: it fits a card at any width
        # and never squeezes a column until words break
        out.append('<div class="label">benchmarks and data</div><ul class="prov">')
        for b in m.benchmarks:
            cat = b.taxonomy.category + (f" / {b.taxonomy.subcategory}" if b.taxonomy.subcategory else "")
            short_hash = b.data_hash[:19] + ("…" if len(b.data_hash) > 19 else "")
            facts = [
                f"split {esc(b.split)}",
                f"{fmt_int(b.n_items)} items",
                f"protocol {esc(b.protocol)}",
                esc(cat),
            ]
            if b.skipped:
                facts.append(f"{fmt_int(sum(b.skipped.values()))} skipped")
            out.append(
                f'<li><b>{esc(b.name)}</b> <span class="muted">{" · ".join(facts)}</span>'
                f'<div class="small">data <code>{esc_breakable(b.data_source)}</code> · '
                f'hash <code title="{esc(b.data_hash)}">{esc(short_hash)}</code> · '
                f"licence {esc(b.license)} · source {esc_breakable(b.source)}</div></li>"
            )
        out.append("</ul>")
    out.append("</article>")
    return "".join(out)


def comparison(runs: list[RunView], names: list[str]) -> str:
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
            f'<tr><th class="rowhead">{esc(name)}<div class="muted small">{esc(prim or "")}'
            f"{' · ' + esc(cat) if cat else ''}</div></th>"
        )
        for r in runs:
            b = r.bench(name)
            if not b:
                out.append('<td class="muted">—</td>')
                continue
            u = b.get("usage") or {}
            lat = b.get("latency_s") or {}
            # the counts of the headline variant: the n of the CI shown, never a pool of all variants
            c = headline_counts(b)
            scored = c.get("n_scored", 0)
            n = f"{fmt_int(scored)}/{fmt_int(c['expected'])}" if c.get("expected") else fmt_int(scored)
            if c.get("n_not_applicable"):
                n += f" ({fmt_int(c['n_not_applicable'])} not applicable)"
            errs = b.get("errors") or {}
            err_detail = ""
            if errs:
                err_detail = " (" + ", ".join(f"{esc(k)}: {fmt_int(v)}" for k, v in errs.items()) + ")"
            unscored = c.get("n_unscored", 0)
            head = b.get("headline_variant")
            all_errors = ""
            if head and (b.get("n_errors", 0) != c.get("n_errors", 0) or errs):
                all_errors = (
                    f"<dt>errors, all variants</dt><dd>{fmt_int(b.get('n_errors', 0))}{err_detail}</dd>"
                )
                err_detail = ""
            out.append(
                "<td>"
                + metric_cell(r.primary(name))
                + '<dl class="facts">'
                + (f"<dt>headline variant</dt><dd>{esc(head)}</dd>" if head else "")
                + f"<dt>n scored</dt><dd>{n}</dd>"
                + f"<dt>unparseable</dt><dd>{fmt_int(c.get('n_unparseable', 0))}</dd>"
                + (f"<dt>unscored</dt><dd>{fmt_int(unscored)}</dd>" if unscored else "")
                + f"<dt>errors</dt><dd>{fmt_int(c.get('n_errors', 0))}{err_detail}</dd>"
                + all_errors
                + _skipped_fact(b)
                + f"<dt>tokens in/out</dt><dd>{fmt_int(u.get('prompt_tokens', 0))} / "
                f"{fmt_int(u.get('completion_tokens', 0))}</dd>"
                + f"<dt>cost</dt><dd>{fmt_cost(u.get('cost_usd'))}</dd>"
                + f"<dt>latency p50/p95</dt><dd>{fmt_secs(lat.get('p50'))} / {fmt_secs(lat.get('p95'))}</dd>"
                + "</dl></td>"
            )
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _skipped_fact(b: dict[str, Any]) -> str:
    """Source rows the benchmark left out (e.g. items about images it does not ship), by reason."""
    sk = b.get("skipped") or {}
    if not sk.get("n"):
        return ""
    why = "; ".join(f"{fmt_int(n)} {reason}" for reason, n in (sk.get("reasons") or {}).items())
    return f"<dt>skipped (no denominator)</dt><dd>{fmt_int(sk['n'])} ({esc(why)})</dd>"


def categories(runs: list[RunView], names: list[str]) -> str:
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
        out.append(f'<tr><th class="rowhead">{esc(cat)}</th><td class="small">{esc(", ".join(members))}</td>')
        for r in runs:
            # shares only: a primary on another scale (a 1-5 rating) cannot be averaged with them
            vals = [
                v
                for n in members
                if not (r.primary(n) or {}).get("scale")
                and (v := finite((r.primary(n) or {}).get("value"))) is not None
            ]
            if vals:
                out.append(
                    f"<td><b>{fmt_pct(sum(vals) / len(vals))}%</b> "
                    f'<span class="muted small">k={len(vals)}/{len(members)}</span></td>'
                )
            else:
                out.append('<td class="muted">—</td>')
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def breakdowns(runs: list[RunView], names: list[str]) -> str:
    blocks: list[str] = []
    for name in names:
        for kind, label in (("subsets", "subset"), ("languages", "language"), ("variants", "variant")):
            keys: list[str] = []
            for r in runs:
                for k in (r.bench(name) or {}).get(kind) or {}:
                    if k not in keys:
                        keys.append(k)
            if not keys:
                continue
            heads = sorted({h for r in runs if (h := (r.bench(name) or {}).get("headline_variant"))})
            scope = ""
            if kind == "subsets" and heads:  # subsets are the headline variant's, never a pool of variants
                scope = f" (headline variant {esc(', '.join(heads))}; per variant in metrics.json)"
            blocks.append(f'<h3>{esc(name)} <span class="muted">by {label}{scope}</span></h3>')
            blocks.append(f'<div class="scroll"><table class="grid compact"><thead><tr><th>{label}</th>')
            blocks.extend(r.col_header() for r in runs)
            blocks.append("</tr></thead><tbody>")
            for k in keys:
                blocks.append(f'<tr><th class="rowhead">{esc(k)}</th>')
                for r in runs:
                    m = ((r.bench(name) or {}).get(kind) or {}).get(k)
                    blocks.append(f"<td>{_breakdown_cell(m)}</td>")
                blocks.append("</tr>")
            blocks.append("</tbody></table></div>")
    if not blocks:
        return ""
    return '<section id="breakdowns"><h2>Breakdowns</h2>' + "".join(blocks) + "</section>"


def _breakdown_cell(m: dict[str, Any] | None) -> str:
    """A subset or variant figure with its own n; a variant that applies to no item says so."""
    if m and m.get("not_applicable"):
        return f'<span class="muted">n/a (0 of {fmt_int(m.get("n", 0))} items applicable)</span>'
    out = metric_cell(m, with_n=True)
    notes = [
        f"{fmt_int(m[k])} {label}"
        for k, label in (("n_not_applicable", "n/a"), ("n_unscored", "unscored"), ("n_errors", "errors"))
        if m and m.get(k)
    ]
    if notes:
        out += f'<div class="muted small">{esc(", ".join(notes))}</div>'
    return out


def protocol_tables(runs: list[RunView], names: list[str]) -> str:
    """Tables a protocol added under ``extra.tables`` (see Protocol.summarize), one block per run."""
    blocks: list[str] = []
    for name in names:
        for r in runs:
            extra = (r.bench(name) or {}).get("extra") or {}
            for t in extra.get("tables") or []:
                label = f" · {esc(r.folder.path.name)}" if len(runs) > 1 else ""
                blocks.append(
                    f'<h3>{esc(name)} <span class="muted">{esc(t.get("title", ""))}{label}</span></h3>'
                )
                blocks.append('<div class="scroll"><table class="grid compact"><thead><tr>')
                blocks.extend(f"<th>{esc(c)}</th>" for c in t.get("columns") or [])
                blocks.append("</tr></thead><tbody>")
                for row in t.get("rows") or []:
                    blocks.append("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>")
                blocks.append("</tbody></table></div>")
                if t.get("caption"):
                    blocks.append(f'<p class="muted small caption">{esc(t["caption"])}</p>')
    if not blocks:
        return ""
    return '<section id="protocol-tables"><h2>Protocol analyses</h2>' + "".join(blocks) + "</section>"
