"""Terminal tables (rich): one row per benchmark, one column group per run."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table


def fmt_pct(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None or (isinstance(m["value"], float) and math.isnan(m["value"])):
        return "—"
    v, lo, hi = m["value"], m.get("ci_low"), m.get("ci_high")
    if lo is None or hi is None:
        return f"{100 * v:.1f}"
    return f"{100 * v:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def fmt_cost(c: float | None) -> str:
    return "unknown" if c is None else f"${c:.4f}"


def _fmt_s(v: float | None) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}s"


def run_table(metrics: dict[str, Any], title: str | None = None) -> Table:
    t = Table(
        title=title or f"{metrics.get('model', '')}  ({metrics.get('run_id', '')})", title_justify="left"
    )
    t.add_column("benchmark")
    t.add_column("metric")
    t.add_column("value % [95% CI]", justify="right")
    t.add_column("n", justify="right")
    t.add_column("unparseable", justify="right")
    t.add_column("errors", justify="right")
    t.add_column("tokens in/out", justify="right")
    t.add_column("cost", justify="right")
    t.add_column("latency p50/p95", justify="right")
    for name, b in metrics.get("benchmarks", {}).items():
        prim = b["primary"]
        m = b["metrics"].get(prim)
        u = b.get("usage", {})
        lat = b.get("latency_s", {})
        n = f"{b['n_scored']}/{b['expected']}" if b.get("expected") else str(b["n_scored"])
        t.add_row(
            name,
            prim,
            fmt_pct(m),
            n,
            str(b.get("n_unparseable", 0)),
            str(b.get("n_errors", 0)),
            f"{u.get('prompt_tokens', 0):,}/{u.get('completion_tokens', 0):,}",
            fmt_cost(u.get("cost_usd")),
            f"{_fmt_s(lat.get('p50'))}/{_fmt_s(lat.get('p95'))}",
        )
        for sub, sm in (b.get("variants") or {}).items():
            t.add_row("", f"  strategy {sub}", fmt_pct(sm), str(sm.get("n", "")), "", "", "", "", "")
    return t


def compare_table(runs: list[tuple[str, dict[str, Any]]]) -> Table:
    """Side by side: benchmark rows, one column per run (primary metric with CI)."""
    t = Table(title="Comparison (primary metric, % with 95% CI)", title_justify="left")
    t.add_column("benchmark")
    for label, _ in runs:
        t.add_column(label, justify="right")
    names: list[str] = []
    for _, m in runs:
        for n in m.get("benchmarks", {}):
            if n not in names:
                names.append(n)
    for n in names:
        row = [n]
        for _, m in runs:
            b = m.get("benchmarks", {}).get(n)
            row.append(fmt_pct(b["metrics"].get(b["primary"])) if b else "—")
        t.add_row(*row)
    return t
