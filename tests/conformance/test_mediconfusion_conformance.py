"""MediConfusion conformance: set accuracy, confusion and individual accuracy per pair, and the reply reading.

Reference rule (Sepehri et al. 2024; ``AIF4S/MediConfusion@a3045b03:utils/answering.py``, MC mode):
``clean_up_manual`` splits the reply on spaces and gives a letter 10 points when one of its token
forms appears ("A", "A:", "A.", ".A", '("A")' ...), both letters -> neither; ``check_answer`` with
tr=3 picks the one letter with points, else invalid; ``get_score``: confused = both answers the same
valid letter; ``create_score_table``/``print_score``: set = both right over all pairs, individual =
right / (2 x pairs), confusion = confused / pairs with both valid, per category weighted by how
often the category appears in ``category_1 + category_2``. No deliberate difference: medevals uses
this rule for ``mediconfusion`` (``answer_rule=mediconfusion``); other paired sets use extract_choice.
"""

from __future__ import annotations

import math

import pytest

from medevals.scoring.confusion import category_table, pair_outcome, upstream_letter

# (reply, letter upstream's MC mode reads): clean_up_manual splits on spaces and accepts a fixed set of tokens
LETTER_CASES = [
    ("A", "A"),
    ("B", "B"),
    ("B.", "B"),
    ("A:", "A"),
    (".A", "A"),
    ('("B")', "B"),
    ('("A").', "A"),
    ('("B":', "B"),
    ('B")', "B"),
    ("The answer is A.", "A"),
    ("Answer: B", "B"),
    ("A\nbecause the artery ends", "A"),  # newlines become spaces first
    ("(A)", None),  # not one of upstream's forms
    ("**A**", None),
    ("a", None),  # case-sensitive
    ("A or B", None),  # both letters: invalid
    ("A. Terminating ... not B.", None),
    ("", None),
    (None, None),
    ("Abnormal", None),  # a word starting with A is not the letter
]


@pytest.mark.parametrize(("reply", "want"), LETTER_CASES)
def test_upstream_letter_rule(reply, want):
    assert upstream_letter(reply) == want


# (answers, targets, set correct, confused, valid, individual)
PAIR_CASES = [
    (("A", "B"), ("A", "B"), True, False, True, 1.0),
    (("A", "A"), ("A", "B"), False, True, True, 0.5),
    (("B", "A"), ("A", "B"), False, False, True, 0.0),
    ((None, "B"), ("A", "B"), False, False, False, 0.5),
    ((None, None), ("A", "B"), False, False, False, 0.0),
    (("B", "B"), ("A", "B"), False, True, True, 0.5),
]


@pytest.mark.parametrize(("answers", "targets", "set_ok", "confused", "valid", "individual"), PAIR_CASES)
def test_pair_outcome(answers, targets, set_ok, confused, valid, individual):
    o = pair_outcome(answers, targets)
    assert (o.set_correct, o.confused, o.valid, o.individual) == (set_ok, confused, valid, individual)


def test_category_table_follows_upstream_weighting():
    rows = [
        # both images Cerebral+Vascular: each category counts the pair twice
        (pair_outcome(["A", "B"], ["A", "B"]), [["Cerebral", "Vascular"], ["Cerebral"]]),
        (pair_outcome(["A", "A"], ["A", "B"]), [["Cardiac"], ["Cardiac"]]),
        (pair_outcome([None, "B"], ["A", "B"]), [["Cerebral"], ["Spinal"]]),
    ]
    t = category_table(rows)
    total = t["total"]
    assert total["n"] == 3
    assert total["set_accuracy"] == pytest.approx(1 / 3)
    assert total["individual_accuracy"] == pytest.approx(4 / 6)
    assert total["confusion"] == pytest.approx(1 / 2)  # 1 confused of 2 valid pairs
    assert total["invalid"] == pytest.approx(1 / 6)
    # Cerebral: pair 1 twice (set correct), pair 3 once (wrong): set 2/3; images 3, correct 2 (+ invalid 1)
    c = t["Cerebral"]
    assert c["n"] == 3 and c["set_accuracy"] == pytest.approx(2 / 3)
    assert c["individual_accuracy"] == pytest.approx(2 / 3) and c["invalid"] == pytest.approx(1 / 3)
    assert c["confusion"] == 0.0 and c["valid_pairs"] == 2
    assert t["Cardiac"]["confusion"] == 1.0 and t["Cardiac"]["n"] == 2
    assert math.isnan(t["Spinal"]["confusion"])  # no valid pair carries it
