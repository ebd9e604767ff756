"""ECE, Brier, selective accuracy, McNemar and the Pareto frontier against hand-computed values."""

from __future__ import annotations

import math

import pytest

from medevals.scoring.calibration import brier, ece, reliability_bins, selective_accuracy
from medevals.scoring.paired import mcnemar, paired_compare
from medevals.scoring.pareto import pareto_front

CONF = [0.9, 0.8, 0.3, 0.6, 0.95]
CORRECT = [1, 0, 0, 1, 1]


def test_brier_by_hand():
    # (0.1^2 + 0.8^2 + 0.3^2 + 0.4^2 + 0.05^2) / 5 = (0.01 + 0.64 + 0.09 + 0.16 + 0.0025) / 5
    assert brier(CONF, CORRECT) == pytest.approx(0.9025 / 5)


def test_ece_by_hand():
    # 10 equal-width bins: (0.2,0.3] holds 0.3 (acc 0); (0.5,0.6] holds 0.6 (acc 1);
    # (0.7,0.8] holds 0.8 (acc 0); (0.8,0.9] holds 0.9 (acc 1); (0.9,1] holds 0.95 (acc 1).
    expected = (0.3 + 0.4 + 0.8 + 0.1 + 0.05) / 5
    assert ece(CONF, CORRECT) == pytest.approx(expected)
    # 2 bins: [0, .5] = {0.3: acc 0} -> |0 - .3|; (.5, 1] = {.9,.8,.6,.95}, acc .75, conf .8125
    assert ece(CONF, CORRECT, n_bins=2) == pytest.approx(1 / 5 * 0.3 + 4 / 5 * abs(0.75 - 0.8125))


def test_perfectly_calibrated_bins_have_zero_ece():
    conf = [0.75] * 4 + [0.25] * 4
    corr = [1, 1, 1, 0, 1, 0, 0, 0]
    assert ece(conf, corr) == pytest.approx(0.0)
    bins = reliability_bins(conf, corr)
    assert [(b["confidence"], b["accuracy"], b["n"]) for b in bins] == [(0.25, 0.25, 4), (0.75, 0.75, 4)]


def test_edges_and_errors():
    assert [b["lo"] for b in reliability_bins([0.0, 1.0], [0, 1])] == [0.0, 0.9]
    assert math.isnan(ece([], [])) and math.isnan(brier([], []))
    with pytest.raises(ValueError):
        brier([1.2], [1])
    with pytest.raises(ValueError):
        ece([0.5], [1, 0])


def test_selective_accuracy_keeps_most_confident():
    # order by confidence: .95 (1), .9 (1), .8 (0), .6 (1), .3 (0)
    sa = dict(selective_accuracy(CONF, CORRECT, (0.2, 0.4, 0.6, 1.0)))
    assert sa == {0.2: 1.0, 0.4: 1.0, 0.6: pytest.approx(2 / 3), 1.0: 0.6}


def test_mcnemar_known_tables():
    # exact: b=10, c=2 -> 2 * P(X <= 2 | n=12, p=.5) = 2 * (1 + 12 + 66) / 4096
    assert mcnemar(10, 2) == pytest.approx(2 * 79 / 4096)
    assert mcnemar(2, 10) == mcnemar(10, 2)
    # chi-square with continuity correction: b=25, c=10 -> (15-1)^2/35 = 5.6 -> p = 0.017960
    assert mcnemar(25, 10) == pytest.approx(0.0179602, rel=1e-4)
    assert mcnemar(0, 0) == 1.0 and mcnemar(3, 3) == 1.0


def test_paired_compare_counts_discordant_pairs():
    a = [1, 1, 1, 0, 0, 1, 1, 0]
    b = [1, 0, 0, 0, 1, 1, 0, 0]
    r = paired_compare(a, b)
    assert (r.n, r.b, r.c) == (8, 3, 1)
    assert r.acc_a == 5 / 8 and r.acc_b == 3 / 8 and r.delta == pytest.approx(-0.25)
    assert r.ci_low <= r.delta <= r.ci_high
    assert r.p_value == pytest.approx(mcnemar(3, 1))


def test_pareto_front():
    pts = [(100, 0.5), (300, 0.55), (200, 0.4), (1000, 0.7), (1000, 0.6), (50, 0.3), (300, 0.55)]
    assert pareto_front(pts) == [5, 0, 1, 3]
