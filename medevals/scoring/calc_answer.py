"""Reading and judging a calculation answer: numbers within limits, integers exactly, dates as dates.

Follows MedCalc-Bench's scoring: a decimal answer is right when it lies within the row's
[Lower Limit, Upper Limit] (±5% of the ground truth); an integer score must equal the label; a date
must be the same calendar date (MM/DD/YYYY or ISO accepted); a gestational age may be given as
(weeks, days) or total days. "N/A" labels expect an abstention ("N/A", "cannot compute").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_NUM = re.compile(r"[-+]?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKS_DAYS = re.compile(r"(\d+)\s*weeks?\D{0,12}?(\d+)\s*days?", re.I)
_ABSTAIN = re.compile(
    r"\b(n/?a|cannot (?:be )?comput\w*|can't compute|not computable|insufficient|unable to (?:compute|calculate))\b",
    re.I,
)


def is_abstention(text: str) -> bool:
    return bool(_ABSTAIN.search(text or ""))


def parse_number(text: str) -> float | None:
    """The last number in the text (commas as thousands separators), or None."""
    found = _NUM.findall(text or "")
    for tok in reversed(found):
        try:
            return float(tok.replace(",", ""))
        except ValueError:
            continue
    return None


def parse_date(text: str) -> dt.date | None:
    found = list(_DATE.finditer(text or ""))
    for m in reversed(found):
        try:
            if m.group(1):
                return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
            return dt.date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
        except ValueError:
            continue
    return None


def parse_weeks_days(text: str) -> tuple[int, int] | None:
    m = list(_WEEKS_DAYS.finditer(text or ""))
    if m:
        return int(m[-1].group(1)), int(m[-1].group(2))
    return None


def _label_days(label: str) -> int | None:
    wd = parse_weeks_days(label)
    if wd:
        return wd[0] * 7 + wd[1]
    if label.strip().isdigit():
        return int(label.strip())
    return None


def judge(answer_text: str, label: dict[str, Any], output_type: str) -> tuple[bool | None, Any]:
    """(correct, parsed answer); correct is None when the answer cannot be read."""
    text = (answer_text or "").strip()
    gold = str(label["answer"])
    if gold.upper() == "N/A":
        return is_abstention(text), ("N/A" if is_abstention(text) else text[:40])
    if is_abstention(text) and parse_number(text) is None:
        return False, "N/A"
    if output_type == "date" and "/" in gold and _DATE.search(gold):
        d = parse_date(text)
        if d is None:
            return None, None
        return d == parse_date(gold), d.strftime("%m/%d/%Y")
    days = (
        _label_days(gold) if ("week" in gold or output_type == "integer") and "week" in gold + text else None
    )
    if days is not None:
        wd = parse_weeks_days(text)
        got = (
            wd[0] * 7 + wd[1]
            if wd
            else (int(n) if (n := parse_number(text)) is not None and n.is_integer() else None)
        )
        if got is None:
            return None, None
        return got == days, got
    x = parse_number(text)
    if x is None:
        return None, None
    if output_type == "integer":
        return x == round(float(gold)) and x.is_integer(), x
    lo, hi = float(label["lower"]), float(label["upper"])
    lo, hi = min(lo, hi), max(lo, hi)
    return lo <= x <= hi, x
