"""Reading a custom spec's data file: records, field paths, joined lists, duplicate ids, lines for errors.

What real published files needed before they loaded, in one place:

- ``records: data.items`` reaches the list of records inside a JSON document (``data`` then
  ``items``; a number indexes a list). The records may also be an object of objects (PubMedQA's
  ``{"PMID": {...}}``, ``records: $`` when it is the whole document): each value is a record and
  its key is available as the field ``_key``.
- A field path is dot-separated and indexes lists with numbers (``label.0``, ``answers.text.0``);
  a key that itself contains dots is found first as written.
- ``join`` turns a list of texts into one text (``CONTEXTS`` paragraphs) for the fields named.
- JSON Lines saved under a ``.json`` name (MedMCQA's release) are read as JSON Lines.
- Every record carries the line it starts on, also inside a pretty-printed JSON document (its
  position is read while walking the text), so an error names the line a user can open.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medevals.benchmarks.mapping import as_text
from medevals.benchmarks.readers import _open_text, read_csv, read_jsonl
from medevals.errors import DataError

KEY = "_key"
"""The field holding a record's key when the records are an object of objects."""

SUFFIXES = (".jsonl", ".json", ".csv")


@dataclass(frozen=True)
class Record:
    #: The line the record starts on (for errors).
    line: int
    #: 1-based position among the records: the default id (stable when a JSON file is reformatted).
    number: int
    row: dict[str, Any]

    @property
    def default_id(self) -> str:
        return str(self.number)


