"""HEAD-QA conformance: accuracy, and the exam's net score beside it.

Reference rule (Vilares & Gómez-Rodríguez 2019; ``aghie/head-qa@eval.py`` ``netas_score``): +3
for a right answer, -1 for a wrong one, 0 for an unanswered question (prediction 0), summed per
exam. medevals counts an unreadable reply as unanswered (0 points) and as wrong for accuracy
(README).
"""

from __future__ import annotations

import pytest
from mcqscore import score_reply

from medevals.benchmarks.language_exams import _headqa_row

Q = {
    "qid": "12",
    "qtext": "¿Cuál es el tratamiento de elección?",
    "ra": "3",
    "answers": [
        {"aid": 1, "atext": "Amiodarona."},
        {"aid": 2, "atext": "Digoxina."},
        {"aid": 3, "atext": "Cardioversión eléctrica."},
        {"aid": 4, "atext": "Adenosina."},
    ],
    "image": "",
}

# (reply, correct, net points, motivating case)
ROWS = [
    ("La respuesta correcta es la C.", 1.0, 3.0, "right answer: +3"),
    ("C", 1.0, 3.0, "bare letter"),
    ("La respuesta es B.", 0.0, -1.0, "wrong answer: -1"),
    ("C es la respuesta correcta.", 1.0, 3.0, "letter before the Spanish verdict"),
    ("La respuesta es cardioversión eléctrica.", 1.0, 3.0, "option text (aid 3)"),
    ("No lo sé.", 0.0, 0.0, "unreadable: unanswered, 0 points, wrong for accuracy"),
    ("La respuesta no es A.", 0.0, 0.0, "negation only: unanswered"),
]


@pytest.mark.parametrize(("reply", "correct", "points", "case"), ROWS, ids=[r[3] for r in ROWS])
def test_headqa_scores(reply, correct, points, case):
    item = _headqa_row(Q, exam="Cuaderno_2016_1_M", category="medicine", year=2016, where="t.json", line=1)
    sc = score_reply("headqa", item, reply)
    assert (sc.value, sc.values["exam_points"]) == (correct, points), case


def test_image_questions_are_skipped_not_scored():
    from medevals.benchmarks.base import Skipped

    got = _headqa_row(dict(Q, image="./x.png"), exam="e", category="medicine", year=2016, where="t", line=1)
    assert isinstance(got, Skipped) and "image" in got.reason
