"""Arithmetic of interactive consultation: fact matching, facts elicited, accuracy by questions asked.

Kept model-free and pure so the deterministic patient, the scorer and ``summarize`` share one
definition of "this text states that fact", and re-scoring a run needs no model.

A fact is *covered* by a text when at least ``threshold`` of the fact's content words (lower
case, stop words dropped, light suffix stripping) occur in the text. The *relevant* facts of
an item are those its initial information does not already cover; the share elicited is the
number of relevant facts the patient revealed over the number of relevant facts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "without",
        "by",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "you",
        "your",
        "yours",
        "he",
        "she",
        "his",
        "her",
        "him",
        "they",
        "them",
        "their",
        "it",
        "its",
        "we",
        "our",
        "us",
        "me",
        "my",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "any",
        "some",
        "all",
        "no",
        "not",
        "yes",
        "if",
        "then",
        "than",
        "so",
        "very",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "also",
        "about",
        "into",
        "over",
        "under",
        "after",
        "before",
        "during",
        "since",
        "until",
        "while",
        "just",
        "only",
        "ever",
        "never",
        "other",
        "such",
        "patient",
        "patients",
        "person",
        "doctor",
        "tell",
        "please",
        "describe",
        "know",
        "anything",
        "something",
        "experienced",
        "experience",
        "notice",
        "noticed",
        "feel",
        "feeling",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(w: str) -> str:
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("ed"):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def terms(text: str) -> set[str]:
    """Content words of a text, stemmed; the unit every fact match in medevals uses."""
    return {_stem(w) for w in _WORD.findall((text or "").lower()) if w not in STOPWORDS}


def coverage(fact: str, text: str) -> float:
    """Share of the fact's content words found in ``text`` (1.0 for a fact with no content words)."""
    ft = terms(fact)
    if not ft:
        return 1.0
    return len(ft & terms(text)) / len(ft)


def relevant_facts(facts: Sequence[str], initial_info: str, threshold: float = 0.5) -> list[int]:
    """Indices of the facts the expert does not know at the start (not covered by the initial info)."""
    return [i for i, f in enumerate(facts) if coverage(f, initial_info) < threshold]


def facts_in_text(facts: Sequence[str], text: str, threshold: float = 0.5) -> list[int]:
    """Indices of the facts a free-text patient reply states (for model-backed patients)."""
    return [i for i, f in enumerate(facts) if coverage(f, text) >= threshold]


def share_elicited(revealed: Iterable[int], relevant: Sequence[int]) -> float | None:
    """Relevant facts revealed / relevant facts; None when the initial info already held everything."""
    rel = set(relevant)
    if not rel:
        return None
    return len(rel & set(revealed)) / len(rel)


def rank_facts(question: str, facts: Sequence[str]) -> list[tuple[int, float]]:
    """(fact index, score) for facts sharing content words with the question, best first.

    The score sums the inverse document frequency (over this case's facts) of the shared words,
    so a question about "fever" prefers the one fact mentioning fever over facts that share only
    a common word. Ties keep the facts' order, so the result is deterministic.
    """
    fact_terms = [terms(f) for f in facts]
    q = terms(question)
    n = len(facts)
    df: dict[str, int] = {}
    for ft in fact_terms:
        for t in ft:
            df[t] = df.get(t, 0) + 1
    scored = []
    for i, ft in enumerate(fact_terms):
        shared = q & ft
        if shared:
            scored.append((i, sum(math.log(1 + n / df[t]) for t in shared)))
    return sorted(scored, key=lambda x: (-x[1], x[0]))


def accuracy_by_questions(episodes: Iterable[tuple[int, float]]) -> dict[int, list[float]]:
    """Correctness values grouped by the number of questions asked before the episode stopped."""
    out: dict[int, list[float]] = {}
    for k, correct in episodes:
        out.setdefault(int(k), []).append(float(correct))
    return dict(sorted(out.items()))


def accuracy_at_budget(
    episodes: Iterable[tuple[int, float, dict[int, float]]], max_turns: int
) -> list[tuple[int, float, int]]:
    """Accuracy had every episode been stopped after at most k questions, k = 0..max_turns.

    Each episode is (questions asked at its end, final correctness, {k: correctness of the
    answer it was made to give after k questions}). An episode that ended after j <= k
    questions keeps its final answer at budget k; one still asking is judged on its forced
    answer at k. Episodes without a forced answer at some k < j are left out at that k.
    Returns (k, accuracy, n episodes counted).
    """
    eps = list(episodes)
    curve = []
    for k in range(max_turns + 1):
        vals = []
        for end, final, probes in eps:
            if end <= k:
                vals.append(final)
            elif k in probes:
                vals.append(probes[k])
        if vals:
            curve.append((k, sum(vals) / len(vals), len(vals)))
    return curve
