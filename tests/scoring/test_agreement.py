"""Agreement statistics against values computed by hand or published worked examples."""

import math

import pytest

from medevals.scoring.agreement import (
    bootstrap_stat,
    cohen_kappa,
    fleiss_kappa,
    icc_2_1,
    macro_f1,
    pairwise,
    percent_agreement,
)


def test_cohen_kappa_hand_computed():
    a = [1, 1, 0, 0, 1, 0, 1, 1, 0, 1]
    b = [1, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    # p_o = 8/10; p_e = 0.6*0.6 + 0.4*0.4 = 0.52; kappa = 0.28 / 0.48
    assert percent_agreement(a, b) == pytest.approx(0.8)
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)


def test_cohen_kappa_edges():
    assert cohen_kappa([0, 1, 0], [0, 1, 0]) == pytest.approx(1.0)
    assert cohen_kappa([0, 1], [1, 0]) == pytest.approx(-1.0)
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # no variation: undefined, not 1
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def _expand(counts):
    return [[c for c, n in enumerate(row) for _ in range(n)] for row in counts]


def test_fleiss_kappa_wikipedia_example():
    # Fleiss (1971) style worked example: 10 subjects, 14 raters, 5 categories -> kappa 0.210
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(_expand(counts)) == pytest.approx(0.20993, abs=1e-4)


def test_fleiss_two_raters_hand_computed():
    # 6 items, 2 raters: P_i = 1,1,1,1,0,0 -> Pbar 2/3; label shares 6/12 each -> Pe 0.5;
    # kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert fleiss_kappa([[1, 1], [0, 0], [1, 1], [0, 0], [1, 0], [0, 1]]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [1]])


def test_icc_shrout_fleiss_1979_example():
    # Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges; ICC(2,1) = 0.29
    data = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert icc_2_1(data) == pytest.approx(0.2898, abs=5e-4)
    assert icc_2_1([[1, 1], [2, 2], [3, 3]]) == pytest.approx(1.0)
    assert math.isnan(icc_2_1([[1, 2]]))


def test_macro_f1_hand_computed():
    # class 1: tp 1, fp 0, fn 1 -> 2/3; class 0: tp 2, fp 1, fn 0 -> 4/5
    assert macro_f1([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert macro_f1(["a", "b"], ["a", "b"]) == pytest.approx(1.0)


def test_bootstrap_ci_brackets_value_and_is_seeded():
    pairs = [(1, 1)] * 30 + [(0, 0)] * 30 + [(1, 0)] * 10 + [(0, 1)] * 10
    r1 = bootstrap_stat(pairs, pairwise(cohen_kappa), seed=3)
    r2 = bootstrap_stat(pairs, pairwise(cohen_kappa), seed=3)
    assert r1 == r2 and r1["n"] == 80
    assert r1["value"] == pytest.approx(0.5)
    assert r1["ci_low"] < 0.5 < r1["ci_high"]
    constant = bootstrap_stat([(1, 1)] * 5, pairwise(cohen_kappa))
    assert math.isnan(constant["value"]) and math.isnan(constant["ci_low"])
