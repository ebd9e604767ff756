"""Terminal tables (rich): one row per benchmark, one column group per run."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text


def fmt_pct(m: dict[str, Any] | None) -> str:
    """A metric as a percentage with its CI; a metric on a scale (a 1-5 rating) as a number on it."""
    if not m or m.get("value") is None or (isinstance(m["value"], float) and math.isnan(m["value"])):
        return "—"
    v, lo, hi = m["value"], m.get("ci_low"), m.get("ci_high")
    if m.get("scale"):
        a, b = m["scale"]
        if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
            return f"{v:.2f} ({a:g}-{b:g})"
        return f"{v:.2f} [{lo:.2f}, {hi:.2f}] ({a:g}-{b:g})"
    if lo is None or hi is None:
        return f"{100 * v:.1f}"
    return f"{100 * v:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def fmt_cost(c: float | None) -> str:
    return "unknown" if c is None else f"${c:.4f}"


def _fmt_s(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}s"


def _tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else f"{n:,}"


def usage_lines(metrics: dict[str, Any]) -> list[str]:
    """Tokens, cost and latency per benchmark as plain lines (for narrow terminals)."""
    lines = []
    for name, b in metrics.get("benchmarks", {}).items():
        u, lat = b.get("usage", {}), b.get("latency_s", {})
        lines.append(
            f"{name}: tokens {u.get('prompt_tokens', 0):,} in / {u.get('completion_tokens', 0):,} out · "
            f"cost {fmt_cost(u.get('cost_usd'))} · latency p50 {_fmt_s(lat.get('p50'))} p95 {_fmt_s(lat.get('p95'))}"
        )
    return lines


def skipped_lines(metrics: dict[str, Any]) -> list[str]:
    """One line per benchmark that left source rows out (never silently: counted by reason)."""
    lines = []
    for name, b in metrics.get("benchmarks", {}).items():
        sk = b.get("skipped") or {}
        if sk.get("n"):
            why = "; ".join(f"{n} {reason}" for reason, n in (sk.get("reasons") or {}).items())
            noun = "item" if sk["n"] == 1 else "items"
            lines.append(f"{name}: {sk['n']} {noun} skipped, not in any denominator ({why})")
    return lines


def fmt_n(counts: dict[str, Any]) -> str:
    """``scored/expected`` (or ``scored``), plus the not-applicable count when there is one."""
    scored = counts.get("n_scored", 0)
    n = f"{scored}/{counts['expected']}" if counts.get("expected") else str(scored)
    na = counts.get("n_not_applicable") or 0
    return f"{n} ({na} n/a)" if na else n


def fmt_metric(m: dict[str, Any] | None) -> str:
    """A metric cell; a variant that applies to no item says "n/a", never 0% or a blank."""
    if m and m.get("not_applicable"):
        return "n/a"
    return fmt_pct(m)


def run_table(metrics: dict[str, Any], title: str | None = None, *, compact: bool = False) -> Table:
    """One row per benchmark (and one per variant); ``compact`` leaves tokens/cost/latency to ``usage_lines``.

    Every row carries its own counts: the headline row those of the headline variant (the CI's
    n), each variant row its own, so no CI sits beside a count pooled over other variants.
    """
    from medevals.scoring.metrics import headline_counts

    t = Table(
        title=title or f"{metrics.get('model', '')}  ({metrics.get('run_id', '')})", title_justify="left"
    )
    t.add_column("benchmark", no_wrap=True)
    t.add_column("% [95% CI]", justify="right", no_wrap=True)
    t.add_column("n", justify="right", no_wrap=True)
    t.add_column("unparsed", justify="right")
    t.add_column("unscored", justify="right")
    t.add_column("errors", justify="right")
    if not compact:
        t.add_column("tokens in/out", justify="right")
        t.add_column("cost", justify="right")
        t.add_column("p50/p95 s", justify="right")
    for name, b in metrics.get("benchmarks", {}).items():
        prim = b["primary"]
        m = b["metrics"].get(prim)
        u = b.get("usage", {})
        lat = b.get("latency_s", {})
        c = headline_counts(b)
        label = name if prim == "accuracy" else f"{name} ({prim})"
        if b.get("headline_variant"):
            label += f" [{b['headline_variant']}]"
        row: list[str | Text] = [
            Text(label),
            fmt_pct(m),
            fmt_n(c),
            *_tallies(c),
        ]  # Text: "[cot]" is no markup
        if not compact:
            row += [
                f"{_tokens(u.get('prompt_tokens', 0))}/{_tokens(u.get('completion_tokens', 0))}",
                fmt_cost(u.get("cost_usd")),
                f"{_fmt_s(lat.get('p50'))}/{_fmt_s(lat.get('p95'))}".replace("s/", "/"),
            ]
        t.add_row(*row)
        for lang, lm in (b.get("languages") or {}).items():  # items in several languages
            t.add_row(
                Text(f"  language {lang}"),
                fmt_pct(lm),
                str(lm.get("n", "")),
                *([""] * (3 if compact else 6)),
            )
        for sub, sm in (b.get("variants") or {}).items():
            n = fmt_n(sm) if "n_scored" in sm else str(sm.get("n", ""))
            tallies = _tallies(sm) if "n_scored" in sm else ["", "", ""]
            t.add_row(Text(f"  {sub}"), fmt_metric(sm), n, *tallies, *([""] * (0 if compact else 3)))
    return t


def _tallies(c: dict[str, Any]) -> list[str]:
    return [str(c.get(k, 0)) for k in ("n_unparseable", "n_unscored", "n_errors")]


def compare_table(runs: list[tuple[str, dict[str, Any]]]) -> Table:
    """Side by side: benchmark rows, one column per run (primary metric with CI and its n)."""
    from medevals.scoring.metrics import headline_counts

    t = Table(title="Comparison (primary metric, % with 95% CI)", title_justify="left")
    t.add_column("benchmark")
    for i, (label, _) in enumerate(runs):
        # letters name the runs in the paired tables that follow (A is the baseline)
        t.add_column(f"{chr(65 + i)}: {label}" if i < 26 else label, justify="right")
    names: list[str] = []
    for _, m in runs:
        for n in m.get("benchmarks", {}):
            if n not in names:
                names.append(n)
    for n in names:
        row = [n]
        for _, m in runs:
            b = m.get("benchmarks", {}).get(n)
            if not b:
                row.append("—")
                continue
            c = headline_counts(b)
            row.append(f"{fmt_pct(b['metrics'].get(b['primary']))} n={c.get('n_scored', 0)}{_errors_note(c)}")
        t.add_row(*row)
    return t


def _errors_note(b: dict[str, Any]) -> str:
    """Failed samples beside the metric: they are not in its denominator."""
    n = b.get("n_errors") or 0
    return f" ({n} error{'s' if n != 1 else ''})" if n else ""
