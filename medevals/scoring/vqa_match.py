"""Reading and matching short VQA answers (VQA-RAD, SLAKE, PathVQA): closed yes/no, exact, token recall/F1.

The field's scripts differ in small ways and several have known faults (LLaVA-Med's
``run_eval.py`` drops a closed question from the denominator when the reply contains "yes" or
"no" but not the reference, and matches "no" inside "not"/"node"). medevals uses one documented
rule everywhere:

- **normalise**: lower case, every character that is not a letter or digit becomes a space,
  articles (a, an, the) dropped, number words zero..ten written as digits, spaces collapsed;
- **closed yes/no**: the reply's answer is its first word when that is yes/no, else the one of
  yes/no that occurs as a whole word; both or neither is *unparseable* (scored wrong, counted);
- **closed other** (VQA-RAD "CLOSED" questions such as "left or right?") and **open**: exact match
  of the normalised strings; token recall = share of the reference's normalised tokens found in
  the reply (LLaVA-Med's "recall"), token F1 from the multiset overlap.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ARTICLES = {"a", "an", "the"}
_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}  # fmt: skip
YES_NO = ("yes", "no")


def tokens(text: str) -> list[str]:
    words = _NON_ALNUM.sub(" ", str(text).lower()).split()
    return [_NUMBERS.get(w, w) for w in words if w not in _ARTICLES]


def normalize(text: str) -> str:
    return " ".join(tokens(text))


def is_yes_no(answer: str) -> bool:
    return normalize(answer) in YES_NO


def read_yes_no(reply: str) -> str | None:
    toks = tokens(reply)
    if toks and toks[0] in YES_NO:
        return toks[0]
    found = {t for t in toks if t in YES_NO}
    return found.pop() if len(found) == 1 else None


def token_recall(reply: str, reference: str) -> float:
    ref = tokens(reference)
    if not ref:
        return 0.0
    got = set(tokens(reply))
    return sum(1 for t in ref if t in got) / len(ref)


def token_f1(reply: str, reference: str) -> float:
    pred, ref = Counter(tokens(reply)), Counter(tokens(reference))
    common = sum((pred & ref).values())
    if not common:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class VQAMatch:
    kind: str  # "closed" or "open"
    correct: float  # closed: the yes/no (or exact) verdict; open: exact match
    parsed: bool
    answer: str | None
    exact: float
    recall: float
    f1: float


def match(reply: str, reference: str, answer_type: str | None = None) -> VQAMatch:
    """Score one reply; ``answer_type`` "closed"/"open" from the data, else closed iff the reference is yes/no."""
    kind = (answer_type or "").strip().lower() or ("closed" if is_yes_no(reference) else "open")
    if kind not in ("closed", "open"):
        raise ValueError(f"answer_type must be closed or open, got {answer_type!r}")
    exact = float(bool(tokens(reply)) and normalize(reply) == normalize(reference))
    recall, f1 = token_recall(reply, reference), token_f1(reply, reference)
    if kind == "closed" and is_yes_no(reference):
        yn = read_yes_no(reply)
        return VQAMatch(kind, float(yn == normalize(reference)), yn is not None, yn, exact, recall, f1)
    parsed = bool(tokens(reply))
    return VQAMatch(kind, exact, parsed, normalize(reply) if parsed else None, exact, recall, f1)
