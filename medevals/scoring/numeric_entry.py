"""Numeric-entry exam questions: read the number a reply gives and judge it against the key.

IgakuQA's 12 calculation questions print answer boxes after "解答：" (``①.②``, ``①②③mL``,
``1, ①②③ kcal``) and the key gives what goes in the boxes: ``04`` under ``①.②`` is 0.4, ``100``
under ``①②.③`` is 10.0, ``130`` under ``1, ①②③`` is 1,130 (some keys keep the point: ``7.20``).
Upstream (``jungokasai/IgakuQA@scripts/evaluate_main.py``) compares the reply with the key as a
string, so "0.4" is wrong for ``04``. medevals accepts the value the boxes spell (0.4, and 0.40)
or the box digits themselves ("04": a number without a point with exactly as many digits as
boxes), and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_TEMPLATE = re.compile(r"解答\s*[:：]\s*([^\n]*[①-⑩][^\n]*)")
_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.])\d+(?:\.\d+)?")


def template_of(question: str) -> str | None:
    """The answer-box template a question prints ("①.②"), or None."""
    m = _TEMPLATE.search(question or "")
    return m.group(1).strip() if m else None


def _boxes(template: str) -> int:
    return sum(template.count(c) for c in _CIRCLED)


def key_value(key: str, template: str | None) -> Decimal | None:
    """The value the key spells in the template's boxes (a key that already has a point is read as is)."""
    digits = key.replace(".", "")
    text = key
    if template and "." not in key and _boxes(template) == len(digits):
        it = iter(digits)
        text = "".join(next(it) if c in _CIRCLED else c for c in template)
    m = _NUMBER.search(text.replace(" ", ""))
    if not m:
        return None
    try:
        return Decimal(m.group(0).replace(",", ""))
    except InvalidOperation:
        return None


def read_number(text: str, statement: str | None = None) -> str | None:
    """The number a reply answers, as written: the first after its last answer statement
    (``statement``: a regex alternation such as "the answer is|正解は"), else the last number."""
    # an echoed box template is no answer (NFKC would turn "①.②" into "1.2")
    body = unicodedata.normalize("NFKC", re.sub(f"[{_CIRCLED}]", " ", text or ""))
    body = re.sub(r"<think>.*?</think>", " ", body, flags=re.S | re.I)
    if statement:
        stated = list(re.finditer(rf"(?:{statement})", body, re.I))
        if stated:
            m = _NUMBER.search(body, stated[-1].end())
            if m:
                return m.group(0)
    found = _NUMBER.findall(body)
    return found[-1] if found else None


def judge(number: str | None, key: str, template: str | None) -> bool:
    """Is the reply's number the key: the same value, or the box digits themselves?"""
    if number is None:
        return False
    plain = number.replace(",", "")
    want = key_value(key, template)
    try:
        if want is not None and Decimal(plain) == want:
            return True
    except InvalidOperation:
        return False
    digits = key.replace(".", "")
    return "." not in plain and bool(template) and _boxes(template or "") == len(digits) and plain == digits
