import math

from medevals.scoring.stats import bootstrap_mean, mean_ci, percentile, wilson


def test_wilson_known_values():
    # 30/40: Wilson 95% interval computed by hand: centre 0.7281, half-width 0.1300
    lo, hi = wilson(30, 40)
    assert abs(lo - 0.5981) < 5e-4 and abs(hi - 0.8581) < 5e-4
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and abs(hi - 0.2775) < 5e-4
    lo, hi = wilson(10, 10)
    assert abs(hi - 1.0) < 1e-12 and abs(lo - 0.7225) < 5e-4


def test_mean_ci_picks_method():
    assert mean_ci([1, 0, 1, 1])["ci_method"] == "wilson"
    m = mean_ci([0.5, 0.25, 1.0, 0.75])
    assert m["ci_method"] == "bootstrap" and m["ci_low"] <= m["value"] <= m["ci_high"]
    assert math.isnan(mean_ci([])["value"])


def test_bootstrap_deterministic():
    vals = [0.1 * i for i in range(20)]
    assert bootstrap_mean(vals, seed=1) == bootstrap_mean(vals, seed=1)


def test_percentile():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5


def test_declared_kind_beats_the_values():
    import pytest

    from medevals.scoring.stats import CONTINUOUS, PROPORTION, MetricSpec

    # a continuous score that is 0 or 1 on every item keeps a bootstrap interval
    assert mean_ci([1, 0, 1, 1], spec=CONTINUOUS)["ci_method"] == "bootstrap"
    assert mean_ci([1, 0, 1, 1], spec=PROPORTION)["ci_method"] == "wilson"
    with pytest.raises(ValueError):
        mean_ci([0.5, 1.0], spec=PROPORTION)
    m = mean_ci([-0.8, 0.2], spec=MetricSpec("continuous", clip=(0.0, 1.0)))
    assert m["value"] == 0.0 and m["unclipped_value"] == pytest.approx(-0.3)
    assert m["ci_low"] == 0.0 and 0.0 <= m["ci_high"] <= 1.0


def test_bootstrap_does_not_depend_on_value_order():
    vals = [0.1 * (i % 7) - 0.2 for i in range(40)]
    assert bootstrap_mean(vals, seed=3) == bootstrap_mean(vals[::-1], seed=3)
    assert mean_ci(vals) == mean_ci(sorted(vals))
