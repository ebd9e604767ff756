"""Answer extraction for multiple-choice outputs: the one place that reads a letter out of text.

Rules, in order, each returning as soon as it is sure:

1. the whole reply is a letter ("C", "(C)", "C.", "**C**", "Answer: C");
2. an explicit statement, the *last* one wins (chain-of-thought often rejects options before
   concluding): "the answer is (C)", "Final answer: C", "Answer: option C", "I choose C";
3. a reply that starts with a labelled letter ("C. Acetazolamide", "C) ...", "(C) ...");
4. option text: the reply (or its stated answer, or its last line) names exactly one option.

A capital letter is only taken as an answer when it cannot be an English word: "A patient
presents..." is not option A, "The answer is A viral infection" is not option A unless option
A's text is "viral infection...". Anything else is *unparseable* (``None``), counted by the
metrics and never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_MARKUP = re.compile(r"[*_`#]+")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # which rule matched, or "unparseable"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = _THINK.sub(" ", text)
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

    # 2. explicit statements; the last one wins.
    stated = _stated_letter(cleaned, letters, choices)
    if stated:
        return Extraction(stated, "stated")

    # 3. reply starts with a labelled letter: "C. text", "C) text", "(C) text", "C: text".
    m = re.match(rf"[\(\[]\s*({lc})\s*[\)\]]|({lc})\s*[.):]", cleaned)
    if m:
        letter = m.group(1) or m.group(2)
        return Extraction(letter, "leading")
    m = re.match(rf"({lc})(?=\s)", cleaned)
    if (
        m
        and _followed_ok(cleaned, m.end(), m.group(1), choices)
        and cleaned[m.end() :].lstrip()[:1] not in ("",)
    ):
        return Extraction(m.group(1), "leading")

    # 4. option text.
    found = _option_text_answer(cleaned, choices)
    if found:
        return Extraction(found, "option_text")
    return Extraction(None, "unparseable")


_STATEMENT = (
    r"(?:(?:final|correct|best|most\s+likely|right)\s+)?(?:answer|option|choice)(?:\s+(?:is|would\s+be|will\s+be|=))?"
    r"|answer\s*(?:is|:)|i\s+(?:choose|select|pick|would\s+choose|would\s+go\s+with)|go\s+with"
)


def _stated_letter(text: str, letters: list[str], choices: dict[str, str]) -> str | None:
    lc = _letter_class(letters)
    best: tuple[int, str] | None = None
    pattern = re.compile(
        rf"(?:{_STATEMENT})\s*[:\-]?\s*(?:option\s+|choice\s+|letter\s+)?(?:\(\s*({lc})\s*\)|\[\s*({lc})\s*\]|({lc}))",
        re.I,
    )
    for m in pattern.finditer(text):
        bracketed = m.group(1) or m.group(2)
        if bracketed:
            letter = bracketed.upper()
        else:
            raw = m.group(3)
            if raw not in letters:  # a lower-case bare letter is an article, not an option
                continue
            if not _followed_ok(text, m.end(3), raw, choices):
                continue
            letter = raw
        if letter in letters and (best is None or m.start() >= best[0]):
            best = (m.start(), letter)
    return best[1] if best else None


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
    hits = [k for k, v in normed.items() if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", window)]
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
