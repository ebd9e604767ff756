"""FrenchMedMCQA conformance: exact match ratio (EMR) and Hamming score, as the benchmark reports them.

Reference rule (Labrak et al. 2022; ``qanastek/FrenchMedMCQA@BART/ConvertPredictionsToHammingScore.py``):
per item, exact match = the predicted option set equals the key's; Hamming score = |pred ∩ key| /
|pred ∪ key|; both averaged over items. The reference below is written from that definition;
each row gives a model reply, the key, the option set medevals reads, and the case. The one
deliberate difference: upstream reads *every* capital A-E character of a seq2seq output ("JE NE
SAIS PAS" would be {A, E}); medevals reads an explicit answer and scores an unreadable reply 0
on both (README).
"""

from __future__ import annotations

import pytest
from mcqscore import score_reply

from medevals.benchmarks.language_exams import _frenchmedmcqa_row

CHOICES = {
    "a": "Le suc gastrique",
    "b": "La bile",
    "c": "Le suc pancréatique",
    "d": "La salive",
    "e": "Le sang",
}


def reference(pred: set[str], key: set[str]) -> tuple[float, float]:
    """(exact match, Hamming score) of one item by the published definition."""
    if not pred:
        return 0.0, 0.0
    return float(pred == key), len(pred & key) / len(pred | key)


# (reply, key, set read (None = unreadable), motivating case)
ROWS = [
    ("A, C", "ac", {"A", "C"}, "the answer format the prompt asks for"),
    ("A", "ac", {"A"}, "names one of two correct options: EMR 0, Hamming 1/2"),
    ("A, C, D", "ac", {"A", "C", "D"}, "one option too many: Hamming 2/3"),
    ("B", "ac", {"B"}, "disjoint: 0 on both"),
    ("ABCDE", "ace", {"A", "B", "C", "D", "E"}, "every option ticked: Hamming 3/5, never full credit"),
    ("La réponse est C, A.", "ac", {"A", "C"}, "order does not matter (a set)"),
    ("Réponses : A et C", "ac", {"A", "C"}, "French 'et' joins the set"),
    ("Les propositions A et C sont exactes.", "ac", {"A", "C"}, "plural French verdict after the list"),
    ("A. Vrai\nB. Faux\nC. Vrai\nD. Faux\nE. Faux", "ac", {"A", "C"}, "one verdict per proposition"),
    ("A/C", "ac", {"A", "C"}, "slash-separated list"),
    ("Donc A, C et E.", "ace", {"A", "C", "E"}, "conclusion after reasoning"),
    ("C", "c", {"C"}, "single-answer key (52% of test items)"),
    ("La proposition B est fausse.", "ac", None, "a rejection only: unreadable, 0 on both"),
    ("Je ne sais pas.", "ac", None, "upstream would read capital letters {A, E} out of 'JE NE SAIS PAS'"),
    (
        "\nA. Le suc gastrique\nB. La bile\nC",
        "ac",
        None,
        "a base model re-listing the propositions chose none",
    ),
]


@pytest.mark.parametrize(("reply", "key", "read", "case"), ROWS, ids=[r[3] for r in ROWS])
def test_frenchmedmcqa_scores(reply, key, read, case):
    item = _frenchmedmcqa_row({"id": "x", "question": "Q ?"}, CHOICES, list(key), "t.json", 1)
    sc = score_reply("frenchmedmcqa", item, reply)
    assert (set(sc.answer) if sc.answer else None) == read, case
    em, ham = reference(read or set(), {k.upper() for k in key})
    assert sc.value == em and sc.values["accuracy"] == em, case
    assert sc.values["hamming_score"] == pytest.approx(ham), case
    assert sc.parsed is (read is not None)
