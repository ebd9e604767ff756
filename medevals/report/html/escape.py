"""Untrusted text to safe HTML text: escaping, truncation and plain rendering of values.

Every string that comes from a run folder (benchmark data, model output, manifest fields)
reaches the page only through :func:`esc`.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

#: Characters that change how text around them is shown without being seen themselves: bidi
#: overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source" text reads
#: differently from what it is), zero-width and joiner characters, soft hyphen, tag characters
#: (U+E0000 block: hidden ASCII), line/paragraph separators, and C0/C1 controls except tab,
#: newline and carriage return. That is Unicode categories Cc, Cf, Zl and Zp (Unicode 15.1).
#: An emoji joined by U+200D shows its parts with the code point between them: the price of
#: never hiding a character.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f"
    "\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _visible(m: re.Match[str]) -> str:
    return f"<U+{ord(m.group()):04X}>"


def neutralise(text: str) -> str:
    """``text`` with every invisible control or format character shown as ``<U+XXXX>``."""
    return _INVISIBLE.sub(_visible, text)


def esc(value: Any) -> str:
    """Escape anything for HTML text or a double-quoted attribute value; invisible controls
    (bidi overrides, zero-width characters ...) become visible ``<U+XXXX>`` first."""
    return html.escape(neutralise("" if value is None else str(value)), quote=True)


_BREAK_AFTER = re.compile(r"([/_.:@-])(?=[^\s<])")


def esc_breakable(value: Any) -> str:
    """``esc(value)`` with a line-break opportunity (``<wbr>``) after ``/ _ . : @ -``: a path, URL
    or run id in a narrow column then wraps at a separator instead of mid-word ("local:b undled").
    None of those characters occurs in an entity ``esc`` writes, so no entity is split."""
    return _BREAK_AFTER.sub(r"\1<wbr>", esc(value))


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
