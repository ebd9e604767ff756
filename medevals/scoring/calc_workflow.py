"""Scoring a multi-calculator answer (MedMCP-Calc) without a model: which calculators, which values.

Upstream's grader (``SPIRAL-MED/MedMCP-Calc@81f3ff2:codes/evaluation.py``) asks an LLM to extract
{calculator, value} pairs from the final answer and another call to decide, per gold calculator,
whether the model used it (``name_matched``, "names may have slight differences, such as
abbreviations, capitalization") and whether its result is consistent (``result_matched``); per
task, selection accuracy = gold calculators matched / gold calculators and calculation accuracy
= gold results matched / gold calculators; calculators the model added are counted as extra. No
numeric tolerance is stated. This module is medevals' deterministic reading of the same
comparison (the judged one is in ``protocols/calc_workflow.py``), pinned in
``tests/conformance/test_medmcp_calc_conformance.py``:

**Names.** Each name is normalised (accents and sub/superscripts folded, lower case, punctuation
to spaces, possessives dropped) into forms: the whole name, the name without its parentheses, and
each parenthesised part ("ECOG"). A reported name matches a gold name when a form is equal
(``exact``); when it is a medevals calculator mapped to that gold name (slug, tool name or title:
``library``); when a one-word form is the initials of the other name (``acronym``); or when all
the distinctive words of one (words other than "score", "calculator", "criteria", ...) appear in
the other (``contains``). Each reported calculator matches at most one gold calculator and the
reverse: pairs are taken greedily, correct values first, then the stronger rule, then the higher
word overlap, in gold order.

**Values.** A gold result is a number (an int, a float, or a string starting with one: "24.0
mEq/L", "28.7% (24.4-33.4%)") or a category ("Stage 2", "Warm and Wet"). A number is read from the
reported value with ``scoring/calc_answer.read_answer`` (units, ranges and thresholds handled as for
MedCalc-Bench). A decimal gold is matched within ±5% (MedCalc-Bench's limits for decimals); an
integer gold within max(±5%, ±0.5), i.e. an integer score must round to the gold while an
integer-valued quantity (a MAP of 95, an osmolality of 333) gets the ±5% of a measurement. A
category matches when the gold's first line, normalised (roman numerals I-X as digits), appears
in the reported value as a phrase, or the reported phrase appears in it and covers more than half
of its distinctive words ("High" for "High risk", not "Wet" for "Warm and Wet"), with the same negation ("not", "no", "non", "without") on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from medevals.scoring.json_extract import extract_json

_STOP = frozenset({"the", "of", "for", "and", "a", "an", "in", "with", "by", "to", "on", "or", "at"})
#: Words that say what kind of tool a name is, not which one.
GENERIC = frozenset(
    {
        "score",
        "scores",
        "scale",
        "index",
        "calculator",
        "calculation",
        "calculations",
        "equation",
        "equations",
        "criteria",
        "rule",
        "tool",
        "risk",
        "classification",
        "formula",
        "estimate",
        "estimated",
        "model",
        "system",
        "assessment",
        "test",
        "level",
        "value",
        "ratio",
        "total",
        "patient",
    }
)
_NEGATION = frozenset({"not", "no", "non", "without"})
_ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
}
_LEADING_NUMBER = re.compile(r"^\s*[<>≤≥~≈]?\s*(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)")
RULE_STRENGTH = {"exact": 4, "library": 4, "acronym": 3, "contains": 2}


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"'s\b", "", t)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", t).split())


def name_forms(name: str) -> set[str]:
    """The whole name, the name without parentheses, and each parenthesised part, normalised."""
    out = {normalise(name), normalise(re.sub(r"\([^)]*\)", " ", name))}
    out.update(normalise(p) for p in re.findall(r"\(([^)]*)\)", name))
    return {f for f in out if f}


def _words(form: str) -> set[str]:
    return {w for w in form.split() if w not in _STOP}


def _core(form: str) -> set[str]:
    return {w for w in _words(form) if w not in GENERIC}


def _initials(form: str) -> str:
    return "".join(w[0] for w in form.split() if w not in _STOP)


@dataclass(frozen=True)
class NameMatch:
    rule: str
    overlap: float  # Jaccard of the two names' words (ties between candidates)


def match_name(reported: str, gold: str, library: Iterable[str] = ()) -> NameMatch | None:
    """How ``reported`` names the ``gold`` calculator, or None. ``library``: the names of the
    medevals calculator mapped to this gold calculator (slug, tool name, title)."""
    pf, gf = name_forms(reported), name_forms(gold)
    if not pf:
        return None
    pw, gw = set().union(*(_words(f) for f in pf)), set().union(*(_words(f) for f in gf))
    overlap = len(pw & gw) / len(pw | gw) if pw | gw else 0.0
    if pf & gf:
        return NameMatch("exact", overlap)
    lib = set().union(*(name_forms(x) for x in library)) if library else set()
    if pf & lib:
        return NameMatch("library", overlap)
    for p in pf:
        for g in gf:
            if (" " not in p and len(p) >= 2 and len(g.split()) >= 2 and p == _initials(g)) or (
                " " not in g and len(g) >= 2 and len(p.split()) >= 2 and g == _initials(p)
            ):
                return NameMatch("acronym", overlap)
    for forms_a, words_b in ((pf, gw), (gf, pw)):
        for f in forms_a:
            core = _core(f)
            if core and (len(core) >= 2 or len(next(iter(core))) >= 3) and core <= words_b:
                return NameMatch("contains", overlap)
    return None


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class GoldValue:
    kind: str  # "integer" | "decimal" | "category"
    number: float | None = None
    text: str = ""


def gold_value(final_answer: Any) -> GoldValue:
    if isinstance(final_answer, bool):
        return GoldValue("category", text=str(final_answer))
    if isinstance(final_answer, int):
        return GoldValue("integer", float(final_answer))
    if isinstance(final_answer, float):
        return GoldValue("decimal", final_answer)
    text = str(final_answer).strip()
    m = _LEADING_NUMBER.match(text)
    if m:
        raw = m.group(1).replace(",", "")
        return GoldValue("decimal" if "." in raw else "integer", float(raw), text)
    return GoldValue("category", text=text.splitlines()[0].strip() if text else "")


def _category_words(text: str) -> list[str]:
    return [_ROMAN.get(w, w) for w in normalise(text).split()]


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def _number_of(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    from medevals.scoring.calc_answer import read_answer

    ans = read_answer(str(value), "decimal", first_line=True)
    return float(ans.value) if ans.kind == "number" else None


def value_matches(reported: Any, final_answer: Any) -> bool:
    """Whether a reported value equals the gold result under the rule in the module docstring."""
    g = gold_value(final_answer)
    if g.kind in ("integer", "decimal"):
        x = _number_of(reported)
        if x is None or g.number is None:
            return False
        tol = 0.05 * abs(g.number)
        if g.kind == "integer":
            tol = max(tol, 0.5)
        return abs(x - g.number) <= tol + 1e-9
    gold = _category_words(g.text)
    said = _category_words(str(reported))
    if not gold or not said:
        return False
    if bool(_NEGATION & set(gold)) != bool(_NEGATION & set(said)):
        return False
    if _contains(said, gold):
        return True
    distinctive = [w for w in gold if w not in GENERIC and w not in _STOP]
    covered = [w for w in said if w not in GENERIC and w not in _STOP]
    return _contains(gold, said) and bool(covered) and len(set(covered)) * 2 > len(set(distinctive))


# ----------------------------------------------------------------------------- a task


@dataclass(frozen=True)
class Reported:
    name: str
    value: Any


def _is_entry(x: Any) -> bool:
    return isinstance(x, dict) and any(k in x for k in ("name", "calculator"))


def read_reported(text: str) -> list[Reported] | None:
    """The calculators a reply reports: the last JSON ``{"calculators": [...]}`` (or a bare list)
    of ``{"name", "value"}`` objects (``calculator``/``result`` accepted); None when there is none."""

    def accept(v: Any) -> bool:
        if isinstance(v, dict):
            return isinstance(v.get("calculators"), list)
        return isinstance(v, list) and bool(v) and all(_is_entry(x) for x in v)

    got = extract_json(text, accept=accept)
    if got.value is None:
        return None
    entries = got.value["calculators"] if isinstance(got.value, dict) else got.value
    out = []
    for e in entries:
        if not _is_entry(e):
            continue
        name = str(e.get("name", e.get("calculator", "")) or "").strip()
        value = e.get("value", e.get("result"))
        if name:
            out.append(Reported(name, value))
    return out


@dataclass(frozen=True)
class TaskScore:
    pairs: list[tuple[int, int, str, bool]]  # (reported index, gold index, name rule, value right)
    n_reported: int
    n_gold: int

    @property
    def selection_recall(self) -> float:
        return len(self.pairs) / self.n_gold if self.n_gold else 0.0

    @property
    def selection_precision(self) -> float:
        return len(self.pairs) / self.n_reported if self.n_reported else 0.0

    @property
    def selection_f1(self) -> float:
        p, r = self.selection_precision, self.selection_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def value_accuracy(self) -> float:
        return sum(1 for *_, ok in self.pairs if ok) / self.n_gold if self.n_gold else 0.0

    @property
    def extra(self) -> int:
        return self.n_reported - len(self.pairs)


def score_task(
    reported: list[Reported], gold: list[dict[str, Any]], library: dict[str, list[str]] | None = None
) -> TaskScore:
    """Pair reported calculators with gold ones one to one and judge each pair's value.

    ``library``: gold name -> the names of its mapped medevals calculator."""
    library = library or {}
    cands = []
    for j, g in enumerate(gold):
        for i, r in enumerate(reported):
            m = match_name(r.name, g["name"], library.get(g["name"], ()))
            if m is not None:
                ok = value_matches(r.value, g["final_answer"])
                cands.append((not ok, -RULE_STRENGTH[m.rule], -m.overlap, j, i, m.rule, ok))
    cands.sort()
    used_r: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, _, _, j, i, rule, ok in cands:
        if i in used_r or j in used_g:
            continue
        used_r.add(i)
        used_g.add(j)
        pairs.append((i, j, rule, ok))
    return TaskScore(sorted(pairs, key=lambda p: p[1]), len(reported), len(gold))
