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
   the label opens an enumeration or a negative verdict ("(A), (B) and (D) are wrong") or the reply
   re-lists the options one per line ("A. ...\nB. ...", a base model continuing the prompt);
4. ``option_text``: the reply (or its stated answer, or its last line) names exactly one option,
   not counting negated mentions ("the answer is not clopidogrel").

A capital letter is only taken as an answer when it cannot be an English word: "A patient
presents..." is not option A, "The answer is A viral infection" is not option A unless option
A's text is "viral infection...". Anything else is *unparseable* (``None``), counted by the
metrics and never guessed (MIRAGE's ``locate_answer``, for one, defaults an unreadable reply to
"A").

Languages: ``language=`` adds that language's phrases (``scoring/phrases.py``: "la respuesta es",
"la réponse est", "答案是", "正解は", negations and rejections) to the English ones; the rules are
the same. Full-width letters and punctuation are normalised (NFKC), and Chinese/Japanese
punctuation ("、", "。", 「」, 【】) is read as its ASCII counterpart; a letter touching a CJK
character is still a letter ("答案是C", "正解はc").

Items that admit several correct options are read with ``extract_choices`` (a set: "A, C and
D", "ACD", "A/C/D", "A、C、D"); single-answer items keep ``extract_choice``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_MARKUP = re.compile(r"[*_`#]+")
_WS = re.compile(r"\s+")
_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}")
#: Chinese/Japanese punctuation NFKC leaves alone, read as its ASCII counterpart.
_CJK_PUNCT = str.maketrans(
    {
        "、": ",",
        "。": ".",
        "・": ",",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "【": "[",
        "】": "]",
        "〔": "(",
        "〕": ")",
    }
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
#: A letter's edges: not inside a Latin word ("\b" would also refuse "答案是C", CJK being \w).
_LB = r"(?<![A-Za-z0-9])"
_RB = r"(?![A-Za-z0-9])"

#: JSON keys that hold the chosen option (MIRAGE asks for ``answer_choice``).
_JSON_KEYS = ("answer", "answer_choice", "answer_idx", "answer_letter", "final_answer", "choice", "option")
_JSON_FIELD = re.compile(rf'"({"|".join(_JSON_KEYS)})"\s*:\s*"?([^"\n{{}}]{{1,80}})', re.I)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip


def _alt(parts: list[str]) -> str:
    return "|".join(p for p in parts if p)


@dataclass(frozen=True)
class _Patterns:
    """One language's phrases (English always included) as the regex pieces the rules use."""

    language: str
    statement: str
    verdict_after: str
    verdict_after_set: str
    negative: str
    negation_before: re.Pattern[str]
    conclusion: str
    option: str
    joiner: str
    lead_ins: frozenset[str]
    text_statement: str
    letter_prefix: str
    and_word: str
    true_word: str
    false_word: str
    article: str


@lru_cache(maxsize=16)
def patterns(language: str = "en") -> _Patterns:
    from medevals.scoring.phrases import for_language

    ph = for_language(language)
    own = ph[1:]
    neg_words = _alt([p.negation for p in ph])
    contrast = _alt([p.contrast for p in ph])
    before = rf"(?:{neg_words})\s+(?:(?!(?:{contrast})\b)\w+\s+){{0,2}}$"
    adjacent = _alt([p.negation_adjacent for p in ph])
    if adjacent:
        before += f"|{adjacent}"
    ands = _alt([p.and_word for p in own])
    joiner = r",|&|/|\band\b|\bor\b|\bnor\b"
    if ands:  # CJK conjunctions touch the letters ("A和C"); "或" is "or"
        joiner += f"|(?:{ands})|或" if language in ("zh", "ja") else rf"|\b(?:{ands})\b"
    own_statement = _alt([p.statement for p in own])
    return _Patterns(
        language=language,
        statement=_alt([p.statement for p in ph]),
        verdict_after=_alt([p.verdict_after for p in ph]),
        verdict_after_set=_alt([p.verdict_after_set for p in ph]),
        negative=_alt([p.negative_verdict for p in ph]),
        negation_before=re.compile(before, re.I),
        conclusion=_alt([p.conclusion for p in ph]),
        option=_alt([p.option_word for p in ph]),
        joiner=joiner,
        lead_ins=frozenset().union(*(p.lead_ins for p in ph)),
        text_statement=r"(?:answer|diagnosis|choice)\s*(?:is|:)"
        + (f"|(?:{own_statement})" if own_statement else ""),
        letter_prefix=(
            r"(?:the\s+)?(?:final\s+)?(?:correct\s+)?(?:answer|option|choice)\s*(?:is)?\s*[:\-]?\s*"
            + (rf"|(?:{own_statement})\s*[:\-]?\s*" if own_statement else "")
        ),
        and_word=_alt([p.and_word for p in ph]),
        true_word=_alt([p.true_word for p in ph]),
        false_word=_alt([p.false_word for p in ph]),
        article=rf"(?:(?-i:{arts})\s*)?" if (arts := _alt([p.article for p in own])) else "",
    )


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # which rule matched, or "unparseable"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_CJK_PUNCT)
    if "<" in text:  # both patterns need their first character: most replies have neither
        text = _THINK.sub(" ", text)
    if "\\" in text:
        text = _TEXT_CMD.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    text = text.replace("<|im_end|>", " ").replace("<end_of_turn>", " ")
    return text.strip()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s%./-]", " ", text)
    return _WS.sub(" ", text).strip(" .")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and _CJK.match(ch) is not None


def _letter_class(letters: list[str]) -> str:
    return _letter_class_of(tuple(letters))


@functools.lru_cache(maxsize=256)  # a benchmark has a handful of option sets: built once each
def _letter_class_of(letters: tuple[str, ...]) -> str:
    return "[" + "".join(re.escape(x) for x in letters) + "]"


def _followed_ok(text: str, end: int, letter: str, choices: dict[str, str]) -> bool:
    """After a bare capital letter, is what follows compatible with it being an option label?"""
    rest = text[end:]
    if not rest or rest[0] in ".):,;]!?\n" or rest.startswith(" -") or rest.startswith(" –"):
        return True
    if _is_cjk(rest[0]):  # "答案是C因为..." / "Cが正解"
        return True
    if rest[0].isspace():
        tail = rest.lstrip()
        if not tail or tail[0] in "(:-–\n" or _is_cjk(tail[0]):
            return True
        opt = _norm(choices.get(letter, ""))
        return bool(opt and _norm(tail[: len(opt) + 8]).startswith(opt[: max(4, min(len(opt), 24))]))
    return False


def _cjk_context(text: str, start: int, end: int) -> bool:
    """Is a letter at [start, end) written inside CJK text ("答案是c", "正解は c です")?"""
    before = text[:start].rstrip(' :"(')
    after = text[end:].lstrip(' )"')
    return _is_cjk(before[-1:]) or _is_cjk(after[:1])


def extract_choice(text: str, choices: dict[str, str], language: str = "en") -> Extraction:
    letters = list(choices)
    if not letters:
        return Extraction(None, "unparseable")
    cleaned = _clean(text)
    if not cleaned:
        return Extraction(None, "unparseable")
    pt = patterns(language)
    lc = _letter_class(letters)

    # 1. the whole reply is a letter, possibly decorated or prefixed with "Answer:".
    m = _whole_letter(pt.letter_prefix, lc).fullmatch(cleaned)
    if m and m.group(1).upper() in letters:
        return Extraction(m.group(1).upper(), "letter")

    # 2. explicit answers (JSON field, \boxed, statements); the last one wins.
    found = _explicit(text, cleaned, letters, choices, pt)
    if found:
        return found

    # 3. reply starts with a labelled letter: "C. text", "C) text", "(C) text", "C: text" -- unless
    # the reply re-lists the options ("A. text\nB. text ..."): its first label is no choice.
    if _relists_options(cleaned, lc):
        return Extraction(None, "unparseable")
    m = re.match(rf"[\(\[]\s*({lc})\s*[\)\]]|({lc})\s*[.):]", cleaned)
    if m and not _rejected_or_listed(cleaned, m.end(), lc, pt):
        letter = m.group(1) or m.group(2)
        return Extraction(letter.upper() if letter.upper() in letters else letter, "leading")
    m = re.match(rf"({lc})(?=\s)", cleaned)
    if (
        m
        and _followed_ok(cleaned, m.end(), m.group(1), choices)
        and cleaned[m.end() :].lstrip()[:1] not in ("",)
        and not _rejected_or_listed(cleaned, m.end(), lc, pt)
    ):
        return Extraction(m.group(1), "leading")

    # 4. option text.
    text_answer = _option_text_answer(cleaned, choices, pt)
    if text_answer:
        return Extraction(text_answer, "option_text")
    return Extraction(None, "unparseable")


@functools.lru_cache(maxsize=256)
def _whole_letter(letter_prefix: str, lc: str) -> re.Pattern[str]:
    """Rule 1 of ``extract_choice``, compiled once per language and option set (not looked up
    in ``re``'s cache by its text for every reply)."""
    return re.compile(rf"(?:{letter_prefix})?[\(\[]?({lc})[\)\]]?[.!]?", re.I)


def _relists_options(text: str, lc: str) -> bool:
    """Does the reply open lines with two or more different option labels (an echoed option list)?"""
    return len(set(re.findall(rf"^[ \t]*[\(\[]?({lc})[ \t]*[.)\]:]", text, re.M))) >= 2


def _label(lc: str, pt: _Patterns) -> str:
    return rf"(?:(?:{pt.option})\s*)?(?:[\(\[]\s*{lc}\s*[\)\]]|{_LB}{lc}{_RB})"


def _rejected_or_listed(text: str, end: int, lc: str, pt: _Patterns) -> bool:
    """Is the label ending at ``end`` the head of an enumeration ("(A), (B) and (D) ...") or
    rejected by a verdict ("(A) is wrong")?"""
    rest = text[end:]
    if re.match(rf"\s*(?:{pt.joiner})\s*{_label(lc, pt)}", rest, re.I):
        return True
    return bool(re.match(rf"\s*(?:{pt.negative})", rest, re.I))


def _rejected_after(text: str, end: int, lc: str, pt: _Patterns) -> bool:
    """Is the option named just before ``end`` (possibly heading an enumeration) rejected?"""
    m = re.match(rf"(?:\s*(?:{pt.joiner})\s*{_label(lc, pt)})*\s*(?:{pt.negative})", text[end:], re.I)
    return m is not None


def _negated_before(text: str, start: int, pt: _Patterns) -> bool:
    return bool(pt.negation_before.search(text[max(0, start - 40) : start]))


def _index_key(n: int, letters: list[str]) -> str | None:
    """Option number ``n`` (1-based): the option keyed "n" when options are numbered, else the n-th."""
    if str(n) in letters:
        return str(n)
    if all(not k.isdigit() for k in letters) and 1 <= n <= len(letters):
        return letters[n - 1]
    return None


def _sub_answer(value: str, letters: list[str], choices: dict[str, str], pt: _Patterns) -> str | None:
    """Read the option named by a short answer field (JSON value, boxed content)."""
    inner = _clean(value)
    if not inner:
        return None
    lc = _letter_class(letters)
    m = re.fullmatch(rf"(?:(?:{pt.option})\s*)?[\(\[]?({lc})[\)\]]?[.!]?", inner, re.I)
    if m and m.group(1).upper() in letters:
        return m.group(1).upper()
    m = re.fullmatch(rf"(?:(?:{pt.option})\s*)?[\(\[]?(\d{{1,2}})[\)\]]?\.?", inner, re.I)
    if m:
        return _index_key(int(m.group(1)), letters)
    m = re.match(rf"[\(\[]\s*({lc})\s*[\)\]]|({lc})\s*[.):]", inner)
    if m and not _rejected_or_listed(inner, m.end(), lc, pt):
        return m.group(1) or m.group(2)
    return _option_text_answer(inner, choices, pt)


def _json_value(text: str) -> tuple[str, Any] | None:
    """(key, value) of the last JSON object carrying an answer key; a JSON that does not parse (an
    unescaped quote in the reasoning, a cut-off reply) falls back to its last '"answer": ...' field."""
    from medevals.scoring.json_extract import extract_json

    def key_of(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        lower = {str(k).lower(): k for k in value}
        return next((lower[k] for k in _JSON_KEYS if k in lower), None)

    ex = extract_json(text, want=dict, accept=lambda v: key_of(v) is not None)
    if ex.value is None:
        fields = list(_JSON_FIELD.finditer(text))
        if not fields:
            return None
        return fields[-1].group(1), fields[-1].group(2)
    key = key_of(ex.value)
    assert key is not None
    return str(key), ex.value[key]


def _json_answer(
    text: str, letters: list[str], choices: dict[str, str], pt: _Patterns
) -> tuple[str, str] | None:
    """(key, option) of the last JSON object carrying an answer key, or None."""
    found = _json_value(text)
    if found is None:
        return None
    key, value = found
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        letter = _index_key(value, letters)
    elif isinstance(value, str):
        letter = _sub_answer(value, letters, choices, pt)
    else:
        return None
    if letter is None:
        return None
    return str(key), letter


def _explicit(
    raw: str, text: str, letters: list[str], choices: dict[str, str], pt: _Patterns
) -> Extraction | None:
    """The last explicit answer in the text (see the module docstring), or None."""
    lc = _letter_class(letters)
    strong: list[tuple[int, str, str]] = []  # (position, letter, method)
    weak: list[tuple[int, str]] = []

    js = _json_answer(raw, letters, choices, pt)
    if js:  # placed by its key in the cleaned text (markup cleaning drops the key's underscores)
        pos = text.rfind(_MARKUP.sub("", f'"{js[0]}"'))
        strong.append((pos if pos >= 0 else len(text), js[1], "json"))
    for m in _BOXED.finditer(text):
        letter = _sub_answer(m.group(1), letters, choices, pt)
        if letter:
            strong.append((m.start(), letter, "boxed"))

    def keep(start: int, end: int) -> bool:
        return not _negated_before(text, start, pt) and not _rejected_after(text, end, lc, pt)

    opt = rf"(?:(?:{pt.option})\s*|letter\s+)"
    # "the answer is (C)", "I choose C", "answer: option C"
    stated = re.compile(
        rf"(?:{pt.statement})\s*[:\-]?\s*{pt.article}{opt}?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|({lc}))",
        re.I,
    )
    for m in stated.finditer(text):
        letter = _letter_at(text, m, letters, choices, pt)
        if letter is None or not keep(m.start(), m.end()):
            continue
        bare_option = re.match(rf"(?:{pt.option})\s*$", text[m.start() : m.start(_group(m))].strip(), re.I)
        if bare_option:  # "Option C" alone is a mention, not a statement, unless a verdict follows
            if re.match(pt.verdict_after, text[m.end() :], re.I):
                strong.append((m.start(), letter, "stated"))
            else:
                weak.append((m.start(), letter))
            continue
        strong.append((m.start(), letter, "stated"))
    # "C is the answer", "(C) is correct", "Option C is the best choice"
    verdict = re.compile(
        rf"(?:(?:{pt.option})\s*)?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|{_LB}({lc}){_RB})(?=(?:{pt.verdict_after}))",
        re.I,
    )
    for m in verdict.finditer(text):
        raw_letter = m.group(1) or m.group(2) or m.group(3)
        if (  # a bare lower-case letter is a word, unless it sits in CJK text
            m.group(3)
            and raw_letter not in letters
            and not (raw_letter.upper() in letters and _cjk_context(text, m.start(3), m.end(3)))
        ):
            continue
        if m.group(3) and m.group(0) == raw_letter and _after_a_word(text, m.start(), pt):
            continue  # "Hepatitis B is the correct answer" names a disease, not option B
        if not _negated_before(text, m.start(), pt):
            strong.append((m.start(), raw_letter.upper(), "stated"))
    # "... are wrong, so (C)" / "therefore option C"
    conclusion = re.compile(
        rf"(?:{pt.conclusion}),?\s*(?:the\s+answer\s+is\s+)?{pt.article}{opt}?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|({lc}))",
        re.I,
    )
    for m in conclusion.finditer(text):
        letter = _letter_at(text, m, letters, choices, pt)
        if letter is not None and keep(m.start(), m.end()):
            strong.append((m.start(), letter, "stated"))
    # "the answer is option 3", "the third option", "option number 3 is correct"
    index = re.compile(
        r"(?:(?:answer|choice)\s*(?:is|would\s+be|:)?\s*(?:the\s+)?|\b|(?<=[^\x00-\x7f]))"
        rf"(?:(?:{pt.option})\s*(?:number\s*|no\.?\s*|#\s*)?(\d{{1,2}})\b"
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
        explicit = (
            "answer" in head or "choice is" in head or re.match(pt.verdict_after, text[m.end() :], re.I)
        )
        if explicit or re.search(
            rf"(?:{pt.statement}|(?:{pt.conclusion}),?)\s*[:\-]?\s*(?:the\s+)?$", text[: m.start()], re.I
        ):
            strong.append((m.start(), key, "option_index"))
    if strong:
        pos, letter, method = max(strong, key=lambda x: x[0])
        return Extraction(letter, method)
    if weak:
        return Extraction(max(weak)[1], "mention")
    return None


def _after_a_word(text: str, start: int, pt: _Patterns) -> bool:
    """Is a bare letter at ``start`` the tail of a name ("Hepatitis B", "Vitamin D")?"""
    m = re.search(r"(\w+)\s*$", text[:start])
    return bool(
        m
        and text[:start].endswith((" ", "-"))
        and m.group(1).lower() not in pt.lead_ins
        and not _is_cjk(m.group(1)[-1])
    )


def _group(m: re.Match[str]) -> int:
    return next(i for i in (1, 2, 3) if m.group(i))


def _letter_at(
    text: str, m: re.Match[str], letters: list[str], choices: dict[str, str], pt: _Patterns
) -> str | None:
    bracketed = m.group(1) or m.group(2)
    if bracketed:
        letter = bracketed.upper()
    else:
        raw = m.group(3)
        if raw not in letters:  # a lower-case bare letter is an article, not an option ...
            if not (raw.upper() in letters and _cjk_context(text, m.start(3), m.end(3))):
                return None
            raw = raw.upper()  # ... unless it sits in CJK text ("正解はc")
        if not _followed_ok(text, m.end(3), raw, choices) and not re.match(
            pt.verdict_after, text[m.end(3) :], re.I
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


def _option_text_answer(text: str, choices: dict[str, str], pt: _Patterns) -> str | None:
    normed = {k: _norm(v) for k, v in choices.items() if _norm(v)}
    if not normed:
        return None
    # a) the reply *is* one option's text (or starts with it, for short options like yes/no).
    reply = _norm(text)
    exact = [k for k, v in normed.items() if reply == v]
    if len(exact) == 1:
        return exact[0]
    first_line = _norm(text.splitlines()[0]) if text.splitlines() else reply
    starts = [k for k, v in normed.items() if re.match(rf"{re.escape(v)}{_end(v)}", first_line)]
    if (
        len(starts) == 1
        and not _is_prefix_of_other(normed, starts[0])
        and _mentioned(first_line, normed, pt) == starts
    ):
        return starts[0]
    # b) the stated answer ("the answer is acetazolamide"), else the last line, else a short reply.
    windows = []
    stated = re.findall(rf"(?:{pt.text_statement})\s*(.+)", text, re.I)
    if stated:
        windows.append(stated[-1])
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        windows.append(lines[-1])
    longest = max(len(v) for v in normed.values())
    if len(reply) <= 2 * longest + 20:
        windows.append(text)
    for window in windows:
        hits = _mentioned(_norm(window), normed, pt)
        if len(hits) == 1:
            return hits[0]
    return None


def _start(v: str) -> str:
    """Left edge of an option text in running text: a word boundary, none around CJK text."""
    return "" if _is_cjk(v[:1]) else r"(?<!\w)"


def _end(v: str) -> str:
    return "" if _is_cjk(v[-1:]) else r"\b"


def _is_prefix_of_other(normed: dict[str, str], key: str) -> bool:
    v = normed[key]
    return any(k != key and o.startswith(v) and o != v for k, o in normed.items())


def _mentioned(window: str, normed: dict[str, str], pt: _Patterns) -> list[str]:
    """Options named in ``window``; a mention under a negation ("not clopidogrel", "clopidogrel
    is wrong") does not count."""
    hits = []
    for k, v in normed.items():
        right = "" if _is_cjk(v[-1:]) else r"(?!\w)"
        for m in re.finditer(rf"{_start(v)}{re.escape(v)}{right}", window):
            if not _negated_before(window, m.start(), pt) and not re.match(
                rf"\s*(?:{pt.negative})", window[m.end() :], re.I
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


# --------------------------------------------------------------------------- answer sets


@dataclass(frozen=True)
class SetExtraction:
    """The options a reply selects, in option order (None = unparseable), and the rule that read them."""

    answer: list[str] | None
    method: str


def extract_choices(text: str, choices: dict[str, str], language: str = "en") -> SetExtraction:
    """Read the *set* of options a reply selects, for items that admit several correct options.

    Rules, in order (``SetExtraction.method``): ``letters``: the whole reply is a list ("A, C and
    D", "ACD", "A/C/D", "A、C、D", "a,c", "Answer: A, C"); the last explicit list (``json`` field,
    a string or a list; ``boxed``; ``stated`` "the answer is A and C", "A, C and D are correct",
    "donc A et C", "答案是ACD"), a list under a negation or followed by a rejection never read;
    ``leading``: the reply opens with a list ("A, C. Because ..."); ``verdicts``: a line per option
    with its verdict ("A. Vrai / B. Faux / C. Vrai"; at least two options judged, one of them
    true); else the single-answer rules (``extract_choice``) read one option as a set of one.
    Bare lower-case letters are read only where they cannot be words: a whole reply, brackets, or
    CJK text. A letter run ("ACD") must be upper case (or wholly lower case as a whole reply), with
    no letter twice.
    """
    letters = list(choices)
    cleaned = _clean(text)
    if not letters or not cleaned:
        return SetExtraction(None, "unparseable")
    pt = patterns(language)
    lc = _letter_class(letters)
    cjk = language in ("zh", "ja")

    # 1. the whole reply is a list.
    m = re.match(rf"(?:{pt.letter_prefix})?", cleaned, re.I)
    start = m.end() if m else 0
    got = _read_list(cleaned, start, letters, pt, lower_ok=True)
    if got and not cleaned[got[1] :].strip(" .!\n"):
        return SetExtraction(got[0], "letters")

    # 2. explicit lists; the last one wins.
    found = _explicit_sets(text, cleaned, letters, choices, pt, cjk)
    if found:
        return found

    # 3. the reply opens with a list of two or more options: "A, C. Because ...", "ACD\n...".
    got = _read_list(cleaned, 0, letters, pt, lower_ok=False)
    if (
        got
        and len(got[0]) > 1
        and re.match(r"\s*(?:[.:)\n\-–]|$)", cleaned[got[1] :])
        and not re.match(rf"\s*(?:{pt.negative})", cleaned[got[1] :], re.I)
    ):
        return SetExtraction(got[0], "leading")

    # 4. one verdict per option.
    judged = _verdict_lines(cleaned, letters, lc, pt)
    if judged is not None:
        return SetExtraction(judged, "verdicts")

    # 5. one option, read by the single-answer rules.
    one = extract_choice(text, choices, language)
    return SetExtraction([one.answer] if one.answer else None, one.method)


def _ordered(found: list[str], letters: list[str]) -> list[str]:
    return [x for x in letters if x in set(found)]


def _read_list(
    text: str, pos: int, letters: list[str], pt: _Patterns, *, lower_ok: bool
) -> tuple[list[str], int] | None:
    """The options listed from ``pos`` ("A, C and D", "(A)(C)", "ACD", "A/C"), and where the list
    ends; None when no option starts there. A separator is consumed only when an option follows."""
    lc = _letter_class(letters)
    token = re.compile(rf"\s*(?:[\(\[]\s*({lc})\s*[\)\]]|{_LB}({lc}+){_RB})", re.I)
    # ", and D": the and-word is lower case, so Italian "A e E" keeps its option E
    sep = re.compile(rf"\s*(?:(?:{pt.joiner})|;|\+)\s*(?:(?-i:{pt.and_word})\s+)?|\s+|(?=[\(\[])", re.I)
    wrapped = re.match(r"\s*[\(\[]\s*(?=[^\(\[\)\]]{2,}[\)\]])", text[pos:])
    found: list[str] = []
    end = pos
    cur = pos + (wrapped.end() if wrapped else 0)
    while True:
        m = token.match(text, cur)
        if not m:
            break
        bracketed, run = m.group(1), m.group(2)
        if bracketed:
            new = [bracketed.upper()]
        else:
            assert run is not None
            if not (
                run.isupper()
                or (lower_ok and run.islower())
                or (run.islower() and _cjk_context(text, m.start(2), m.end(2)))
            ):
                break
            new = list(run.upper())
            if len(set(new)) != len(new) or any(x not in letters for x in new):
                break
        if any(x in found for x in new):
            break
        found.extend(new)
        end = m.end()
        s = sep.match(text, end)
        if not s:
            break
        cur = s.end()
        if cur == end and text[cur : cur + 1] not in ("(", "["):
            break
    if not found:
        return None
    if wrapped:
        close = re.match(r"\s*[\)\]]", text[end:])
        if close:
            end += close.end()
    return _ordered(found, letters), end


def _explicit_sets(
    raw: str, text: str, letters: list[str], choices: dict[str, str], pt: _Patterns, cjk: bool
) -> SetExtraction | None:
    lc = _letter_class(letters)
    strong: list[tuple[int, list[str], str]] = []
    weak: list[tuple[int, list[str]]] = []

    js = _json_value(raw)
    if js is not None:
        key, value = js
        got: list[str] | None = None
        if isinstance(value, list):
            picked = [_sub_answer(str(v), letters, choices, pt) for v in value if isinstance(v, str | int)]
            got = _ordered([p for p in picked if p], letters) if picked and all(picked) else None
        elif isinstance(value, str):
            got = _whole_list(value, letters, choices, pt)
        elif isinstance(value, int) and not isinstance(value, bool):
            one = _index_key(value, letters)
            got = [one] if one else None
        if got:
            pos = text.rfind(_MARKUP.sub("", f'"{key}"'))
            strong.append((pos if pos >= 0 else len(text), got, "json"))
    for m in _BOXED.finditer(text):
        got = _whole_list(m.group(1), letters, choices, pt)
        if got:
            strong.append((m.start(), got, "boxed"))

    def keep(start: int, end: int) -> bool:
        return not _negated_before(text, start, pt) and not re.match(
            rf"\s*(?:{pt.negative})", text[end:], re.I
        )

    def single_ok(got: tuple[list[str], int]) -> bool:
        """One bare letter after a statement must look like a label ("A viral infection" is not A)."""
        options, end = got
        return (
            len(options) > 1
            or _followed_ok(text, end, options[0], choices)
            or bool(re.match(rf"(?:{pt.verdict_after})", text[end:], re.I))
        )

    opt = rf"(?:(?:{pt.option})\s*|letter\s+)"
    statement = re.compile(rf"(?:{pt.statement})\s*[:\-]?\s*{pt.article}{opt}?", re.I)
    for m in statement.finditer(text):
        got = _read_list(text, m.end(), letters, pt, lower_ok=False)
        if not got or not single_ok(got) or not keep(m.start(), got[1]):
            continue
        head = text[m.start() : m.end()].strip()
        if re.fullmatch(rf"(?:{pt.option})", head, re.I):  # "option A and C" alone is a mention
            if re.match(rf"(?:{pt.verdict_after_set}|{pt.verdict_after})", text[got[1] :], re.I):
                strong.append((m.start(), got[0], "stated"))
            else:
                weak.append((m.start(), got[0]))
            continue
        strong.append((m.start(), got[0], "stated"))
    conclusion = re.compile(rf"(?:{pt.conclusion}),?\s*(?:the\s+answer\s+is\s+)?{pt.article}{opt}?", re.I)
    for m in conclusion.finditer(text):
        got = _read_list(text, m.end(), letters, pt, lower_ok=cjk)
        if got and single_ok(got) and keep(m.start(), got[1]):
            strong.append((m.start(), got[0], "stated"))
    # "A, C and D are correct", "A et C sont exactes", "A、C正确"
    verdict = re.compile(rf"(?:{pt.verdict_after_set}|{pt.verdict_after})", re.I)
    head = re.compile(rf"(?:(?:{pt.option})\s*)?(?=[\(\[]|{_LB}{lc})", re.I)
    covered = -1
    for m in head.finditer(text):
        if m.start() < covered:
            continue
        got = _read_list(text, m.end(), letters, pt, lower_ok=cjk)
        if not got:
            continue
        covered = got[1]
        options, end = got
        if not verdict.match(text, end):
            continue
        if (
            len(options) == 1
            and text[m.start() : end].strip() == options[0]
            and _after_a_word(text, m.start(), pt)
        ):
            continue  # "Hepatitis B is correct" names a disease
        if not _negated_before(text, m.start(), pt):
            strong.append((m.start(), options, "stated"))
    if strong:
        _, got_, method = max(strong, key=lambda x: x[0])
        return SetExtraction(got_, method)
    if weak:
        return SetExtraction(max(weak, key=lambda x: x[0])[1], "mention")
    return None


def _whole_list(value: str, letters: list[str], choices: dict[str, str], pt: _Patterns) -> list[str] | None:
    """A short answer field (JSON value, boxed content) as a list of options, or one option."""
    inner = _clean(value)
    m = re.match(rf"(?:(?:{pt.option})\s*)?", inner, re.I)
    got = _read_list(inner, m.end() if m else 0, letters, pt, lower_ok=True)
    if got and not inner[got[1] :].strip(" .!"):
        return got[0]
    one = _sub_answer(value, letters, choices, pt)
    return [one] if one else None


def _verdict_lines(text: str, letters: list[str], lc: str, pt: _Patterns) -> list[str] | None:
    """Options judged one by one at line starts ("A. Vrai", "B) false", "C：正确"); the last verdict
    on each option counts. None unless two options are judged and one is true."""
    line = re.compile(
        rf"^\s*[-*•]?\s*(?:(?:{pt.option})\s*)?[\(\[]?({lc})[\)\]]?\s*[:.)\-–=]?\s*"
        rf"(?:(?:is|est|es|è|ist|é|は|が)\s*)?(?:({pt.false_word})|({pt.true_word}))(?!\w)",
        re.I | re.M,
    )
    verdicts: dict[str, bool] = {}
    for m in line.finditer(text):
        letter = m.group(1).upper()
        if letter in letters:
            verdicts[letter] = m.group(3) is not None
    chosen = [k for k in letters if verdicts.get(k)]
    if len(verdicts) < 2 or not chosen:
        return None
    return chosen
