"""Headline metrics of a multi-variant run are the first variant's, never a pool of all variants."""

from medevals.schema import Item, Sample, Score
from medevals.scoring.metrics import Aggregator


def _sample(i: int, variant: str, value: float, questions: float | None = None) -> Sample:
    values = {} if questions is None else {"questions": questions}
    return Sample(
        unit_id=f"u{i}-{variant}",
        benchmark="b",
        item=Item(id=str(i), input="q"),
        variant=variant,
        score=Score(value=value, values=values),
    )


def test_single_variant_has_no_headline_variant():
    agg = Aggregator()
    for i, v in enumerate([1, 0, 1, 1]):
        agg.add(_sample(i, "default", v))
    res = agg.result()
    assert "headline_variant" not in res
    assert res["metrics"]["accuracy"]["value"] == 0.75


def test_first_listed_variant_headlines_and_others_get_rows():
    agg = Aggregator(variants=["interactive", "full", "initial"])
    for i in range(4):
        agg.add(_sample(i, "full", 1.0))
        agg.add(_sample(i, "initial", 0.0))
        agg.add(_sample(i, "interactive", 1.0 if i < 1 else 0.0, questions=float(i)))
    res = agg.result()
    assert res["headline_variant"] == "interactive"
    assert res["metrics"]["accuracy"]["value"] == 0.25  # not the pooled 5/12
    assert res["metrics"]["accuracy"]["n"] == 4
    assert res["metrics"]["questions"]["value"] == 1.5
    assert {k: v["value"] for k, v in res["variants"].items()} == {
        "full": 1.0,
        "initial": 0.0,
        "interactive": 0.25,
    }
    assert res["n"] == 12  # counts and usage stay run totals


def test_values_only_other_variants_produce_are_kept():
    agg = Aggregator(variants=["interactive", "full"])
    agg.add(_sample(0, "interactive", 1.0))
    s = _sample(0, "full", 0.0)
    s.score.values["accuracy_full_vignette"] = 0.0
    agg.add(s)
    res = agg.result()
    assert res["metrics"]["accuracy"]["value"] == 1.0
    assert res["metrics"]["accuracy_full_vignette"]["value"] == 0.0
