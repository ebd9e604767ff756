"""Correction quality as MEDEC scores it: the MEDIQA-CORR 2024 composite, with its own ROUGE-1.

The MEDEC README sends readers to the MEDIQA-CORR 2024 evaluation script
(abachaa/MEDIQA-CORR-2024, ``evaluation/mediqa-corr-2024-eval-script-2-all-metrics.py``).
Its correction scores are *composites over every text*: a text whose reference and candidate
are both "NA" (no error, none claimed) scores 1, a text where exactly one is "NA" (a missed
error, or a correction claimed for a correct text) or with no readable prediction scores 0,
and the remaining pairs score the metric; the sum is divided by the number of texts.

Its ROUGE is the ``rouge`` package (``Rouge().get_scores``), not Google's ``rouge-score``, and
the two disagree on ordinary sentences: ``rouge`` keeps case and punctuation, does not stem,
splits the text into sentences at every "." (so "2.5" is two tokens), and counts each distinct
unigram once. ``rouge1_f`` implements that definition (checked against the package itself in
``tests/conformance/test_medec_conformance.py``) so no extra dependency is needed.
"""

from __future__ import annotations

NA = "NA"


def clean_candidate(text: str) -> str:
    """The candidate correction as the scorer reads it: surrounding double quotes removed."""
    text = text.strip()
    while text.startswith('"') and len(text) > 1:
        text = text[1:]
    while text.endswith('"') and len(text) > 1:
        text = text[:-1]
    return text


def _unigrams(text: str) -> set[str]:
    # Sentences at every ".", each whitespace-normalised, joined, split on single spaces; an
    # empty piece between two dots is dropped, a blank one (". .") leaves an empty token, as
    # in the reference.
    words: list[str] = []
    for piece in text.split("."):
        if piece:
            words.extend(" ".join(piece.split()).split(" "))
    return set(words)


def rouge1_f(reference: str, candidate: str) -> float:
    """ROUGE-1 F of ``rouge`` 1.0.1: distinct unigrams, F = 2PR / (P + R + 1e-8).

    A side with no sentence at all (empty, or only dots) scores 0; the package raises there.
    """
    ref, cand = _unigrams(reference), _unigrams(candidate)
    if not ref or not cand:
        return 0.0
    overlap = len(ref & cand)
    p, r = overlap / len(cand), overlap / len(ref)
    return 2.0 * (p * r) / (p + r + 1e-8)


def na_rule(reference: str, candidate: str | None) -> float | None:
    """A text's composite score when the "NA" rule decides it, else None (a pair to score).

    ``reference``/``candidate`` are sentences or ``NA``; ``candidate`` None is a missing
    (unreadable) prediction, which scores 0 like an absent line in a submission file.
    """
    if candidate is None:
        return 0.0
    if reference == NA and candidate == NA:
        return 1.0
    if NA in (reference, candidate):
        return 0.0
    return None
