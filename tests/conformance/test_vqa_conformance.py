"""VQA-RAD / SLAKE / PathVQA conformance: closed (yes/no) accuracy, open exact match and token recall.

Reference rule: the evaluation most medical VQA papers report with (LLaVA-Med,
``microsoft/LLaVA-Med@ad758b6:llava/eval/run_eval.py`` and ``eval_metrics/evaluate_metrics.py``):
closed = the reference appears in the lower-cased reply when the reply contains "yes" or "no";
open "recall" = share of reference tokens found in the reply. Deliberate differences (README):
medevals reads yes/no as whole words (upstream's substring test credits "no" inside "not"/"node"),
keeps a closed reply with neither yes nor no in the denominator as wrong and unparseable (upstream
appends nothing, shrinking the denominator, when the reply has "yes"/"no" but not the reference),
and reports open exact match of normalised strings as the headline open accuracy beside recall.
"""

from __future__ import annotations

import pytest

from medevals.scoring.vqa_match import match, normalize, read_yes_no

# (reply, reference, answer_type, correct, parsed, exact, recall); motivating case in comments
CASES = [
    ("Yes", "yes", None, 1.0, True, 1.0, 1.0),
    ("Yes, there is a mass.", "yes", None, 1.0, True, 0.0, 1.0),
    ("No.", "Yes", "CLOSED", 0.0, True, 0.0, 0.0),
    ("There is no node", "no", None, 1.0, True, 0.0, 1.0),  # "no" as a word, not inside "node"
    (
        "It is not certain",
        "yes",
        None,
        0.0,
        False,
        0.0,
        0.0,
    ),  # neither: unparseable, still in the denominator
    ("yes or no", "yes", None, 1.0, True, 0.0, 1.0),  # first word decides
    ("maybe yes maybe no", "yes", None, 0.0, False, 0.0, 1.0),  # both, not first: unparseable
    ("The left lung.", "left lung", "OPEN", 1.0, True, 1.0, 1.0),
    ("two", "2", "open", 1.0, True, 1.0, 1.0),
    ("right lower lobe", "left lower lobe", "open", 0.0, True, 0.0, 2 / 3),
    ("axial plane", "axial", "closed", 0.0, True, 0.0, 1.0),  # closed, not yes/no: exact match
    ("", "liver", "open", 0.0, False, 0.0, 0.0),
]


@pytest.mark.parametrize(("reply", "ref", "atype", "correct", "parsed", "exact", "recall"), CASES)
def test_match_rules(reply, ref, atype, correct, parsed, exact, recall):
    m = match(reply, ref, atype)
    assert (m.correct, m.parsed, m.exact) == (correct, parsed, exact)
    assert m.recall == pytest.approx(recall)


def test_normalisation():
    assert normalize("The T2-weighted MRI!") == "t2 weighted mri"
    assert normalize("Three lesions") == "3 lesions"
    assert read_yes_no("NO, it is not") == "no"
