"""MedCalc-Bench and medcalc-gen loaders: exact item counts, both label sets, no answer leakage."""

import pytest

from medevals.benchmarks import base, registry


def test_medcalc_counts_and_labels():
    bench = registry.get("medcalc")
    try:
        test = base.load(bench, "test").items
    except Exception as e:  # pragma: no cover - data missing
        pytest.skip(str(e))
    corrected = base.load(bench, "corrected").items
    assert len(test) == 1047 and len(corrected) == 887
    assert len({it.metadata["calculator_id"] for it in test}) == 55
    assert sum(it.target["answer"] == "N/A" for it in corrected) == 69
    first = test[0]
    assert first.target["answer"] == "25.238" and first.metadata["labels"]["corrected"]["answer"] == "25.24"
    for it in test[:50]:
        assert "Ground Truth" not in (it.context or "") and "formula for computing" not in str(it.input)


def test_medcalc_gen_uses_the_run_seed():
    bench = registry.get("medcalc-gen")
    a = base.load(bench, seed=7)
    b = base.load(bench, seed=7)
    c = base.load(bench, seed=8)
    assert len(a.items) == 220 == bench.splits["test"]
    assert [i.context for i in a.items] == [i.context for i in b.items]
    assert [i.context for i in a.items] != [i.context for i in c.items]
    assert "seed=7" in a.source
