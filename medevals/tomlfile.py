"""TOML configuration files (price tables, suites) read so that every error names file and line.

``tomllib`` gives back plain dicts without positions, so :func:`key_line` finds the line of a
table or key in the text again; good enough for the flat files medevals reads (tables,
arrays of tables, inline tables), and ``None`` (no line) when it cannot tell.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medevals.errors import ConfigError


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], str]:
    """(data, text) of a TOML file; a missing, unreadable or invalid file is one ConfigError."""
    if not path.exists():
        raise ConfigError(f"{path}: {what} not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected a {what} (.toml file)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not valid UTF-8 (byte {e.start}); a {what} is UTF-8 text"
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", str(e))
        line = m.group(1) if m and m.group(1) else (str(text.count("\n") + 1) if m else None)
        msg = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(e))
        raise ConfigError(f"{path}{':' + line if line else ''}: invalid TOML: {msg}") from None


def _header(name: str, array: bool) -> re.Pattern[str]:
    key = rf'"?{re.escape(name)}"?'
    return re.compile(rf"^\s*\[\[\s*{key}\s*\]\]" if array else rf"^\s*\[\s*{key}\s*\](?!\])")


def key_line(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of ``loc`` (e.g. ``("benchmark", 1, "limit")``, ``("gpt-4o",)``) in ``text``."""
    lines = text.splitlines()
    any_header = re.compile(r"^\s*\[")
    lo, hi = 0, next((n for n, s in enumerate(lines) if any_header.match(s)), len(lines))
    found: int | None = None
    parts = list(loc)
    while parts:
        part = str(parts.pop(0))
        if parts and isinstance(parts[0], int):  # an array of tables: [[part]] number N
            idx = parts.pop(0)
            hits = [n for n, s in enumerate(lines) if _header(part, True).match(s)]
            if not isinstance(idx, int) or idx >= len(hits):
                return found
            lo = hits[idx]
        else:
            kv = re.compile(rf'^\s*"?{re.escape(part)}"?\s*=')
            hit = next((n for n in range(lo, hi) if kv.match(lines[n])), None)
            if hit is None:
                hit = next((n for n, s in enumerate(lines) if _header(part, False).match(s)), None)
                if hit is None:
                    return found
            lo = hit
        found = lo + 1
        hi = next((n for n in range(lo + 1, len(lines)) if any_header.match(lines[n])), len(lines))
    return found


def where(path: Path, text: str, loc: Sequence[str | int]) -> str:
    """``path:line`` (or ``path``) for an error message about ``loc``."""
    line = key_line(text, loc)
    return f"{path}:{line}" if line else str(path)