def read_records(path: Path, records: str | None = None) -> Iterable[Record]:
    """The data file's records: JSONL lines (streamed), CSV rows, or a JSON document's records."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"unsupported data format '{suffix}' (use .jsonl, .json or .csv)", path=path)
    if records is not None and suffix != ".json":
        raise DataError(f"'records' applies to .json files, not {suffix}", path=path, field="records")
    if suffix == ".jsonl":
        return (Record(line, line, row) for line, row in read_jsonl(path))
    if suffix == ".csv":
        return [Record(line, line, row) for line, row in read_csv(path)]
    return list(_json_records(path, records))


# --------------------------------------------------------------------------- JSON with positions

_WS = " \t\n\r"
_decoder = json.JSONDecoder()


def _skip(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _members(s: str, i: int) -> Iterator[tuple[str, int, Any, int]]:
    """(key, value start, value, value end) of the object starting at ``s[i] == '{'``."""
    i = _skip(s, i + 1)
    if s[i] == "}":
        return
    while True:
        key, i = _decoder.raw_decode(s, i)
        i = _skip(s, _skip(s, i) + 1)  # past ':'
        value, end = _decoder.raw_decode(s, i)
        yield key, i, value, end
        i = _skip(s, end)
        if s[i] != ",":
            return
        i = _skip(s, i + 1)


def _elements(s: str, i: int) -> Iterator[tuple[int, Any, int]]:
    """(start, value, end) of each element of the array starting at ``s[i] == '['``."""
    i = _skip(s, i + 1)
    if s[i] == "]":
        return
    while True:
        value, end = _decoder.raw_decode(s, i)
        yield i, value, end
        i = _skip(s, end)
        if s[i] != ",":
            return
        i = _skip(s, i + 1)


def _json_records(path: Path, records: str | None) -> Iterator[Record]:
    text = _open_text(path)
    try:
        json.loads(text)  # validates the whole document first: its error names the line
    except json.JSONDecodeError as e:
        if records is None and e.msg == "Extra data" and _object_line(text):
            # JSON Lines under a .json name (MedMCQA's release): read line by line
            yield from (Record(line, line, row) for line, row in read_jsonl(path))
            return
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=e.lineno) from None
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:
        return bisect.bisect_right(newlines, pos) + 1

    pos = _skip(text, 0)
    where = "the document"
    parts = (records or "").removeprefix("$").removeprefix(".")
    for part in parts.split(".") if parts else []:
        if text[pos] == "{":
            found = next((start for key, start, _v, _e in _members(text, pos) if key == part), None)
        elif text[pos] == "[" and part.lstrip("-").isdigit():
            found = next(
                (start for k, (start, _v, _e) in enumerate(_elements(text, pos)) if k == int(part)), None
            )
        else:
            found = None
        if found is None:
            raise DataError(
                f"records '{records}': {where} has no '{part}'", path=path, line=line_of(pos), field="records"
            )
        pos, where = found, f"'{part}'"
    if text[pos] == "[":
        for n, (start, value, _end) in enumerate(_elements(text, pos), start=1):
            if not isinstance(value, dict):
                raise DataError(
                    f"expected each record to be an object, got {type(value).__name__}",
                    path=path,
                    line=line_of(start),
                )
            yield Record(line_of(start), n, value)
    elif text[pos] == "{" and records is not None:
        for n, (key, start, value, _end) in enumerate(_members(text, pos), start=1):
            if not isinstance(value, dict):
                raise DataError(
                    f"expected each record to be an object, got {type(value).__name__}",
                    path=path,
                    line=line_of(start),
                    field=key,
                )
            yield Record(line_of(start), n, value if KEY in value else {**value, KEY: key})
    elif records is None:
        raise DataError(
            "a .json data file must hold a list of objects (or say where the records are: "
            "records: KEY.PATH, or records: $ for an object of records)",
            path=path,
            line=line_of(pos),
        )
    else:
        raise DataError(
            f"records '{records}' is not a list or an object of records",
            path=path,
            line=line_of(pos),
            field="records",
        )


def _object_line(text: str) -> bool:
    """Whether the document's first line is a whole JSON object (so the file is JSON Lines)."""
    first = text.lstrip().split("\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


# --------------------------------------------------------------------------- field access

_MISSING = object()


def lookup(row: dict[str, Any], field: str) -> Any:
    """The value at a dotted path (numbers index lists), or ``_MISSING``; null counts as missing."""
    if field in row:
        cur = row[field]
        return _MISSING if cur is None else cur
    cur: Any = row
    for part in field.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
        if cur is None:
            return _MISSING
    return cur


def get(rec: Record, field: str, path: Path, *, required: bool = True) -> Any:
    """The field's value; missing (or null) is an error naming file, line and field, or None."""
    value = lookup(rec.row, field)
    if value is _MISSING:
        if required:
            raise DataError("missing", path=path, line=rec.line, field=field)
        return None
    return value


def text(
    rec: Record,
    field: str,
    path: Path,
    *,
    join: str | None = None,
    numbers: bool = False,
    required: bool = True,
) -> str | None:
    """A text field; a list is joined with ``join`` when the spec asks (each element text), else an error."""
    value = get(rec, field, path, required=required)
    if value is None:
        return None
    if isinstance(value, list) and join is not None:
        parts = [
            as_text(v, where=path, line=rec.line, field=f"{field}.{i}", numbers=True)
            for i, v in enumerate(value)
        ]
        return join.join(parts)
    return as_text(value, where=path, line=rec.line, field=field, numbers=numbers)


def texts(rec: Record, field: str, path: Path, *, required: bool = True) -> list[str] | None:
    """A list of texts (numbers allowed); one text is a list of one."""
    value = get(rec, field, path, required=required)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [
        as_text(v, where=path, line=rec.line, field=f"{field}.{i}", numbers=True)
        for i, v in enumerate(values)
    ]


class IdCheck:
    """Remembers the line of every id so a repeat names the file and both lines."""

    def __init__(self, path: Path, field: str | None):
        self.path = path
        self.field = field or "id"
        self.first: dict[str, int] = {}

    def __call__(self, item_id: str, line: int) -> str:
        if item_id in self.first:
            raise DataError(
                f"duplicate item id '{item_id}' (first on line {self.first[item_id]})",
                path=self.path,
                line=line,
                field=self.field,
            )
        self.first[item_id] = line
        return item_id
