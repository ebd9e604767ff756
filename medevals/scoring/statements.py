"""Reading free text into the units judges compare: statements, reasoning steps, sections, lists, sets.

Pure string functions, so scoring and re-scoring never need a model:

- ``split_statements``: a reference reasoning as a list of statements (MedCaseReasoning-style
  reasoning recall is the share of these a model's answer covers). Each bullet or numbered
  line is one statement, a paragraph is cut into sentences, a bare header line (``"1.
  **Initial consideration:**"``) is dropped and markdown emphasis removed. Deterministic: every
  judge sees the same list (MedR-Bench splits its references with an LLM instead; see the
  README row).
- ``reasoning_steps``: a model's reasoning as MedR-Bench splits it: the ``<step n>`` blocks
  before the answer header, else its statements.
- ``section``: the text under a ``### Header`` of a reply.
- ``parse_list``: the items of a listed answer (a differential, recommended tests).
- ``set_scores`` and ``match_items``: precision / recall / F1 of a predicted set against a
  reference set, and a transparent string rule to match the two (the baseline beside the judge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BULLET = re.compile(r"^\s*(?:[-*•+]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)](?=\s))\s+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_ABBREV = ("e.g.", "i.e.", "vs.", "etc.", "dr.", "mr.", "mrs.", "ms.", "approx.", "no.", "fig.", "st.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def _clean(line: str) -> str:
    return " ".join(_EMPHASIS.sub("", line).split()).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences at ``. ! ?`` + space + capital/digit, not after a common abbreviation."""
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        if parts and parts[-1].lower().endswith(_ABBREV):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return [p.strip() for p in parts if p.strip()]


def _is_header(line: str) -> bool:
    """A label with nothing after it: ends with ':' (emphasis and numbering removed)."""
    body = _BULLET.sub("", line).strip()
    return body.endswith(":") and len(body) < 120


def split_statements(text: str) -> list[str]:
    """Statements of a reference text: list lines whole, paragraphs by sentence, headers dropped."""
    out: list[str] = []
    for raw in (text or "").splitlines():
        line = _clean(raw)
        if not line or _is_header(line) or re.fullmatch(r"[-=#*\s]+", line):
            continue
        line = re.sub(r"^#+\s*", "", line)
        if _BULLET.match(line):
            body = _BULLET.sub("", line).strip()
            if body:
                out.append(body)
        else:
            out.extend(split_sentences(line))
    return out


_STEP = re.compile(r"<\s*step\s*(\d+)\s*>\s*(.*?)(?=<\s*step\s*\d+\s*>|$)", re.IGNORECASE | re.DOTALL)


def reasoning_steps(text: str, answer_header: str | None = None) -> list[str]:
    """The ``<step n>`` blocks before ``answer_header`` (MedR-Bench's split), else its statements."""
    reasoning = text or ""
    if answer_header and answer_header in reasoning:
        reasoning = reasoning.split(answer_header)[0]
    steps = [" ".join(m.group(2).split()) for m in _STEP.finditer(reasoning)]
    steps = [s.rstrip("`").strip() for s in steps]
    steps = [s for s in steps if s]
    return steps or split_statements(reasoning.replace("```", ""))


def section(text: str, header: str) -> str | None:
    """The text after the last ``header`` up to the next ``#`` header (``None`` if absent).

    A colon right after the header and code fences around the reply are dropped.
    """
    if not text or header not in text:
        return None
    body = text.rsplit(header, 1)[1].lstrip(" :*\t")
    cut = re.search(r"^\s*#{1,6}\s", body, re.MULTILINE)
    if cut and cut.start() > 0:
        body = body[: cut.start()]
    elif cut:  # the header line itself is followed directly by another header
        body = ""
    return body.replace("```", "").strip()


def parse_list(text: str) -> list[str]:
    """List items: one per line (bullets and numbering removed); a single line is split on ';'."""
    lines = [_BULLET.sub("", _clean(raw)).strip() for raw in (text or "").splitlines()]
    lines = [ln.rstrip(".").strip() for ln in lines if ln and not ln.startswith("#")]
    if len(lines) == 1 and ";" in lines[0]:
        lines = [p.strip().rstrip(".") for p in lines[0].split(";")]
    seen: set[str] = set()
    out = []
    for ln in lines:
        key = ln.lower()
        if ln and key not in seen:
            seen.add(key)
            out.append(ln)
    return out


@dataclass(frozen=True)
class SetScores:
    precision: float
    recall: float
    f1: float


def set_scores(n_pred: int, n_ref: int, matched_pred: int, covered_ref: int) -> SetScores:
    """Precision = matched predicted / predicted; recall = covered reference / reference; F1 their
    harmonic mean. An empty prediction scores 0 on all three (MedR-Bench: "no further tests
    needed" scores precision and recall 0); an empty reference leaves recall undefined (nan)."""
    precision = matched_pred / n_pred if n_pred else 0.0
    recall = covered_ref / n_ref if n_ref else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return SetScores(precision, recall, f1)


_STOP = frozenset({"the", "a", "an", "of", "and", "or", "to", "for", "with", "in", "on", "test", "tests"})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def match_items(predicted: list[str], reference: list[str]) -> tuple[set[int], set[int]]:
    """(indices of predicted items matching some reference item, indices of reference items matched).

    Two items match when every content word of one appears in the other ("CT" ~ "CT scan of
    the abdomen"); deliberately literal, the judge is the primary grader.
    """
    pw = [_words(p) for p in predicted]
    rw = [_words(r) for r in reference]
    matched: set[int] = set()
    covered: set[int] = set()
    for i, a in enumerate(pw):
        for j, b in enumerate(rw):
            if a and b and (a <= b or b <= a):
                matched.add(i)
                covered.add(j)
    return matched, covered
