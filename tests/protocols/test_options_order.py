"""Option permutations: what is shown where, and mapping answers back to the original letters."""

from __future__ import annotations

import random

import pytest

from medevals.protocols import options_order as oo
from medevals.protocols import perturb
from medevals.protocols.strategies import expand, majority, parse
from medevals.schema import Item

ITEM = Item(id="q1", input="Q?", choices={"A": "alpha", "B": "beta", "C": "gamma", "D": "delta"}, target="C")
LETTERS = ["A", "B", "C", "D"]


def test_cyclic_shift_moves_text_left():
    order = oo.cyclic_order(LETTERS, 1)
    shown = oo.reorder(ITEM, order)
    assert shown.choices == {"A": "beta", "B": "gamma", "C": "delta", "D": "alpha"}
    assert shown.target == "B"  # gamma now sits under B
    assert oo.to_original("B", order, LETTERS) == "C"
    assert oo.to_displayed("C", order, LETTERS) == "B"
    assert oo.cyclic_order(LETTERS, 4) == LETTERS


@pytest.mark.parametrize("seed", range(20))
def test_random_orders_round_trip(seed):
    rng = random.Random(seed)
    order = oo.random_order(LETTERS, rng, not_identity=True)
    assert order != LETTERS and sorted(order) == LETTERS
    shown = oo.reorder(ITEM, order)
    for disp, text in shown.choices.items():
        orig = oo.to_original(disp, order, LETTERS)
        assert ITEM.choices[orig] == text
        assert oo.to_displayed(orig, order, LETTERS) == disp
    assert shown.choices[shown.target] == "gamma"
    assert oo.to_original(None, order, LETTERS) is None and oo.to_original("Z", order, LETTERS) is None


def test_reorder_rejects_non_permutation():
    with pytest.raises(ValueError):
        oo.reorder(ITEM, ["A", "A", "B", "C"])


def test_strategy_grammar():
    s = parse("knn5+cot+sc5")
    assert (s.shots, s.knn, s.cot, s.samples, s.shuffles) == (5, True, True, 5, 1) and s.needs_text
    assert parse("3shot").shots == 3 and not parse("3shot").knn
    assert parse("shuffle4").ensemble and not parse("zero-shot").ensemble
    assert parse("probe:position").probe == "probe:position"
    for bad in ("magic", "sc1", "cot+cot", "knn3+3shot", "knn99"):
        with pytest.raises(ValueError):
            parse(bad)
    assert expand(["cot", "probes"])[:2] == ["zero-shot", "cot"]
    assert "perturb:units" in expand(["perturbations"])


def test_majority_vote_ties_and_unparseable():
    assert majority(["B", "C", "B"]) == ("B", pytest.approx(2 / 3))
    assert majority(["C", "B", "B", "C"]) == ("C", 0.5)  # tie: first seen
    assert majority([None, "D", None]) == ("D", pytest.approx(1 / 3))
    assert majority([None, None]) == (None, 0.0)


def test_perturbations_change_only_what_they_say():
    rng = random.Random(0)
    t, changed = perturb.typos("The patient presents with severe abdominal pain.", rng)
    assert changed and sorted(t) == sorted("The patient presents with severe abdominal pain.")
    d, _ = perturb.distractor("A man is ill. What is the diagnosis?", random.Random(1))
    assert d.endswith("What is the diagnosis?") and d.count(".") == 2
    u, changed = perturb.units("He weighs 80 kg, is 180 cm tall, temperature 38.5 °C.")
    assert changed and "176.4 lb" in u and "70.9 in" in u and "101.3°F" in u
    assert perturb.units("No quantities here.") == ("No quantities here.", False)
    assert perturb.units("BMI 31 kg/m2, flow 20 cm/s.") == ("BMI 31 kg/m2, flow 20 cm/s.", False)
    assert perturb.units("38°C (100.4°F)")[0] == "100.4°F (38°C)"
    p, changed = perturb.paraphrase("Which of the following is the most likely diagnosis in this patient?")
    assert changed and p == "What is the most probable diagnosis in this person?"


def test_completion_overlap_and_verbal_confidence():
    from medevals.protocols.mcq import completion_overlap, split_for_completion, verbal_confidence

    assert split_for_completion("too short to split") is None
    prefix, tail = split_for_completion("one two three four five six seven eight nine ten")
    assert prefix == "one two three four five six" and tail == "seven eight nine ten"
    assert completion_overlap(" Seven, eight nine ten and more", tail) == 1.0
    assert completion_overlap("seven eight ELEVEN ten", tail) == 0.5
    assert completion_overlap("nothing alike", tail) == 0.0
    assert verbal_confidence("The answer is (B).\nConfidence: 85%") == 0.85
    assert verbal_confidence("confidence 40% ... Confidence: 70 %") == 0.7
    assert verbal_confidence("Confidence: 150%") is None and verbal_confidence("no number") is None
