"""Answer extraction for multiple-choice outputs: the one place that reads a letter out of text.

Rules, in order, each returning as soon as it is sure (``Extraction.method`` names the rule):

1. ``letter``: the whole reply is a letter ("C", "(C)", "C.", "**C**", "Answer: C");
2. an explicit answer; the *last* one wins (chain-of-thought often rejects options before
   concluding), and an explicit answer always beats a bare mention of an option:
   - ``json``: the answer field of a JSON object (``{"answer": "C"}``, ``answer_choice``...);
   - ``boxed``: ``\boxed{C}``;
   - ``stated``: "the answer is (C)", "Final answer: C", "I choose C", "C is the (correct)
     answer", "Option C is correct", "... are wrong, so (C)";
   - ``option_index``: "the answer is option 3", "the third option" (the 3rd option listed,
     or the option keyed "3" when the options are numbered);
   - ``mention``: a bare "option C" that no verdict rejects (weakest; only when nothing above);
   a letter followed by a negative verdict ("option A is incorrect", "(A), (B) and (D) are
   wrong") or preceded by a negation ("not A", "I would not go with B") is never an answer;
3. ``leading``: a reply that starts with a labelled letter ("C. Acetazolamide", "(C) ..."), unless
   the label opens an enumeration or a negative verdict ("(A), (B) and (D) are wrong");
4. ``option_text``: the reply (or its stated answer, or its last line) names exactly one option,
   not counting negated mentions ("the answer is not clopidogrel").

A capital letter is only taken as an answer when it cannot be an English word: "A patient
presents..." is not option A, "The answer is A viral infection" is not option A unless option
A's text is "viral infection...". Anything else is *unparseable* (``None``), counted by the
metrics and never guessed (MIRAGE's ``locate_answer``, for one, defaults an unreadable reply to
"A").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_MARKUP = re.compile(r"[*_`#]+")
_WS = re.compile(r"\s+")
_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}")

#: JSON keys that hold the chosen option (MIRAGE asks for ``answer_choice``).
_JSON_KEYS = ("answer", "answer_choice", "answer_idx", "answer_letter", "final_answer", "choice", "option")
_JSON_FIELD = re.compile(rf'"({"|".join(_JSON_KEYS)})"\s*:\s*"?([^"\n{{}}]{{1,80}})', re.I)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
#: A verdict that rejects the option(s) just named.
_NEGATIVE_VERDICT = (
    r"(?:is|are|was|were|seems|seem|would\s+be|can\s+be|should\s+be|must\s+be)\s+"
    r"(?:not\b|incorrect|wrong|false|unlikely|less\s+likely|inappropriate|ruled\s+out|excluded|eliminated"
    r"|a\s+distractor|distractors)"
    r"|(?:isn't|aren't|wasn't|can't\s+be|cannot\s+be)\b"
)
#: A negation right before a statement or an option mention.
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bnor|\brather\s+than|\binstead\s+of|\bother\s+than|\bexcept|\bexclud\w*"
    r"|\brul\w*\s+out|\beliminat\w*|\bagainst|\bno)\s+(?:(?!(?:but|however|rather|instead|though|yet)\b)\w+\s+){0,2}$",
    re.I,
)


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # which rule matched, or "unparseable"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = _THINK.sub(" ", text)
    text = _TEXT_CMD.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    text = text.replace("<|im_end|>", " ").replace("<end_of_turn>", " ")
    return text.strip()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s%./-]", " ", text)
    return _WS.sub(" ", text).strip(" .")


def _letter_class(letters: list[str]) -> str:
    return "[" + "".join(re.escape(x) for x in letters) + "]"


def _followed_ok(text: str, end: int, letter: str, choices: dict[str, str]) -> bool:
    """After a bare capital letter, is what follows compatible with it being an option label?"""
    rest = text[end:]
    if not rest or rest[0] in ".):,;]!?\n" or rest.startswith(" -") or rest.startswith(" –"):
        return True
    if rest[0].isspace():
        tail = rest.lstrip()
        if not tail or tail[0] in "(:-–\n":
            return True
        opt = _norm(choices.get(letter, ""))
        return bool(opt and _norm(tail[: len(opt) + 8]).startswith(opt[: max(4, min(len(opt), 24))]))
    return False


def extract_choice(text: str, choices: dict[str, str]) -> Extraction:
    letters = list(choices)
    if not letters:
        return Extraction(None, "unparseable")
    cleaned = _clean(text)
    if not cleaned:
        return Extraction(None, "unparseable")
    lc = _letter_class(letters)

    # 1. the whole reply is a letter, possibly decorated or prefixed with "Answer:".
    m = re.fullmatch(
        rf"(?:(?:the\s+)?(?:final\s+)?(?:correct\s+)?(?:answer|option|choice)\s*(?:is)?\s*[:\-]?\s*)?[\(\[]?({lc})[\)\]]?[.!]?",
        cleaned,
        re.I,
    )
    if m and m.group(1).upper() in letters:
        return Extraction(m.group(1).upper(), "letter")

    # 2. explicit answers (JSON field, \boxed, statements); the last one wins.
    found = _explicit(text, cleaned, letters, choices)
    if found:
        return found

    # 3. reply starts with a labelled letter: "C. text", "C) text", "(C) text", "C: text".
    m = re.match(rf"[\(\[]\s*({lc})\s*[\)\]]|({lc})\s*[.):]", cleaned)
    if m and not _rejected_or_listed(cleaned, m.end(), lc):
        letter = m.group(1) or m.group(2)
        return Extraction(letter.upper() if letter.upper() in letters else letter, "leading")
    m = re.match(rf"({lc})(?=\s)", cleaned)
    if (
        m
        and _followed_ok(cleaned, m.end(), m.group(1), choices)
        and cleaned[m.end() :].lstrip()[:1] not in ("",)
        and not _rejected_or_listed(cleaned, m.end(), lc)
    ):
        return Extraction(m.group(1), "leading")

    # 4. option text.
    text_answer = _option_text_answer(cleaned, choices)
    if text_answer:
        return Extraction(text_answer, "option_text")
    return Extraction(None, "unparseable")


def _rejected_or_listed(text: str, end: int, lc: str) -> bool:
    """Is the label ending at ``end`` the head of an enumeration ("(A), (B) and (D) ...") or
    rejected by a verdict ("(A) is wrong")?"""
    rest = text[end:]
    label = rf"(?:option\s+|choice\s+)?(?:[\(\[]\s*{lc}\s*[\)\]]|{lc}\b)"
    if re.match(rf"\s*(?:,|&|/|\band\b|\bor\b|\bnor\b)\s*{label}", rest, re.I):
        return True
    return bool(re.match(rf"\s*(?:{_NEGATIVE_VERDICT})", rest, re.I))


def _rejected_after(text: str, end: int, lc: str) -> bool:
    """Is the option named just before ``end`` (possibly heading an enumeration) rejected?"""
    label = rf"(?:option\s+|choice\s+)?(?:[\(\[]\s*{lc}\s*[\)\]]|{lc}\b)"
    m = re.match(
        rf"(?:\s*(?:,|&|/|\band\b|\bor\b|\bnor\b)\s*{label})*\s*(?:{_NEGATIVE_VERDICT})", text[end:], re.I
    )
    return m is not None


def _negated_before(text: str, start: int) -> bool:
    return bool(_NEGATION_BEFORE.search(text[max(0, start - 40) : start]))


def _index_key(n: int, letters: list[str]) -> str | None:
    """Option number ``n`` (1-based): the option keyed "n" when options are numbered, else the n-th."""
    if str(n) in letters:
        return str(n)
    if all(not k.isdigit() for k in letters) and 1 <= n <= len(letters):
        return letters[n - 1]
    return None


def _sub_answer(value: str, letters: list[str], choices: dict[str, str]) -> str | None:
    """Read the option named by a short answer field (JSON value, boxed content)."""
    inner = _clean(value)
    if not inner:
        return None
    lc = _letter_class(letters)
    m = re.fullmatch(rf"(?:option\s+|choice\s+)?[\(\[]?({lc})[\)\]]?[.!]?", inner, re.I)
    if m and m.group(1).upper() in letters:
        return m.group(1).upper()
    m = re.fullmatch(r"(?:option\s+|choice\s+)?[\(\[]?(\d{1,2})[\)\]]?\.?", inner, re.I)
    if m:
        return _index_key(int(m.group(1)), letters)
    m = re.match(rf"[\(\[]\s*({lc})\s*[\)\]]|({lc})\s*[.):]", inner)
    if m and not _rejected_or_listed(inner, m.end(), lc):
        return m.group(1) or m.group(2)
    return _option_text_answer(inner, choices)


def _json_answer(text: str, letters: list[str], choices: dict[str, str]) -> tuple[str, str] | None:
    """(key, option) of the last JSON object carrying an answer key, or None."""
    from medevals.scoring.json_extract import extract_json

    def key_of(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        lower = {str(k).lower(): k for k in value}
        return next((lower[k] for k in _JSON_KEYS if k in lower), None)

    ex = extract_json(text, want=dict, accept=lambda v: key_of(v) is not None)
    if ex.value is None:
        # JSON that does not parse (an unescaped quote in the reasoning, a cut-off reply): the
        # last '"answer": "C"' field itself still states the answer.
        fields = list(_JSON_FIELD.finditer(text))
        if not fields:
            return None
        key, value = fields[-1].group(1), fields[-1].group(2)
        letter = _sub_answer(value, letters, choices)
        return (key, letter) if letter else None
    key = key_of(ex.value)
    value = ex.value[key]
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        letter = _index_key(value, letters)
    elif isinstance(value, str):
        letter = _sub_answer(value, letters, choices)
    else:
        return None
    if letter is None:
        return None
    return str(key), letter


_STATEMENT = (
    r"(?:(?:final|correct|best|most\s+likely|right)\s+)?(?:answer|option|choice)(?:\s+(?:is|would\s+be|will\s+be|=))?"
    r"|answer\s*(?:is|:)|i\s+(?:choose|select|pick|would\s+choose|would\s+go\s+with)|go\s+with"
)
#: Words that conclude a chain of reasoning: "... are wrong, so (C)".
_CONCLUSION = r"\b(?:so|therefore|thus|hence|which\s+leaves|leaving)\b,?"
#: "C is the answer", "C is the correct answer", "Option C is correct".
_VERDICT_AFTER = (
    r"\s+(?:is|would\s+be|must\s+be)\s+(?:(?:the|my)\s+)?(?:(?:final|correct|right|best|most\s+likely)\s+)*"
    r"(?:answer|option|choice)\b"
    r"|\s+(?:is|would\s+be|must\s+be)\s+(?:correct|right)\b"
)


def _explicit(raw: str, text: str, letters: list[str], choices: dict[str, str]) -> Extraction | None:
    """The last explicit answer in the text (see the module docstring), or None."""
    lc = _letter_class(letters)
    strong: list[tuple[int, str, str]] = []  # (position, letter, method)
    weak: list[tuple[int, str]] = []

    js = _json_answer(raw, letters, choices)
    if js:  # placed by its key in the cleaned text (markup cleaning drops the key's underscores)
        pos = text.rfind(_MARKUP.sub("", f'"{js[0]}"'))
        strong.append((pos if pos >= 0 else len(text), js[1], "json"))
    for m in _BOXED.finditer(text):
        letter = _sub_answer(m.group(1), letters, choices)
        if letter:
            strong.append((m.start(), letter, "boxed"))

    def keep(start: int, end: int) -> bool:
        return not _negated_before(text, start) and not _rejected_after(text, end, lc)

    # "the answer is (C)", "I choose C", "answer: option C"
    stated = re.compile(
        rf"(?:{_STATEMENT})\s*[:\-]?\s*(?:option\s+|choice\s+|letter\s+)?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|({lc}))",
        re.I,
    )
    for m in stated.finditer(text):
        letter = _letter_at(text, m, letters, choices)
        if letter is None or not keep(m.start(), m.end()):
            continue
        bare_option = re.match(r"(?:option|choice)\s*$", text[m.start() : m.start(_group(m))].strip(), re.I)
        if bare_option:  # "Option C" alone is a mention, not a statement, unless a verdict follows
            if re.match(_VERDICT_AFTER, text[m.end() :], re.I):
                strong.append((m.start(), letter, "stated"))
            else:
                weak.append((m.start(), letter))
            continue
        strong.append((m.start(), letter, "stated"))
    # "C is the answer", "(C) is correct", "Option C is the best choice"
    verdict = re.compile(
        rf"(?:(?:option|choice)\s+)?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|\b({lc})\b)(?=(?:{_VERDICT_AFTER}))",
        re.I,
    )
    for m in verdict.finditer(text):
        raw_letter = m.group(1) or m.group(2) or m.group(3)
        if m.group(3) and raw_letter not in letters:  # a bare lower-case letter is a word
            continue
        if m.group(3) and m.group(0) == raw_letter and _after_a_word(text, m.start()):
            continue  # "Hepatitis B is the correct answer" names a disease, not option B
        if not _negated_before(text, m.start()):
            strong.append((m.start(), raw_letter.upper(), "stated"))
    # "... are wrong, so (C)" / "therefore option C"
    conclusion = re.compile(
        rf"{_CONCLUSION}\s*(?:the\s+answer\s+is\s+)?(?:option\s+|choice\s+)?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|({lc}))",
        re.I,
    )
    for m in conclusion.finditer(text):
        letter = _letter_at(text, m, letters, choices)
        if letter is not None and keep(m.start(), m.end()):
            strong.append((m.start(), letter, "stated"))
    # "the answer is option 3", "the third option", "option number 3 is correct"
    index = re.compile(
        r"(?:(?:answer|choice)\s*(?:is|would\s+be|:)?\s*(?:the\s+)?|\b)"
        r"(?:(?:option|choice)\s*(?:number\s*|no\.?\s*|#\s*)?(\d{1,2})\b"
        rf"|({'|'.join(_ORDINALS)}|\d{{1,2}}(?:st|nd|rd|th))\s+(?:option|choice)\b)",
        re.I,
    )
    for m in index.finditer(text):
        n = _index_number(m)
        if n is None:
            continue
        key = _index_key(n, letters)
        if key is None or not keep(m.start(), m.end()):
            continue
        head = text[m.start() : m.end()].lower()
        explicit = "answer" in head or "choice is" in head or re.match(_VERDICT_AFTER, text[m.end() :], re.I)
        if explicit or re.search(
            rf"(?:{_STATEMENT}|{_CONCLUSION})\s*[:\-]?\s*(?:the\s+)?$", text[: m.start()], re.I
        ):
            strong.append((m.start(), key, "option_index"))
    if strong:
        pos, letter, method = max(strong, key=lambda x: x[0])
        return Extraction(letter, method)
    if weak:
        return Extraction(max(weak)[1], "mention")
    return None


_LEAD_INS = {"so", "thus", "therefore", "hence", "then", "and", "but", "think", "believe", "clearly", "here"}


def _after_a_word(text: str, start: int) -> bool:
    """Is a bare letter at ``start`` the tail of a name ("Hepatitis B", "Vitamin D")?"""
    m = re.search(r"(\w+)\s*$", text[:start])
    return bool(m and text[:start].endswith((" ", "-")) and m.group(1).lower() not in _LEAD_INS)


def _group(m: re.Match[str]) -> int:
    return next(i for i in (1, 2, 3) if m.group(i))


def _letter_at(text: str, m: re.Match[str], letters: list[str], choices: dict[str, str]) -> str | None:
    bracketed = m.group(1) or m.group(2)
    if bracketed:
        letter = bracketed.upper()
    else:
        raw = m.group(3)
        if raw not in letters:  # a lower-case bare letter is an article, not an option
            return None
        if not _followed_ok(text, m.end(3), raw, choices) and not re.match(
            _VERDICT_AFTER, text[m.end(3) :], re.I
        ):
            return None
        letter = raw
    return letter if letter in letters else None


def _index_number(m: re.Match[str]) -> int | None:
    if m.group(1):
        return int(m.group(1))
    word = (m.group(2) or "").lower()
    if word[:1].isdigit():
        return int(re.sub(r"\D", "", word))
    return _ORDINALS.get(word)


def _option_text_answer(text: str, choices: dict[str, str]) -> str | None:
    normed = {k: _norm(v) for k, v in choices.items() if _norm(v)}
    if not normed:
        return None
    # a) the reply *is* one option's text (or starts with it, for short options like yes/no).
    reply = _norm(text)
    exact = [k for k, v in normed.items() if reply == v]
    if len(exact) == 1:
        return exact[0]
    first_line = _norm(text.splitlines()[0]) if text.splitlines() else reply
    starts = [k for k, v in normed.items() if re.match(rf"{re.escape(v)}\b", first_line)]
    if (
        len(starts) == 1
        and not _is_prefix_of_other(normed, starts[0])
        and _mentioned(first_line, normed) == starts
    ):
        return starts[0]
    # b) the stated answer ("the answer is acetazolamide"), else the last line, else a short reply.
    windows = []
    stated = re.findall(r"(?:answer|diagnosis|choice)\s*(?:is|:)\s*(.+)", text, re.I)
    if stated:
        windows.append(stated[-1])
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        windows.append(lines[-1])
    longest = max(len(v) for v in normed.values())
    if len(reply) <= 2 * longest + 20:
        windows.append(text)
    for window in windows:
        hits = _mentioned(_norm(window), normed)
        if len(hits) == 1:
            return hits[0]
    return None


def _is_prefix_of_other(normed: dict[str, str], key: str) -> bool:
    v = normed[key]
    return any(k != key and o.startswith(v) and o != v for k, o in normed.items())


def _mentioned(window: str, normed: dict[str, str]) -> list[str]:
    """Options named in ``window``; a mention under a negation ("not clopidogrel", "clopidogrel
    is wrong") does not count."""
    hits = []
    for k, v in normed.items():
        for m in re.finditer(rf"(?<!\w){re.escape(v)}(?!\w)", window):
            if not _negated_before(window, m.start()) and not re.match(
                rf"\s*(?:{_NEGATIVE_VERDICT})", window[m.end() :], re.I
            ):
                hits.append(k)
                break
    # drop options whose text is contained in another hit ("anemia" inside "iron deficiency anemia")
    return [k for k in hits if not any(o != k and normed[k] in normed[o] for o in hits)]


def choice_from_logprobs(
    alternatives: dict[str, float], letters: list[str]
) -> tuple[str | None, dict[str, float]]:
    """Likelihood mode: the option letter the model puts most probability on as its next token.

    ``alternatives`` maps candidate next tokens to logprobs (``openai_format.top_logprobs``).
    Token variants of one letter (" A", "A", "(A") are pooled with log-sum-exp. Returns the
    letter (None if no option letter is among the alternatives) and the probabilities
    renormalised over the letters that appeared, for calibration.
    """
    import math

    pooled: dict[str, float] = {}
    for token, lp in alternatives.items():
        t = token.strip().lstrip("(").rstrip(").:")
        if t in letters:
            if t in pooled:
                hi, lo = max(pooled[t], lp), min(pooled[t], lp)
                pooled[t] = hi + math.log1p(math.exp(lo - hi))
            else:
                pooled[t] = lp
    if not pooled:
        return None, {}
    best = max(pooled, key=lambda k: pooled[k])
    z = max(pooled.values())
    total = sum(math.exp(v - z) for v in pooled.values())
    probs = {k: math.exp(v - z) / total for k, v in sorted(pooled.items())}
    return best, probs
