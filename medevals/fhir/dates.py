"""FHIR date search semantics: a search value is an interval set by its precision, with a prefix.

``date=2023-11-12`` means the whole day, ``date=ge2023-11-12T10:15:00+00:00`` an instant
onward. Values without a time zone are read as UTC (the sandbox stores every instant in UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACE_TZ = re.compile(r"(?<=\d) (\d{2}:\d{2})$")


class DateParamError(ValueError):
    """A date search value that is not a FHIR date/dateTime."""


def parse_instant(text: str) -> datetime:
    """An ISO date or dateTime as an aware UTC datetime (dates mean their midnight UTC)."""
    t = text.strip().replace("Z", "+00:00")
    # an unencoded "+" in a URL query arrives as a space ("...T10:15:00 00:00"): read it as "+"
    t = _SPACE_TZ.sub(r"+\1", t)
    if _DAY.match(t):
        t += "T00:00:00+00:00"
    try:
        dt = datetime.fromisoformat(t)
    except ValueError as e:
        raise DateParamError(f"'{text}' is not a FHIR date or dateTime") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _interval(value: str) -> tuple[datetime, datetime]:
    """[start, end) covered by a search value at its precision."""
    v = value.strip()
    if _YEAR.match(v):
        y = int(v)
        return datetime(y, 1, 1, tzinfo=UTC), datetime(y + 1, 1, 1, tzinfo=UTC)
    if _MONTH.match(v):
        y, m = map(int, v.split("-"))
        end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        return datetime(y, m, 1, tzinfo=UTC), end
    if _DAY.match(v):
        start = parse_instant(v)
        return start, start + timedelta(days=1)
    start = parse_instant(v)
    # dateTime precision: to the second when seconds are given, else to the minute
    step = timedelta(seconds=1) if re.search(r"T\d{2}:\d{2}:\d{2}", v) else timedelta(minutes=1)
    return start, start + step


def split_prefix(value: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2] in PREFIXES and value[2].isdigit():
        return value[:2], value[2:]
    return "eq", value


def matcher(param: str):
    """A predicate over a resource instant for one ``date=`` search value."""
    prefix, raw = split_prefix(param)
    start, end = _interval(raw)

    def match(d: datetime) -> bool:
        if prefix == "eq":
            return start <= d < end
        if prefix == "ne":
            return not (start <= d < end)
        if prefix in ("gt", "sa"):
            return d >= end
        if prefix in ("lt", "eb"):
            return d < start
        if prefix == "ge":
            return d >= start
        return d < end  # le

    return match
