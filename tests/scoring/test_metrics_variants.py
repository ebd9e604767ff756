"""Headline metrics of a multi-variant run are the first variant's, never a pool of all variants."""

import math

from medevals.schema import Item, Sample, Score
from medevals.scoring.metrics import Aggregator, headline_counts


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


def _s(i: int, variant: str, value: float | None, subset: str, **score) -> Sample:
    return Sample(
        unit_id=f"u{i}-{variant}",
        benchmark="b",
        item=Item(id=str(i), input="q", subset=subset),
        variant=variant,
        score=Score(value=value, **score),
    )


def test_subsets_and_counts_are_per_variant_never_pooled():
    agg = Aggregator(variants=["zero-shot", "cot"])
    # zero-shot: cardio 2/2 right, renal 0/2; cot: cardio 0/2, renal 2/2 (+1 unscored, 1 unparseable)
    for i in range(4):
        subset = "cardio" if i < 2 else "renal"
        agg.add(_s(i, "zero-shot", 1.0 if i < 2 else 0.0, subset))
        agg.add(_s(i, "cot", 0.0 if i < 2 else 1.0, subset, parsed=i != 0))
    agg.add(_s(4, "cot", None, "renal"))
    res = agg.result()
    # pooled, cardio would be 2/4 = 50% and renal 2/5: the headline variant's own are 100% and 0%
    assert {k: (v["value"], v["n"]) for k, v in res["subsets"].items()} == {
        "cardio": (1.0, 2),
        "renal": (0.0, 2),
    }
    cot = res["variants"]["cot"]
    assert {k: (v["value"], v["n"]) for k, v in cot["subsets"].items()} == {
        "cardio": (0.0, 2),
        "renal": (1.0, 2),
    }
    assert (cot["n"], cot["n_scored"], cot["n_unscored"], cot["n_unparseable"]) == (5, 4, 1, 1)
    zs = res["variants"]["zero-shot"]
    assert (zs["n"], zs["n_scored"], zs["n_unscored"], zs["n_unparseable"]) == (4, 4, 0, 0)
    assert res["metrics"]["accuracy"]["n"] == 4
    assert headline_counts(res)["n_scored"] == 4 and headline_counts(res)["n"] == 4
    assert (res["n"], res["n_scored"], res["n_unscored"]) == (9, 8, 1)  # run totals stay totals


def test_not_applicable_samples_are_in_no_denominator_and_show_no_accuracy():
    agg = Aggregator(variants=["zero-shot", "perturb:units", "perturb:typos"])
    for i in range(3):
        agg.add(_s(i, "zero-shot", 1.0, ""))
        agg.add(_s(i, "perturb:units", None, "", applicable=False))
        agg.add(_s(i, "perturb:typos", 0.0 if i else None, "", applicable=i != 0))
    res = agg.result()
    units = res["variants"]["perturb:units"]
    assert units["not_applicable"] is True and units["n"] == 3 and units["n_scored"] == 0
    assert units["n_not_applicable"] == 3 and units["n_unscored"] == 0
    assert math.isnan(units["value"])  # no accuracy at all, never 0%
    typos = res["variants"]["perturb:typos"]
    assert (typos["value"], typos["n_scored"], typos["n_not_applicable"]) == (0.0, 2, 1)
    assert "not_applicable" not in typos
    assert res["n_unscored"] == 0 and res["n_not_applicable"] == 4


def test_a_value_several_non_headline_variants_produce_is_not_pooled_into_the_headline():
    agg = Aggregator(variants=["probe:stem-only", "zero-shot", "cot"])
    agg.add(_sample(0, "probe:stem-only", 1.0))
    agg.add(_sample(0, "zero-shot", 1.0, questions=1.0))
    agg.add(_sample(0, "cot", 0.0, questions=3.0))
    res = agg.result()
    assert "questions" not in res["metrics"]  # 2.0 would be a pool of two strategies
    assert res["variants"]["zero-shot"]["metrics"]["questions"]["value"] == 1.0
    assert res["variants"]["cot"]["metrics"]["questions"]["value"] == 3.0


def test_a_listed_variant_without_samples_still_gets_its_row():
    agg = Aggregator(variants=["zero-shot", "cot"])
    agg.add(_sample(0, "zero-shot", 1.0))
    res = agg.result()
    assert res["variants"]["cot"]["n"] == 0 and math.isnan(res["variants"]["cot"]["value"])


def test_every_breakdown_uses_the_metrics_own_interval_rule():
    """A continuous score (a rubric) keeps its bootstrap interval in the subset and language breakdowns."""
    from medevals.scoring.stats import MetricSpec

    agg = Aggregator(primary="score", spec=lambda name: MetricSpec("continuous", clip=(0.0, 1.0)))
    for i, (v, lang, subset) in enumerate(
        [(1.0, "en", "a"), (0.0, "en", "b"), (1.0, "fr", "a"), (1.0, "fr", "b")]
    ):
        s = _s(i, "default", v, subset)
        s.item.metadata["language"] = lang
        agg.add(s)
    res = agg.result()
    assert res["metrics"]["score"]["ci_method"] == "bootstrap"
    assert {m["ci_method"] for m in res["subsets"].values()} == {"bootstrap"}
    assert {m["ci_method"] for m in res["languages"].values()} == {"bootstrap"}
