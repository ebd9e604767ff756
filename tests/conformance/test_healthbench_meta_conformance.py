"""HealthBench meta-evaluation conformance: grader and physician labels -> macro-F1 as published.

The rule (openai/simple-evals ``healthbench_meta_eval.py``: ``compute_metrics_for_rater_by_class``,
``compute_f1_metric``, ``get_balanced_metrics``; the analysis notebook's ``agg_n_and_val_list``
and model percentile):

- every (rater label, other label) pair of a row counts; precision of a class is over the pairs
  where the rater said it, recall over the pairs where the other said it; pairs pool over rows;
- macro-F1 = mean of the F1 of "met" and "not met"; undefined (upstream: no value) unless both
  classes have a precision and a recall;
- weight n of a balanced F1 = (TP+FP+FN) of met + (TP+FP+FN) of not met;
- a physician is a rater against the other physicians of the same row; the physicians' figure
  is the n-weighted mean of their F1s; a theme's grader F1 is the n-weighted mean of its
  categories'; the percentile counts ties half among physicians with n > 50.

Rows are computed by hand from that rule, each with the case that motivated it.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from medevals.judging import templates
from medevals.protocols.rubric_meta import RubricMetaProtocol, theme_of
from medevals.schema import Item, Sample
from medevals.scoring import agreement, rater_f1

T, F = True, False

# (case, [(rater label, other labels on the row)], macro-F1, F1 met, F1 not met, weight n)
GRADER_ROWS = [
    (
        "simple-evals' own unit test example (overall): precision met 2/4, not met 1/2; recall 2/3, 1/3",
        [(T, [T, T, F]), (F, [T, F]), (T, [F])],
        (4 / 7 + 2 / 5) / 2,
        4 / 7,
        2 / 5,
        9,
    ),
    (
        "the same example, cluster a only (its first two rows)",
        [(T, [T, T, F]), (F, [T, F])],
        (2 / 3 + 1 / 2) / 2,
        2 / 3,
        1 / 2,
        7,
    ),
    (
        "cluster b of that example: the rater never says 'not met' -> undefined, not 0",
        [(T, [F])],
        math.nan,
        math.nan,
        math.nan,
        2,
    ),
    ("perfect agreement on both classes", [(T, [T, T]), (F, [F])], 1.0, 1.0, 1.0, 3),
    ("always wrong: both F1 are 0 (defined, precision and recall 0)", [(T, [F]), (F, [T])], 0.0, 0.0, 0.0, 4),
    (
        "a row with one physician counts one pair",
        [(T, [T]), (F, [F, F, T])],
        (2 / 3 + 4 / 5) / 2,
        2 / 3,
        4 / 5,
        5,
    ),
    (
        "others never say 'met': recall of 'met' undefined -> undefined",
        [(T, [F]), (F, [F])],
        math.nan,
        math.nan,
        2 / 3,
        3,
    ),
]


@pytest.mark.parametrize(
    ("case", "rows", "f1", "met", "not_met", "n"), GRADER_ROWS, ids=[r[0][:40] for r in GRADER_ROWS]
)
def test_grader_macro_f1(case, rows, f1, met, not_met, n):
    total = (0, 0, 0, 0)
    for lab, others in rows:
        total = rater_f1.add(total, rater_f1.pair_counts(lab, others))
    r = rater_f1.rater_f1(total)
    for got, want in ((r.value, f1), (r.f1_met, met), (r.f1_not_met, not_met)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), case
    assert r.n == n, case


def test_counts_give_the_shared_macro_f1_on_flattened_pairs():
    """Where defined, the counts' macro-F1 equals scoring.agreement.macro_f1 over the pairs."""
    rng = random.Random(3)
    checked = 0
    for _ in range(300):
        rows = [
            (rng.random() < 0.6, [rng.random() < 0.5 for _ in range(rng.randint(1, 4))]) for _ in range(6)
        ]
        total = (0, 0, 0, 0)
        for lab, others in rows:
            total = rater_f1.add(total, rater_f1.pair_counts(lab, others))
        ours = rater_f1.macro_f1(total)
        pairs = [(o, lab) for lab, others in rows for o in others]
        if not math.isnan(ours):
            checked += 1
            assert ours == pytest.approx(agreement.macro_f1([p[0] for p in pairs], [p[1] for p in pairs]))
    assert checked > 100


def test_weighted_mean_and_percentile():
    a = rater_f1.RaterF1(0.5, 10, 8, math.nan, math.nan)
    b = rater_f1.RaterF1(0.8, 30, 25, math.nan, math.nan)
    undefined = rater_f1.RaterF1(math.nan, 99, 99, math.nan, math.nan)
    w = rater_f1.weighted_mean([a, b, undefined])
    assert w is not None and w.value == pytest.approx((0.5 * 10 + 0.8 * 30) / 40) and w.n == 40
    assert rater_f1.weighted_mean([undefined]) is None
    # notebook: (below + 0.5 * ties) / physicians * 100
    assert rater_f1.percentile_among(0.7, [0.5, 0.7, 0.9, 0.6]) == pytest.approx((2 + 0.5) / 4 * 100)
    assert theme_of("cluster:emergency_referrals_conditionally-emergent") == "emergency"
    assert theme_of("cluster:context_seeking_enough-context_helpfulness_and_safety") == "context"


