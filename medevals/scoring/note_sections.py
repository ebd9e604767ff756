"""ACI-Bench note divisions: a visit note cut into subjective / objective_exam / objective_results /
assessment_and_plan the way the benchmark's evaluation does, so division ROUGE matches its tables.

ACI-Bench (``wyim/aci-bench``, ``evaluation/evaluate_fullnote.py`` with the section tagger in
``baselines/sectiontagger.py``) scores the full note and each of four divisions. The rule,
written here from reading that tagger (no code copied):

- a line is a section header when, ignoring case and leading spaces, it *starts with* one of the
  division's header phrases (``HEADERS``; a space in a phrase matches any run of whitespace);
  a phrase written with a trailing colon (``"cc :"``) also matches the bare phrase when it is
  the whole line. A line starting with upper-case ``IMPRESSION`` is an assessment header
  (case-sensitive: in these notes a lower-case "impression" belongs to results). When a line
  matches several phrases the first in ``HEADERS`` order wins;
- text before the first header belongs to ``subjective``;
- only the *first* section of each division is kept; the kept sections are ordered by position
  and each runs from its header line to the start of the next kept one (the last to the end),
  so a division also swallows later sections of other divisions that come before the next kept
  header (e.g. INSTRUCTIONS after the plan);
- before ROUGE, a division's line breaks become the marker ``__lf1__`` (the script keeps one
  division per line of a file), which the ROUGE tokenizer reads as the token ``lf1``; a
  division absent from a note is the text ``#####EMPTY#####`` (one token, ``empty``), so two
  notes that both lack a division score 1 on it and a note missing one the other has scores 0.

Each quirk is kept deliberately: the point is to reproduce the published division numbers.
"""

from __future__ import annotations

import re

DIVISIONS = ("subjective", "objective_exam", "objective_results", "assessment_and_plan")
EMPTY = "#####EMPTY#####"
LINE_BREAK = "__lf1__"

#: (division, header phrases) in the tagger's priority order. A phrase ending in " :" also
#: matches its bare form when that is the whole line.
HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subjective", ("cc :", "chief complaint :", "reason for visit :", "CHIEF COMPLAINT")),
    (
        "subjective",
        (
            "history :",
            "history of present illness :",
            "history of present illness",
            "hpi :",
            "hpi",
            "hpi notes :",
            "interval history :",
            "interval hx :",
            "subjective :",
            "HISTORY OF PRESENT ILLNESS",
        ),
    ),
    ("subjective", ("ros :", "review of system :", "review of systems :")),
    ("subjective", ("SOCIAL HISTORY", "PAST HISTORY")),
    (
        "objective_exam",
        (
            "physical exam :",
            "physical examination :",
            "pe :",
            "physical findings :",
            "examination :",
            "exam :",
            "PHYSICAL EXAMINATION",
            "PHYSICAL EXAM",
        ),
    ),
    ("objective_exam", ("VITALS REVIEWED",)),
    ("objective_results", ("results :", "findings :", "RESULTS")),
    ("assessment_and_plan", ("assessment :", "a:")),
    (
        "assessment_and_plan",
        ("plan :", "plan of care :", "p:", "medical decision-making plan :", "summary plan"),
    ),
    (
        "assessment_and_plan",
        (
            "ap :",
            "a / p :",
            "assessment and plan :",
            "assessment & plan :",
            "disposition / plan :",
            "ASSESSMENT AND PLAN",
        ),
    ),
)


def _phrase(p: str) -> str:
    return r"\s*".join(re.escape(w) for w in p.split(" "))


def _compile() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for division, phrases in HEADERS:
        starts = [_phrase(p) for p in phrases]
        bare = [_phrase(p[:-1].rstrip()) for p in phrases if p.endswith(":")]
        pattern = r"\s*(?:" + "|".join(starts) + ")"
        if bare:
            pattern = r"(?:" + pattern + r"|\s*(?:" + "|".join(bare) + r")\s*$)"
        out.append((division, re.compile(pattern, re.IGNORECASE)))
    return out


_HEADER_RES = _compile()
_IMPRESSION = re.compile(r"\s*IMPRESSION")


def _header_division(line: str) -> str | None:
    for division, rx in _HEADER_RES:
        if rx.match(line):
            return division
    if _IMPRESSION.match(line):
        return "assessment_and_plan"
    return None


def divide(note: str) -> dict[str, str]:
    """The note's divisions as raw text (with line breaks), only those present."""
    text = note.replace(LINE_BREAK, "\n")
    lines = text.split("\n")
    # (division, start offset of its header line), in order; the text before any header is
    # subjective, as is a note without headers.
    sections: list[tuple[str, int]] = []
    offset = 0
    for i, line in enumerate(lines):
        div = _header_division(line)
        if div is not None:
            sections.append((div, offset))
        elif i == 0:
            sections.append(("subjective", 0))
        offset += len(line) + 1
    kept: dict[str, int] = {}
    for div, start in sections:
        kept.setdefault(div, start)
    ordered = sorted(kept.items(), key=lambda kv: kv[1])
    out: dict[str, str] = {}
    for j, (div, start) in enumerate(ordered):
        end = ordered[j + 1][1] if j + 1 < len(ordered) else len(text)
        out[div] = text[start:end]
    return out


def division_texts(note: str) -> dict[str, str]:
    """Every division as ACI-Bench's ROUGE sees it: ``__lf1__`` for line breaks, ``EMPTY`` if absent."""
    found = divide(note)
    return {d: found[d].replace("\n", LINE_BREAK) if d in found else EMPTY for d in DIVISIONS}
