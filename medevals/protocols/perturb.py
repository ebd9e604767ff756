"""Text perturbations for robustness and contamination probes: typos, a distractor, unit changes, paraphrase.

Each one is deterministic given its ``random.Random`` (seeded per item by the caller), changes
only the question stem (never the options, so the answer stays the same) and reports whether
it changed anything: an item with no number-with-unit is *not applicable* to the unit probe and
is left out of that probe's paired comparison rather than counted as robust.
"""

from __future__ import annotations

import random
import re

DISTRACTORS = (
    "The patient's neighbour recently adopted a cat.",
    "The clinic waiting room was repainted last spring.",
    "The patient mentions enjoying crossword puzzles on weekends.",
    "It had rained heavily on the morning of the visit.",
    "The patient's cousin works as an accountant in another city.",
    "The hospital cafeteria changed its menu this month.",
)

_WORD = re.compile(r"[A-Za-z]{4,}")


def typos(text: str, rng: random.Random, rate: float = 0.15) -> tuple[str, bool]:
    """Swap two adjacent inner letters in about ``rate`` of the words of 4+ letters (at least one)."""
    words = list(_WORD.finditer(text))
    if not words:
        return text, False
    chosen = [m for m in words if rng.random() < rate] or [rng.choice(words)]
    out, last = [], 0
    for m in chosen:
        w = m.group(0)
        i = rng.randrange(1, len(w) - 2)
        swapped = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        out.append(text[last : m.start()] + swapped)
        last = m.end()
    out.append(text[last:])
    new = "".join(out)
    return new, new != text


def distractor(text: str, rng: random.Random) -> tuple[str, bool]:
    """Insert an irrelevant sentence before the final sentence (the question itself stays last)."""
    sentence = rng.choice(DISTRACTORS)
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(parts) > 1:
        return " ".join([*parts[:-1], sentence, parts[-1]]), True
    return f"{sentence} {text.strip()}", True


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


_UNIT = re.compile(
    r"(\d+(?:\.\d+)?)\s?(?:(kg)\b(?!/)|(lbs?|pounds)\b(?!/)|(cm)\b(?!/)|(°\s?C|degrees? C(?:elsius)?)\b|(°\s?F|degrees? F(?:ahrenheit)?)\b)"
)


def _convert(value: float, unit: str) -> str:
    if unit == "kg":
        return f"{_fmt(value * 2.20462)} lb"
    if unit == "lb":
        return f"{_fmt(value / 2.20462)} kg"
    if unit == "cm":
        return f"{_fmt(value / 2.54)} in"
    if unit == "C":
        return f"{_fmt(value * 9 / 5 + 32)}°F"
    return f"{_fmt((value - 32) * 5 / 9)}°C"


def units(text: str, rng: random.Random | None = None) -> tuple[str, bool]:
    """Rewrite quantities in other units (kg<->lb, cm->in, °C<->°F) in one pass; same meaning, new surface.

    Compound units (kg/m2, cm/s) are left alone: converting only their first part would change the value.
    """

    def sub(m: re.Match[str]) -> str:
        unit = ("kg", "lb", "cm", "C", "F")[next(i for i in range(5) if m.group(i + 2))]
        return _convert(float(m.group(1)), unit)

    new = _UNIT.sub(sub, text)
    return new, new != text


_PARAPHRASE = {
    "which of the following is the most likely": "what is the most probable",
    "which of the following is": "what is",
    "which of the following": "which listed option",
    "most appropriate": "best",
    "most common": "most frequent",
    "presents to the": "comes to the",
    "presents with": "comes in with",
    "presents": "comes in",
    "year-old": "year old",
    "patient": "person",
    "patients": "people",
    "physician": "doctor",
    "emergency department": "emergency room",
    "complains of": "reports",
    "demonstrates": "shows",
    "reveals": "shows",
    "shows": "displays",
    "examination": "exam",
    "subsequently": "then",
    "approximately": "about",
    "treatment": "therapy",
    "medication": "drug",
    "drug": "medication",
    "severe": "marked",
    "increased": "raised",
    "elevated": "raised",
    "decreased": "lowered",
    "begins": "starts",
    "commonly": "often",
    "typically": "usually",
    "experiences": "has",
    "indicated": "called for",
    "associated with": "linked to",
    "caused by": "due to",
    "characteristic": "typical",
    "first-line": "initial",
    "initial": "first",
    "specific": "particular",
    "deficiency": "lack",
    "level": "concentration",
    "levels": "concentrations",
    "develops": "gets",
    "which": "what",
    "man": "male",
    "woman": "female",
    "child": "kid",
    "used": "employed",
}
_PARA_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(_PARAPHRASE, key=len, reverse=True)) + r")\b", re.I
)


def paraphrase(text: str) -> tuple[str, bool]:
    """A mechanical surface paraphrase (fixed phrase substitutions, one pass): the completion test's control.

    It keeps the meaning and changes the wording, so a model that merely knows the topic
    continues both alike, while one that memorised the original text reproduces only the
    original. It is crude; items it does not change are reported as not applicable.
    """

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        rep = _PARAPHRASE[word.lower()]
        return rep[:1].upper() + rep[1:] if word[:1].isupper() else rep

    out = _PARA_RE.sub(sub, text)
    return out, out != text