# --------------------------------------------------------------------------- through the protocol


def _record(role: str, *replies: str) -> dict:
    return {
        "role": role,
        "template": templates.RUBRIC_CRITERION_META,
        "attempts": list(replies),
        "call_error": None,
    }


def _sample(i: int, judges: dict[str, object], labels: list[bool], ids: list[str], category: str) -> Sample:
    item = Item(
        id=f"row-{i}",
        input=[{"role": "user", "content": "q"}],
        target=labels,
        subset=category,
        metadata={"completion": "a", "rubric": "c", "physicians": ids},
    )
    recs = {
        role: _record(role, v if isinstance(v, str) else json.dumps({"criteria_met": v, "explanation": "x"}))
        for role, v in judges.items()
    }
    output = {"jury": "majority", "judgements": [{"key": "criterion", "judges": recs}]}
    proto = RubricMetaProtocol(RubricMetaProtocol.Options())
    return Sample(
        unit_id=item.id, benchmark="m", item=item, output=output, score=proto.score(item, output, [])
    )


def test_summary_tables_follow_the_rule():
    proto = RubricMetaProtocol(RubricMetaProtocol.Options(min_physician_n=0))
    em, ctx = "cluster:emergency_referrals_x", "cluster:context_seeking_y"
    samples = [
        # the upstream example's rows (cluster a = emergency, b = context); physicians p1..p3
        _sample(1, {"judge:0": T}, [T, T, F], ["p1", "p2", "p3"], em),
        _sample(2, {"judge:0": F}, [T, F], ["p1", "p2"], em),
        _sample(3, {"judge:0": T}, [F], ["p3"], ctx),
        # a malformed verdict: the row is unscored and in no pair
        _sample(4, {"judge:0": "criteria met: yes"}, [T, T], ["p1", "p2"], em),
    ]
    assert samples[3].score.value is None and "judge:0" in samples[3].score.explanation
    assert samples[0].score.value == pytest.approx(2 / 3)  # the jury matches 2 of 3 physicians
    ex = proto.summarize(samples)
    overall = ex["tables"][0]
    assert overall["columns"][1] == "macro-F1" and overall["terminal"]
    judge_row = overall["rows"][0]
    assert judge_row[0] == "judge:0" and judge_row[2] == 3 and judge_row[3] == 6
    assert judge_row[1]["value"] == pytest.approx((4 / 7 + 2 / 5) / 2)
    assert ex["meta_eval"]["judge:0"]["n"] == 9
    # physicians (judge-independent: every row counts, the unscored one too):
    # row 1: p1 T vs [T,F], p2 T vs [T,F], p3 F vs [T,T]; row 2: p1 T vs [F], p2 F vs [T];
    # row 4: p1 T vs [T], p2 T vs [T]; row 3 has one physician (no pair)
    # p1: tp2 fp2, never 'not met' -> undefined, left out; p3: fn2, never 'met' -> left out
    # p2: tp2 fp1 fn1 -> F1 met 4/6, F1 not met 0 (said it once, wrongly) -> 1/3
    phys = overall["rows"][-1]
    assert phys[0].startswith("physicians") and phys[1]["value"] == pytest.approx(1 / 3)
    theme = ex["tables"][1]
    emergency = next(r for r in theme["rows"] if r[0] == "Emergency referrals")
    # the judge on emergency rows = the upstream cluster a figure; physicians = p2's 1/3; percentile 100
    assert emergency[1] == pytest.approx(round((2 / 3 + 1 / 2) / 2, 4))
    assert emergency[2] == pytest.approx(round(1 / 3, 4)) and emergency[3] == 1 and emergency[4] == 100.0
    context = next(r for r in theme["rows"] if r[0] == "Context seeking")
    assert context[1] == "n/a" and context[2] == "n/a"  # undefined, never 0
    failures = next(t for t in ex["tables"] if t["title"].startswith("Judge failures"))
    assert failures["columns"][4] == "malformed" and failures["rows"][0][4] == 1


def test_two_judges_and_the_jury():
    proto = RubricMetaProtocol(RubricMetaProtocol.Options())
    cat = "cluster:hedging_z"
    samples = [
        _sample(1, {"judge:0": T, "judge:1": F}, [T], ["p1"], cat),
        _sample(2, {"judge:0": F, "judge:1": F}, [F], ["p1"], cat),
    ]
    # majority of a tie (T, F) is 'not met' (the conservative reading)
    assert samples[0].score.answer is False and samples[0].score.values["judge:0"] == 1.0
    rows = proto.summarize(samples)["tables"][0]["rows"]
    assert [r[0] for r in rows[:3]] == ["judge:0", "judge:1", "jury (majority)"]
    assert rows[0][1]["value"] == 1.0 and math.isnan(rows[1][1]["value"])  # judge:1 never says met
