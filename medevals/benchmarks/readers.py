"""Line-numbered readers for benchmark files: every error names the file, the line and the field."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medevals.errors import DataError

Row = tuple[int, dict[str, Any]]
"""(1-based line or record number, row)."""


def _open_text(path: Path):
    if not path.exists():
        raise DataError("file not found", path=path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {e.start})", path=path, line=line) from None


def _utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) read one line at a time, so a large file is never held whole."""
    if not path.exists():
        raise DataError("file not found", path=path)
    offset = 0
    with path.open("rb") as f:
        for i, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 (byte {offset + e.start})", path=path, line=i) from None
            if i == 1:
                text = text.removeprefix("\ufeff")
            offset += len(raw)
            yield i, text


def read_jsonl(path: Path) -> Iterator[Row]:
    """Rows streamed line by line (memory does not grow with the file)."""
    seen_content = False
    for i, line in _utf8_lines(path):
        if not line.strip():
            continue
        seen_content = True
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=i) from None
        if not isinstance(obj, dict):
            raise DataError(f"expected a JSON object, got {type(obj).__name__}", path=path, line=i)
        yield i, obj
    if not seen_content:
        raise DataError("file is empty", path=path)


def read_json(path: Path) -> Any:
    text = _open_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=e.lineno) from None


def read_csv(path: Path, *, header: bool = True, columns: list[str] | None = None) -> Iterator[Row]:
    """CSV rows as dicts; with ``header=False`` the caller names the columns. Line = physical start line."""
    text = _open_text(path)
    if not text.strip():
        raise DataError("file is empty", path=path)
    reader = csv.reader(text.splitlines(keepends=True))
    names = columns
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if header and names is None:
            names = row
            continue
        if not any(cell.strip() for cell in row):
            continue
        assert names is not None
        if len(row) != len(names):
            raise DataError(f"expected {len(names)} columns, found {len(row)}", path=path, line=line)
        yield line, dict(zip(names, row, strict=True))


def require(
    row: dict[str, Any], field: str, path: Path | str, line: int, *, kind: type | tuple[type, ...] = str
) -> Any:
    """Fetch a required field or fail naming file, line and field."""
    if field not in row or row[field] is None:
        raise DataError("missing", path=path, line=line, field=field)
    val = row[field]
    if not isinstance(val, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DataError(f"expected {expected}, got {type(val).__name__}", path=path, line=line, field=field)
    if isinstance(val, str) and not val.strip():
        raise DataError("empty", path=path, line=line, field=field)
    return val


_XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _xlsx_col(ref: str) -> int:
    """``"C12"`` -> 2 (zero-based column)."""
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch.upper()) - 64)
    return n - 1


def read_xlsx(path: Path, *, sheet: int = 1) -> Iterator[Row]:
    """Rows of one worksheet of an .xlsx workbook as dicts keyed by the header row; line = sheet row.

    Standard library only (``zipfile`` + ``xml.etree``): shared strings, inline strings and
    numbers are read; formulas are not evaluated (their cached value is used).
    """
    import zipfile
    from xml.etree import ElementTree as ET

    if not path.exists():
        raise DataError("file not found", path=path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DataError("not an .xlsx workbook (not a zip archive)", path=path) from None
    with zf:
        names = set(zf.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
            for si in root.iter(f"{_XLSX_NS}si"):
                shared.append("".join(t.text or "" for t in si.iter(f"{_XLSX_NS}t")))
        member = f"xl/worksheets/sheet{sheet}.xml"
        if member not in names:
            raise DataError(f"no worksheet {sheet} in the workbook", path=path)
        root = ET.fromstring(zf.read(member))
    header: list[str] | None = None
    for row in root.iter(f"{_XLSX_NS}row"):
        line = int(row.get("r") or 0)
        cells: dict[int, str] = {}
        for c in row.iter(f"{_XLSX_NS}c"):
            kind, ref = c.get("t"), c.get("r") or ""
            if kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{_XLSX_NS}t"))
            else:
                v = c.find(f"{_XLSX_NS}v")
                text = "" if v is None or v.text is None else v.text
                if kind == "s":
                    try:
                        text = shared[int(text)]
                    except (ValueError, IndexError):
                        raise DataError(f"bad shared-string index {text!r}", path=path, line=line) from None
            cells[_xlsx_col(ref)] = text
        if not any(v.strip() for v in cells.values()):
            continue
        if header is None:
            header = [cells.get(i, "").strip() for i in range(max(cells) + 1)]
            continue
        yield line, {name: cells.get(i, "") for i, name in enumerate(header) if name}
