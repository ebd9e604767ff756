"""Numbers as the report shows them: percentages, counts, seconds, dollars ("—"/"unknown" when absent)."""

from __future__ import annotations

from typing import Any

from medevals.report.html.escape import finite


def fmt_pct(x: Any) -> str:
    v = finite(x)
    return "—" if v is None else f"{100 * v:.1f}"


def fmt_num(x: Any) -> str:
    """A value on its own scale (a 1-5 rating), two decimals."""
    v = finite(x)
    return "—" if v is None else f"{v:.2f}"


def fmt_int(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else "—"


def fmt_secs(x: Any) -> str:
    v = finite(x)
    return "—" if v is None else f"{v:.2f}s"


def fmt_cost(x: Any) -> str:
    v = finite(x)
    return "unknown" if v is None else f"${v:.4f}"
