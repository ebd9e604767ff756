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


_UNITS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d+(?:\.\d+)?)\s?kg\b"), "kg"),
    (re.compile(r"(\d+(?:\.\d+)?)\s?(?:lb|lbs|pounds)\b"), "lb"),
    (re.compile(r"(\d+(?:\.\d+)?)\s?cm\b"), "cm"),
    (re.compile(r"(\d+(?:\.\d+)?)\s?(?:°\s?C|degrees? C(?:elsius)?)\b"), "C"),
    (re.compile(r"(\d+(?:\.\d+)?)\s?(?:°\s?F|degrees? F(?:ahrenheit)?)\b"), "F"),
]


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
    """Rewrite quantities in other units (kg<->lb, cm->in, °C<->°F); same meaning, different surface."""
    changed = False
    for pattern, unit in _UNITS:

        def sub(m: re.Match[str], unit: str = unit) -> str:
            nonlocal changed
            changed = True
            return _convert(float(m.group(1)), unit)

        text = pattern.sub(sub, text)
    return text, changed


_PARAPHRASE = [
    (r"\bwhich of the following is the most likely\b", "what is the most probable"),
    (r"\bwhich of the following is\b", "what is"),
    (r"\bwhich of the following\b", "which option"),
    (r"\bmost likely\b", "most probable"),
    (r"\bmost appropriate\b", "best"),
    (r"\bpresents to the\b", "comes to the"),
    (r"\bpresents with\b", "comes in with"),
    (r"\bpresents\b", "comes in"),
    (r"\byear-old\b", "year old"),
    (r"\bpatient\b", "person"),
    (r"\bphysician\b", "doctor"),
    (r"\bemergency department\b", "emergency room"),
    (r"\bhistory of\b", "past history of"),
    (r"\bcomplains of\b", "reports"),
    (r"\bdemonstrates\b", "shows"),
    (r"\breveals\b", "shows"),
    (r"\bexamination\b", "exam"),
    (r"\bsubsequently\b", "then"),
    (r"\bapproximately\b", "about"),
    (r"\btreatment\b", "therapy"),
    (r"\bmedication\b", "drug"),
    (r"\bsevere\b", "marked"),
    (r"\bincreased\b", "raised"),
    (r"\bdecreased\b", "lowered"),
    (r"\bbegins\b", "starts"),
    (r"\bcommonly\b", "often"),
    (r"\bexperiences\b", "has"),
    (r"\bindicated\b", "called for"),
    (r"\bassociated with\b", "linked to"),
    (r"\bcaused by\b", "due to"),
    (r"\bshows\b", "displays"),
    (r"\bused\b", "employed"),
]


def paraphrase(text: str) -> tuple[str, bool]:
    """A mechanical surface paraphrase (fixed phrase substitutions): the control for the completion test.

    It keeps the meaning and changes the wording, so a model that merely knows the topic
    continues both alike, while one that memorised the original text reproduces only the
    original. It is crude; items it does not change are reported as not applicable.
    """
    out = text
    for pat, rep in _PARAPHRASE:
        out = re.sub(pat, rep, out, flags=re.I)
    return out, out != text
