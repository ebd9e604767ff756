"""Untrusted text to safe HTML text: escaping, truncation and plain rendering of values.

Every string that comes from a run folder (benchmark data, model output, manifest fields)
reaches the page only through :func:`esc`.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any


def esc(value: Any) -> str:
    """Escape anything for HTML text or a double-quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def finite(x: Any) -> float | None:
    """A finite float, or None (null, NaN, inf, non-numbers)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def trunc(s: str, n: int) -> str:
    """Cut before escaping, so an entity is never split."""
    if len(s) <= n:
        return s
    return f"{s[:n]}… [{len(s) - n:,} more characters]"


def plain(value: Any) -> str:
    """A target/answer as short plain text (escaped by the caller)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
