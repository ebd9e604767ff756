"""Reading and judging a clinical-calculation answer (MedCalc-Bench and medcalc-gen).

**Reading** (``read_answer``): the answer segment is, in order, the ``answer`` field of the last
JSON object (what MedCalc-Bench's prompt asks for; a field in JSON that does not parse still
counts), an ``<answer>...</answer>`` tag (the corrected-label set's prompt), ``\\boxed{...}``, the
text after the last final-answer phrase ("the answer is", "final answer:"), else the last
sentence that carries a number or an abstention. Inside a segment the answer is the first
number that is not part of a unit ("/1.73 m²", "× 10^9/L", "m2"), a denominator ("3 out of 5",
"mg/24 h"), a range ("18.5-24.9", "between 10 and 20"), a threshold ("≥ 2") or a formula
operand ("70 / 1.75^2 = 22.9" reads 22.9); in a free-text sentence, the number right after its
last "is/=/:" cue. A formula without a result is not evaluated (model text is never eval'd).
Dates read as M/D/YYYY, ISO or "September 23, 2014"; gestational age as ``(34, 3)``,
``[34, 3]``, ``('34 weeks', '3 days')``, "34 weeks 3 days", "34w3d" or a day count.
An abstention is explicit ("N/A", "NA", "unknown", "cannot be calculated", "insufficient
information") with no answer number beside it: "Na 135" (sodium) is a number, not "N/A".

**Judging** (``judge_answer``), by rule:

- ``medcalc``: MedCalc-Bench v1.0, ``ncbi-nlp/MedCalc-Bench@evaluation/evaluate.py``
  ``check_correctness``: decimals within [Lower Limit, Upper Limit] inclusive; integer scores
  ``round(answer) == label`` with Python's ``round`` (half to even: 2.5 -> 2, 3.5 -> 4); dates the
  same calendar date; gestational age the same (weeks, days) (compared here as total days).
- ``limits``: the corrected-label set's own grader, ``junzeye/validate-medcalc-labels@
  verl/utils/reward_score/medcalc.py`` ``compute_score``: every answer (decimal, integer score,
  gestational age in days, date) within the row's [Lower Limit, Upper Limit]; that set's limits
  are ±5% for integer scores too, and no rounding is applied.
- ``physician``: the same repository's physician-agreement rule,
  ``scripts/reproduce_phase3_metrics.py`` ``check_agreement``: integer-like values up to 20
  (ordinal) agree within ±1, others within ±5% relative (within 0.05 of a zero label); dates
  exactly.

"N/A" labels (corrected set, medcalc-gen) are right only for an explicit abstention under every
rule; a number answered to an "N/A" label, or an abstention to a numeric label, is wrong. An
unreadable answer is ``None`` (counted as unparsed, scored wrong).
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Rule = Literal["medcalc", "limits", "physician"]
Kind = Literal["decimal", "integer", "date", "gestational_age"]
RULES: tuple[str, ...] = ("medcalc", "limits", "physician")

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPER_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+")
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_JSON_FIELD = re.compile(r'"answer"\s*:\s*(\[[^\]\n]*\]|"[^"\n]*"|[^,}\n]+)', re.I)
_PHRASE = re.compile(
    r"(?:final\s+answer|the\s+answer\s+is|answer\s+is|answer\s*[:=]|final\s+(?:result|score|value)\s*(?:is|[:=]))",
    re.I,
)
#: a number not glued to a word ("CHA2DS2", "PaO2") nor a name ("FIB-4", "CURB-65")
_NUMBER = re.compile(r"(?<![\w.])(?:-(?=\.?\d))?(?<![A-Za-z]-)(?:\d+(?:\.\d+)?|\.\d+)(?![\d])")
_CUE = re.compile(
    r"(?:=|≈|~|:|\bis\b|\bare\b|\bequals?\b|\bof\b|\bwould\s+be\b|\bcomes\s+to\b|\bgives\b|\bto\s+be\b)"
    r"(?:\s*(?:approximately|approx\.?|about|around|roughly|an?\s+estimated|estimated|calculated\s+as|now)\b)*\s*$",
    re.I,
)
_LIST = re.compile(r"\W*-?\d+(?:\.\d+)?(?:\s*(?:,|;|\band\b|\bor\b)\s*-?\d+(?:\.\d+)?)+\W*", re.I)
_CALL = re.compile(r"\b(?:str|round|sqrt|min|max|pow|abs|int|float|log|exp|math\.\w+)\s*\(", re.I)
_OPERATOR_AFTER = re.compile(r"\s*(?:[*/×÷^+]|\bx\b|-\s)\s*[\d(.]", re.I)
_OPERATOR_BEFORE = re.compile(r"(?:[*/×÷^+(]|\bx|[\d)]\s+-)\s*$", re.I)
_THRESHOLD_BEFORE = re.compile(
    r"(?:[<>≤≥]=?|\b(?:greater|less|more|fewer|higher|lower)\s+than|\bat\s+(?:least|most)|\babove|\bbelow"
    r"|\bover|\bunder|\bexceed\w*|\bup\s+to|\bcut-?off\s+(?:of\s+)?)\s*$",
    re.I,
)
_RANGE = re.compile(
    r"(?<![\w.])(-?\d+(?:\.\d+)?)\s*(?:[–—]|-(?=\d)|\bto\b)\s*(-?\d+(?:\.\d+)?)(?![\d])"
    r"|\bbetween\s+(-?\d+(?:\.\d+)?)\s+and\s+(-?\d+(?:\.\d+)?)",
    re.I,
)
#: numbers of a unit or a denominator: "/1.73 m^2", "x 10^9/L", "^2", "/24 h", "out of 5", "3 of 9"
_UNIT_NUMBERS = re.compile(
    r"(?:[x×*·]\s*)?\b10\s*\^\s*-?\d+"
    r"|\^\s*-?\d+(?:\.\d+)?"
    r"|/\s*\d+(?:\.\d+)?"
    r"|\bout\s+of\s+\d+(?:\.\d+)?|(?<=\d)\s+of\s+(?:the\s+)?\d+(?:\.\d+)?"
    r"|\bper\s+\d+(?:\.\d+)?",
    re.I,
)
_DATE_NUMERIC = re.compile(
    r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)|(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"
)
_MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTHS = {n: i + 1 for i, n in enumerate(_MONTH_NAMES)} | {n[:3]: i + 1 for i, n in enumerate(_MONTH_NAMES)}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_WORDS = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b",
    re.I,
)
_W = r"(?:weeks?|wks?|w)(?![a-z])"
_D = r"(?:days?|d)(?![a-z])"
_INT = r"(?<![\d.])(\d+)(?![\d.])"
_GA_PAIR = re.compile(
    rf"[(\[]\s*['\"]?{_INT}\s*(?:{_W})?['\"]?\s*,\s*['\"]?{_INT}\s*(?:{_D})?['\"]?\s*[)\]]"
    rf"|{_INT}\s*{_W}\s*(?:,|\+|and)?\s*{_INT}\s*{_D}",
    re.I,
)
_GA_WEEKS = re.compile(rf"{_INT}\s*{_W}", re.I)
_GA_DAYS = re.compile(rf"{_INT}\s*{_D}", re.I)
#: "N/A", "cannot be calculated": a verdict on the answer itself, decisive when it comes last
_ABSTAIN_DECISIVE = re.compile(
    r"\bn/a\b|(?<![\w/])(?-i:NA)(?![\w/])|\bnot\s+(?:applicable|computable|calculable|determinable)\b"
    r"|\b(?:can\s*not|can't|cannot|could\s+not|couldn't|unable\s+to)\s+(?:be\s+)?"
    r"(?:calculat|comput|determin|estimat|assess|evaluat)\w*",
    re.I,
)
#: ... or a statement about the inputs ("insufficient information"), an abstention only without a number
_ABSTAIN_STRONG = re.compile(
    _ABSTAIN_DECISIVE.pattern
    + r"|\b(?:insufficient|not\s+enough|inadequate|missing)\s+(?:information|data|details|inputs?|values?|parameters?)\b"
    r"|\b(?:information|data|values?)\s+(?:is|are)\s+(?:missing|insufficient|not\s+(?:provided|available|given))\b",
    re.I,
)
#: an answer segment (JSON field, answer tag, stated answer) may also abstain in these words
_ABSTAIN = re.compile(_ABSTAIN_STRONG.pattern + r"|\bunknown\b|\bnot\s+available\b|^\W*none\W*$", re.I)


@dataclass(frozen=True)
class CalcAnswer:
    """What a reply answers: a number, a date, a gestational age in days, an abstention, or nothing."""

    kind: Literal["number", "date", "days", "abstain", "none"]
    value: Any  # float | dt.date | int | None
    method: str  # where it was read: json, json_field, answer_tag, boxed, stated, sentence, first_line
    segment: str = ""

    @property
    def display(self) -> Any:
        if self.kind == "date":
            return self.value.strftime("%m/%d/%Y")
        if self.kind == "abstain":
            return "N/A"
        return self.value


def answer_kind(
    output_type: str, calculator_id: Any = None, labels: Iterable[dict[str, Any] | None] = ()
) -> Kind:
    """How a row's answer is read: MedCalc-Bench's output types, gestational age (calculator 69)
    apart, because its answer is a (weeks, days) pair."""
    if output_type == "date":
        return "date"
    if str(calculator_id) == "69" or any(lab and "week" in str(lab.get("answer", "")) for lab in labels):
        return "gestational_age"
    return "integer" if output_type == "integer" else "decimal"


# ---------------------------------------------------------------------------------------- reading
def _normalise(text: str) -> str:
    text = _SUPER_RUN.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPT), text or "")
    text = unicodedata.normalize("NFKC", text)
    text = _THINK.sub(" ", text).replace("<|im_end|>", " ").replace("<end_of_turn>", " ")
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text).replace("`", "")  # markdown bold, code
    text = text.replace("**", "^")  # a power written in Python
    text = text.replace("−", "-")
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators: 1,234.5


def answer_segment(text: str) -> tuple[str, str, bool]:
    """(segment, method, explicit): the part of a reply that states the answer. ``explicit`` is
    False when no answer container or phrase was found and the whole reply is returned."""
    from medevals.scoring.json_extract import extract_json

    body = _normalise(text)
    ex = extract_json(body, want=dict, accept=lambda v: any(str(k).lower() == "answer" for k in v))
    if ex.value is not None:
        value = next(v for k, v in ex.value.items() if str(k).lower() == "answer")
        return (value if isinstance(value, str) else repr(value)), "json", True
    fields = list(_JSON_FIELD.finditer(body))
    if fields:
        return fields[-1].group(1).strip().strip('"'), "json_field", True
    tags = _ANSWER_TAG.findall(body)
    if tags:
        return tags[-1], "answer_tag", True
    boxed = _BOXED.findall(body)
    if boxed:
        return re.sub(r"\\(?:text|mathrm)\s*\{([^{}]*)\}", r"\1", boxed[-1]), "boxed", True
    phrases = list(_PHRASE.finditer(body))
    if phrases:
        return body[phrases[-1].end() :], "stated", True
    return body, "sentence", False


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] not in "\n.!?":
                chars[i] = " "
    return "".join(chars)


def _candidates(text: str) -> list[tuple[int, int, float]]:
    """Numbers that can be an answer: (start, end, value), units, ranges, thresholds and formula
    operands removed."""
    spans = [m.span() for m in _UNIT_NUMBERS.finditer(text)]
    spans += [m.span() for m in _RANGE.finditer(text)]
    spans += [m.span() for m in _DATE_NUMERIC.finditer(text)]
    clean = _blank(text, spans)
    out = []
    for m in _NUMBER.finditer(clean):
        before, after = clean[: m.start()], clean[m.end() :]
        if (
            _OPERATOR_AFTER.match(after)
            or _OPERATOR_BEFORE.search(before)
            or _THRESHOLD_BEFORE.search(before)
        ):
            continue
        out.append((m.start(), m.end(), float(m.group(0))))
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"\n+|(?<=[.!?;])\s+", text) if s.strip()]


def _cued_number(sentence: str, cands: list[tuple[int, int, float]]) -> tuple[int, float] | None:
    """In a free-text sentence, (position, value) of the number right after its last is/=/: cue."""
    best = None
    for start, _end, value in cands:
        if _CUE.search(sentence[:start]):
            best = (start, value)
    return best


def _read_in(segment: str, kind: Kind, explicit: bool) -> tuple[str, Any]:
    """(kind, value) read from one segment; explicit segments read their first answer."""
    if kind == "date":
        found = _dates(segment)
        if found:
            return "date", (found[0] if explicit else found[-1])
    elif kind == "gestational_age":
        days = _gestational_days(segment, explicit)
        if days is not None:
            return "days", days
    cands = [] if kind == "date" else _candidates(segment)
    if explicit and _CALL.search(segment):  # "str(round(70/1.75**2, 1))": a formula is never evaluated
        eq = segment.rfind("=")
        cands = [c for c in cands if eq >= 0 and c[0] > eq]
    if kind == "gestational_age":
        cands = [c for c in cands if c[2].is_integer()]
        if cands:
            return "days", int(cands[0][2] if explicit else cands[-1][2])
    elif cands:
        if explicit:
            if _LIST.fullmatch(segment):  # "1, 2, 3": several answers are no answer
                return "none", None
            return "number", cands[0][2]
        cued = _cued_number(segment, cands)
        at, value = cued if cued is not None else (cands[-1][0], cands[-1][2])
        verdicts = [m.start() for m in _ABSTAIN_DECISIVE.finditer(segment)]
        if verdicts and verdicts[-1] > at:  # "the height is 175 cm, but the BMI cannot be calculated"
            return "abstain", None
        return "number", value
    if (_ABSTAIN if explicit else _ABSTAIN_STRONG).search(segment):
        return "abstain", None
    return "none", None


def read_answer(text: str, kind: Kind, *, first_line: bool = False) -> CalcAnswer:
    """Read the answer of a reply (see the module docstring). ``first_line``: a base model's
    completion, whose answer is the first line it writes."""
    if first_line:
        line = next((ln for ln in _normalise(text).splitlines() if ln.strip()), "")
        got, value = _read_in(line, kind, True)
        return CalcAnswer(got, value, "first_line", line)  # type: ignore[arg-type]
    segment, method, explicit = answer_segment(text)
    if explicit:
        if method == "stated":  # the first sentence after the phrase, else the next line
            parts = _sentences(segment)
            for part in parts[:2]:
                got, value = _read_in(part, kind, True)
                if got != "none":
                    return CalcAnswer(got, value, method, part)  # type: ignore[arg-type]
            return CalcAnswer("none", None, method, parts[0] if parts else "")
        got, value = _read_in(segment, kind, True)
        return CalcAnswer(got, value, method, segment)  # type: ignore[arg-type]
    for sentence in reversed(_sentences(segment)):
        got, value = _read_in(sentence, kind, False)
        if got != "none":
            return CalcAnswer(got, value, method, sentence)  # type: ignore[arg-type]
    return CalcAnswer("none", None, "unparseable", "")


def _dates(text: str) -> list[dt.date]:
    found: list[tuple[int, dt.date]] = []
    for m in _DATE_NUMERIC.finditer(text):
        try:
            if m.group(1):
                d = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
            else:
                d = dt.date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
        except ValueError:
            continue
        found.append((m.start(), d))
    for m in _DATE_WORDS.finditer(text):
        month, day, year = (
            (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
        )
        try:
            found.append((m.start(), dt.date(int(year), _MONTHS[month.lower()], int(day))))
        except ValueError:
            continue
    return [d for _, d in sorted(found, key=lambda x: x[0])]


def _gestational_days(text: str, first: bool) -> int | None:
    pairs = list(_GA_PAIR.finditer(text))
    if pairs:
        m = pairs[0] if first else pairs[-1]
        weeks, days = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return int(weeks) * 7 + int(days)
    weeks = list(_GA_WEEKS.finditer(text))
    if weeks:
        return int((weeks[0] if first else weeks[-1]).group(1)) * 7
    days = list(_GA_DAYS.finditer(text))
    if days:
        return int((days[0] if first else days[-1]).group(1))
    return None


# ---------------------------------------------------------------------------------------- labels
def _label_value(raw: Any, kind: Kind) -> Any:
    """A label or limit as a comparable value (date, days, float)."""
    s = str(raw).strip()
    if kind == "date":
        found = _dates(s)
        return found[0] if found else None
    if kind == "gestational_age":
        if re.fullmatch(r"-?\d+(?:\.\d+)?", s):
            return float(s)
        try:  # upstream writes "('34 weeks', '3 days')"
            parsed = ast.literal_eval(s)
            if isinstance(parsed, tuple) and len(parsed) == 2:
                s = f"({parsed[0]}, {parsed[1]})"
        except (ValueError, SyntaxError):
            pass
        days = _gestational_days(s, True)
        return float(days) if days is not None else None
    try:
        return float(s)
    except ValueError:
        return None


def _is_na(label: dict[str, Any]) -> bool:
    return str(label.get("answer", "")).strip().upper() == "N/A"


# ---------------------------------------------------------------------------------------- judging
def judge_answer(ans: CalcAnswer, label: dict[str, Any], kind: Kind, rule: Rule = "medcalc") -> bool | None:
    """Is ``ans`` right for ``label`` under ``rule``? None when the answer could not be read."""
    if rule not in RULES:
        raise ValueError(f"unknown calculation tolerance rule {rule!r} (known: {', '.join(RULES)})")
    if ans.kind == "none":
        return None
    if _is_na(label):
        return ans.kind == "abstain"
    if ans.kind == "abstain":
        return False
    gold = _label_value(label["answer"], kind)
    if gold is None:
        raise ValueError(f"label {label['answer']!r} is not a {kind} value")
    x = ans.value
    if kind == "date":
        if ans.kind != "date":
            return False
        if rule == "limits":
            lo, hi = _label_value(label.get("lower"), kind), _label_value(label.get("upper"), kind)
            return lo is not None and hi is not None and min(lo, hi) <= x <= max(lo, hi)
        return x == gold
    if ans.kind == "date":
        return False
    x = float(x)
    if rule == "limits":
        lo, hi = _label_value(label.get("lower"), kind), _label_value(label.get("upper"), kind)
        if lo is None or hi is None:
            raise ValueError(f"label {label!r} has no numeric limits")
        return min(lo, hi) <= x <= max(lo, hi)
    if rule == "physician":
        ordinal = gold.is_integer() and abs(gold) <= 20 and x.is_integer() and abs(x) <= 20
        if ordinal:
            return abs(gold - x) <= 1
        if gold == 0:
            return abs(x) <= 0.05
        return abs(gold - x) / abs(gold) <= 0.05
    # rule == "medcalc" (MedCalc-Bench v1.0 check_correctness)
    if kind == "gestational_age":
        return x == gold
    if kind == "integer":
        return round(x) == gold  # Python's round: half to even, as upstream's round(eval(answer))
    lo, hi = _label_value(label.get("lower"), kind), _label_value(label.get("upper"), kind)
    if lo is None or hi is None:
        raise ValueError(f"label {label!r} has no numeric limits")
    return lo <= x <= hi


def judge(
    answer_text: str,
    label: dict[str, Any],
    output_type: str,
    rule: Rule = "medcalc",
    *,
    kind: Kind | None = None,
) -> tuple[bool | None, Any]:
    """(correct, parsed answer) for an answer given as text (a JSON answer field, a tool result,
    a full reply); correct is None when the answer cannot be read."""
    k = kind or answer_kind(output_type, labels=[label])
    ans = read_answer(answer_text, k)
    return judge_answer(ans, label, k, rule), (ans.display if ans.kind != "none" else None)
