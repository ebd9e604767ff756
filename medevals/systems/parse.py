"""Reading an agent's reply into a value the system's control flow uses (not the final answer).

A system's intermediate replies steer it: the domains an expert classifier names, a yes/no
vote on a report, a difficulty label, the numbers of experts to talk to. ``ParseSpec`` declares
how (exactly one of ``labels``, ``split`` or ``pattern``); the result goes into the trace with
``defaulted`` set when nothing could be read and the declared default was used, so a system that
keeps falling back is visible in the report. The *final answer* is never read here: the
benchmark's protocol reads it with its own extraction (``scoring/extract.py`` for MCQ).

Model text is untrusted and can be long: patterns are the system author's, matched with a cap
on the number of elements (``max``), and a reply is cut at ``MAX_CHARS`` before matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

#: Longest reply text a parser looks at (a runaway reply cannot make matching slow).
MAX_CHARS = 20_000


class ParseSpec(BaseModel):
    """How to read a reply. Exactly one of:

    - ``labels``: ``{label: [phrase, ...]}``; the reply gets the label whose phrase occurs
      (case-insensitive) ``earliest`` in it, or with ``match: order`` the first label, in declared
      order, that has any phrase in it; ``default`` (a label, or any other value) when none occurs.
    - ``split``: the text (after the last ``after`` marker, when given) split on this separator,
      items stripped of bullets/numbering, empty ones dropped.
    - ``pattern``: every match of this regular expression is one element: a dict of its named
      groups, else its first group, else the whole match; ``fields`` parse named groups further
      (e.g. each team's members out of its block); ``type: int`` reads each element as an integer.

    ``max`` keeps the first N elements (a number, or an expression of the system's parameters:
    ``question_domains``); ``default`` is used when nothing is read (a list for ``split``/``pattern``,
    a value for ``labels``).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built when a system is used

    labels: dict[str, list[str]] | None = None
    match: Literal["earliest", "order"] = "earliest"
    split: str | None = None
    after: str | None = None
    pattern: str | None = None
    fields: dict[str, ParseSpec] | None = None
    type: Literal["str", "int"] = "str"
    max: int | str | None = None
    default: str | list[str] | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from None
        return v

    @field_validator("max")
    @classmethod
    def _max(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 1:
            raise ValueError("max must be at least 1")
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if v is not None:
            if not v:
                raise ValueError("needs at least one label")
            for label, phrases in v.items():
                if not phrases or not all(isinstance(p, str) and p for p in phrases):
                    raise ValueError(f"label '{label}' needs a list of non-empty phrases")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> ParseSpec:
        kinds = [k for k in ("labels", "split", "pattern") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a parse needs exactly one of 'labels', 'split' or 'pattern'")
        if self.labels is not None and self.default is not None and not isinstance(self.default, str):
            raise ValueError("the default of a labels parse is one value (a label, or e.g. 'no')")
        if self.labels is None and isinstance(self.default, str):
            raise ValueError("the default of a list parse is a list")
        if self.fields and self.pattern is None:
            raise ValueError("'fields' parse named groups of a 'pattern'")
        if self.fields and self.pattern is not None:
            groups = set(re.compile(self.pattern).groupindex)
            unknown = sorted(set(self.fields) - groups)
            if unknown:
                raise ValueError(f"fields {unknown} are not named groups of the pattern")
        return self


_BULLET = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.)]|\(?[a-z][.)](?=\s))\s*", re.I)


def limits(spec: ParseSpec, evaluate: Callable[[str], Any]) -> ParseSpec:
    """``spec`` with every ``max`` that is an expression replaced by its value (``evaluate``)."""
    update: dict[str, Any] = {}
    if isinstance(spec.max, str):
        try:
            update["max"] = max(1, int(evaluate(spec.max)))
        except (TypeError, ValueError):
            raise ValueError(f"parse max '{spec.max}' is not a number") from None
    if spec.fields:
        update["fields"] = {k: limits(v, evaluate) for k, v in spec.fields.items()}
    return spec.model_copy(update=update) if update else spec


def parse_reply(spec: ParseSpec, text: str) -> tuple[Any, bool]:
    """(value, defaulted): the parsed value, and whether the declared default had to be used.

    ``spec.max`` must be a number here (see ``limits``)."""
    text = (text or "")[:MAX_CHARS]
    if spec.labels is not None:
        label = _label(spec, text)
        if label is None:
            return spec.default, True
        return label, False
    if spec.split is not None:
        body = text
        if spec.after:
            i = body.lower().rfind(spec.after.lower())
            if i >= 0:
                body = body[i + len(spec.after) :]
        items = [_BULLET.sub("", part).strip().strip("'\"`").strip() for part in body.split(spec.split)]
        values: list[Any] = [x for x in items if x]
    else:
        assert spec.pattern is not None
        values = []
        for m in re.finditer(spec.pattern, text):
            if isinstance(spec.max, int) and len(values) >= spec.max:
                break
            values.append(_element(spec, m))
    if spec.type == "int":
        values = [int(v) for v in values if isinstance(v, str) and v.strip().lstrip("+-").isdigit()]
    if isinstance(spec.max, int):
        values = values[: spec.max]
    if not values:
        return (list(spec.default) if isinstance(spec.default, list) else []), spec.default is not None
    return values, False


def _label(spec: ParseSpec, text: str) -> str | None:
    low = text.lower()
    assert spec.labels is not None
    if spec.match == "order":
        for label, phrases in spec.labels.items():
            if any(p.lower() in low for p in phrases):
                return label
        return None
    best: tuple[int, int] | None = None
    found = None
    for rank, (label, phrases) in enumerate(spec.labels.items()):
        for p in phrases:
            i = low.find(p.lower())
            if i >= 0 and (best is None or (i, rank) < best):
                best, found = (i, rank), label
    return found


def _element(spec: ParseSpec, m: re.Match[str]) -> Any:
    named = m.groupdict()
    if named:
        out: dict[str, Any] = {}
        for k, v in named.items():
            v = (v or "").strip()
            sub = (spec.fields or {}).get(k)
            out[k] = parse_reply(sub, v)[0] if sub is not None else v
        return out
    if m.groups():
        return (m.group(1) or "").strip()
    return m.group(0).strip()
