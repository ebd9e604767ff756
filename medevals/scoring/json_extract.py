"""Reading a JSON value out of model text: the one place judges, NER and agents parse JSON replies.

Models wrap JSON in prose, code fences or ``<think>`` blocks, and sometimes emit several
objects. ``extract_json`` returns the *last* complete top-level JSON value (object or array)
that parses, because reasoning models tend to draft before they answer. It never repairs or
guesses: a reply with no parseable JSON is reported as such (``value is None`` and a reason),
so callers can count it or ask for one repair turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)


@dataclass(frozen=True)
class JSONExtraction:
    value: Any | None
    error: str | None  # why nothing was read; None when ``value`` was read


def _candidates(text: str) -> list[str]:
    """Balanced ``{...}``/``[...]`` spans at top level, in order, honouring JSON strings."""
    spans: list[str] = []
    depth = 0
    start = -1
    in_str = False
    escape = False
    opener = ""
    for i, ch in enumerate(text):
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
            continue
        if depth and ch == '"':
            in_str = True
        elif ch in "{[":
            if depth == 0:
                start, opener = i, ch
            depth += 1
        elif ch in "}]" and depth:
            depth -= 1
            if depth == 0:
                if (opener, ch) in (("{", "}"), ("[", "]")):
                    spans.append(text[start : i + 1])
                start = -1
    return spans


def extract_json(
    text: str | None,
    *,
    want: type | tuple[type, ...] = (dict, list),
    accept: Callable[[Any], bool] | None = None,
) -> JSONExtraction:
    """The last JSON value of type ``want`` (and passing ``accept``) in ``text``, fenced blocks
    first, or why there is none. ``accept`` skips stray values a model appends after its answer."""

    def ok(value: Any) -> bool:
        return isinstance(value, want) and (accept is None or accept(value))

    if not text or not text.strip():
        return JSONExtraction(None, "empty reply")
    body = _THINK.sub(" ", text)
    fenced = _FENCE.findall(body)
    pools = [fenced, _candidates(body)] if fenced else [_candidates(body)]
    saw_json = False
    for pool in pools:
        for chunk in reversed(pool):
            chunk = chunk.strip()
            try:
                value = json.loads(chunk)
            except ValueError:
                for inner in reversed(_candidates(chunk)):
                    try:
                        value = json.loads(inner)
                    except ValueError:
                        continue
                    saw_json = True
                    if ok(value):
                        return JSONExtraction(value, None)
                continue
            saw_json = True
            if ok(value):
                return JSONExtraction(value, None)
    if saw_json:
        return JSONExtraction(None, "JSON of the wrong shape")
    return JSONExtraction(None, "no JSON found")
