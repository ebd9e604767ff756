"""HealthBench conformance: judge verdicts -> scores as the public grader computes them.

The rule (openai/simple-evals ``healthbench_eval.py``: ``calculate_score``, ``grade_sample``,
``_compute_clipped_stats``, ``_aggregate_get_clipped_mean``):

- conversation score = sum of the points of the criteria judged met (negative points included)
  / sum of the positive points; *not clipped*; undefined without a positive criterion;
- each rubric tag (axis, level, cluster) gets the same ratio over the criteria carrying it,
  and is left out for a conversation where those criteria have no positive points;
  each example tag gets the conversation's score;
- every aggregate (overall, each tag) is the mean over the conversations that have it,
  clipped to [0, 1];
- a verdict is read only when ``criteria_met`` is the JSON boolean true or false; otherwise the
  grader asks again. medevals asks again a bounded number of times; a criterion still without a
  verdict leaves its conversation unscored (counted), never scored as "not met".

Rows are written from that rule by hand, each with the case that motivated it.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from medevals.judging import templates
from medevals.protocols.rubric import RubricProtocol
from medevals.schema import Item, Sample
from medevals.scoring.metrics import Aggregator

PROTO = RubricProtocol(RubricProtocol.Options())


def verdict(met: bool) -> str:
    return json.dumps({"explanation": "scripted", "criteria_met": met})


def record(*replies: str, call_error: str | None = None) -> dict:
    return {
        "role": "judge:0",
        "template": templates.RUBRIC_CRITERION,
        "attempts": list(replies),
        "call_error": call_error,
    }


def make_sample(uid: str, rubrics: list[tuple[float, list[str]]], met: list, example_tags=()) -> Sample:
    """One conversation; ``met[i]`` is a bool (a clean verdict) or a judge record dict."""
    target = [{"criterion": f"c{i}", "points": float(p), "tags": list(t)} for i, (p, t) in enumerate(rubrics)]
    item = Item(
        id=uid,
        input=[{"role": "user", "content": "q"}],
        target=target,
        metadata={"example_tags": list(example_tags)},
    )
    judgements = [
        {"key": f"criterion:{i}", "judges": {"judge:0": m if isinstance(m, dict) else record(verdict(m))}}
        for i, m in enumerate(met)
    ]
    output = {"response": "reply", "jury": "majority", "judgements": judgements}
    return Sample(
        unit_id=uid, benchmark="healthbench", item=item, output=output, score=PROTO.score(item, output, [])
    )


ACC, CTX = "axis:accuracy", "axis:completeness"

# (case, rubric [(points, tags)], verdicts, example tags, expected score, expected tag scores)
CONVERSATIONS = [
    # Every positive criterion met, no negative one: 1.
    ("all positive met", [(5, [ACC]), (3, [CTX])], [True, True], [], 1.0, {ACC: 1.0, CTX: 1.0}),
    # Nothing met: 0.
    ("nothing met", [(5, [ACC]), (3, [CTX])], [False, False], [], 0.0, {ACC: 0.0, CTX: 0.0}),
    # Defect: only the undesirable criterion met. The grader does not clip a conversation:
    # -4 / 5 = -0.8 (medevals clipped it to 0).
    ("negative-points conversation", [(5, [ACC]), (-4, [ACC])], [False, True], [], -0.8, {ACC: -0.8}),
    # Defect: negative points far beyond the positive total: (2 - 10) / 2 = -4.
    ("negative points exceed positive", [(2, [ACC]), (-10, [ACC])], [True, True], [], -4.0, {ACC: -4.0}),
    # A met positive and a met negative criterion: (5 - 4) / 8.
    (
        "positive and negative met",
        [(5, [ACC]), (3, [CTX]), (-4, [ACC])],
        [True, False, True],
        [],
        1 / 8,
        {ACC: 0.2, CTX: 0.0},
    ),
    # An axis whose criteria are all negative has no score for this conversation (left out,
    # never 0): calculate_score returns None for it.
    ("axis with only negative criteria", [(5, [ACC]), (-3, [CTX])], [True, True], [], 0.4, {ACC: 1.0}),
    # Defect: every rubric tag is scored, not only axis tags (level:, cluster: as in the data).
    (
        "level and cluster tags",
        [(5, ["level:cluster", "cluster:a", ACC]), (5, ["level:cluster", "cluster:b", CTX])],
        [True, False],
        [],
        0.5,
        {"level:cluster": 0.5, "cluster:a": 1.0, "cluster:b": 0.0, ACC: 1.0, CTX: 0.0},
    ),
    # Defect: an example tag carries the conversation's score (a metric of its own upstream).
    (
        "example tag",
        [(5, [ACC]), (-5, [ACC])],
        [True, True],
        ["theme:context_seeking"],
        0.0,
        {"theme:context_seeking": 0.0, ACC: 0.0},
    ),
]


@pytest.mark.parametrize(
    ("case", "rubrics", "met", "tags", "score", "tag_scores"),
    CONVERSATIONS,
    ids=[r[0] for r in CONVERSATIONS],
)
def test_conversation_score(case, rubrics, met, tags, score, tag_scores):
    s = make_sample("c", rubrics, met, tags)
    assert s.score.value == pytest.approx(score), case
    got = {k: v for k, v in s.score.values.items() if k not in ("score", "judge:0") and v is not None}
    assert got == pytest.approx(tag_scores), case


# Judge replies -> verdict (read from the stored record, as rescore does)
VERDICTS = [
    # A fenced JSON object, as the grader's prompt asks for: read.
    ("fenced json", record('```json\n{"explanation": "x", "criteria_met": true}\n```'), True),
    # The string "true" is not the boolean: the grader re-asks; never read as met.
    ("string true is no verdict", record('{"criteria_met": "true"}'), None),
    # 1 is not True for the grader (``label is True or label is False``).
    ("integer 1 is no verdict", record('{"criteria_met": 1}'), None),
    # Unreadable, repair unreadable, then a fresh call answers: the fresh call's verdict counts.
    ("fresh call after two unreadable replies", record("Looks fine.", "Yes.", verdict(False)), False),
    # Every call failed (timeouts): no verdict, and the record says so.
    ("call failed", record(call_error="timeout (after 3 attempts)"), None),
]


@pytest.mark.parametrize(("case", "rec", "label"), VERDICTS, ids=[r[0] for r in VERDICTS])
def test_judge_reply(case, rec, label):
    s = make_sample("c", [(5, [ACC]), (5, [CTX])], [rec, True])
    if label is None:
        assert s.score.value is None, case  # unscored, never "not met"
    else:
        assert s.score.value == pytest.approx(0.5 + 0.5 * label), case


def aggregate(samples: list[Sample]) -> dict:
    agg = Aggregator(primary="score", seed=0, spec=RubricProtocol.metric_spec)
    for s in samples:
        agg.add(s)
    return agg.result()


# (case, conversations as (rubric, verdicts), expected overall mean, expected per-tag means)
AGGREGATES = [
    # Defect: the mean of unclipped scores is clipped, not the mean of clipped scores:
    # mean(-0.8, 0.2) = -0.3 -> 0 (medevals gave mean(0, 0.2) = 0.1).
    (
        "clip the mean, not each conversation",
        [([(5, [ACC]), (-4, [ACC])], [False, True]), ([(5, [ACC]), (-4, [ACC])], [True, True])],
        0.0,
        {ACC: 0.0},
    ),
    # Defect: mean(-0.8, 1, 1) = 0.4 (per-conversation clipping gave 0.667).
    (
        "a negative conversation pulls the mean down",
        [
            ([(5, [ACC]), (-4, [ACC])], [False, True]),
            ([(5, [ACC]), (-4, [ACC])], [True, False]),
            ([(5, [ACC]), (-4, [ACC])], [True, False]),
        ],
        0.4,
        {ACC: 0.4},
    ),
    # Per-axis means are clipped the same way and skip conversations without a score for the
    # axis: completeness has a positive criterion only in the second conversation. Overall
    # mean(-12/5, 1) = -0.7 -> 0; accuracy mean(-10/5, 1) = -0.5 -> 0; completeness 1.
    (
        "per-axis clipped mean over the conversations that have the axis",
        [
            ([(5, [ACC]), (-10, [ACC]), (-2, [CTX])], [False, True, True]),
            ([(5, [ACC]), (4, [CTX])], [True, True]),
        ],
        0.0,
        {ACC: 0.0, CTX: 1.0},
    ),
]


@pytest.mark.parametrize(("case", "convs", "overall", "tags"), AGGREGATES, ids=[r[0] for r in AGGREGATES])
def test_aggregate(case, convs, overall, tags):
    samples = [make_sample(f"c{i}", r, m) for i, (r, m) in enumerate(convs)]
    m = aggregate(samples)["metrics"]
    assert m["score"]["value"] == pytest.approx(overall), case
    assert 0.0 <= m["score"]["ci_low"] <= m["score"]["value"] <= m["score"]["ci_high"] <= 1.0
    for tag, want in tags.items():
        assert m[tag]["value"] == pytest.approx(want), (case, tag)
    # the summary tables (axis / theme) show the same clipped means
    tables = {t["title"].split(" (")[0]: t for t in PROTO.summarize(samples)["tables"]}
    axis = {r[0]: r[1]["value"] for r in tables["Rubric score by axis"]["rows"]}
    assert axis == pytest.approx({k.split(":", 1)[1]: v for k, v in tags.items() if k.startswith("axis:")})


def test_scores_that_happen_to_be_0_or_1_still_get_a_bootstrap_ci():
    # Defect: every conversation scored exactly 0 or 1, so the generic aggregator took the
    # rubric score for a proportion and gave it a Wilson interval. A rubric score is continuous.
    samples = [make_sample(f"c{i}", [(5, [ACC])], [i % 3 != 0]) for i in range(9)]
    m = aggregate(samples)["metrics"]
    assert m["score"]["ci_method"] == "bootstrap"
    assert m[ACC]["ci_method"] == "bootstrap"
    assert m["score"]["value"] == pytest.approx(6 / 9)


def test_unscored_conversations_are_counted_not_zero():
    samples = [
        make_sample("ok", [(5, [ACC])], [True]),
        make_sample("failed", [(5, [ACC]), (5, [CTX])], [True, record("no idea", "still no idea")]),
    ]
    res = aggregate(samples)
    assert res["n_unscored"] == 1 and res["n_scored"] == 1
    assert res["metrics"]["score"]["value"] == 1.0 and res["metrics"]["score"]["n"] == 1


def test_any_sample_order_gives_identical_metrics():
    rng = random.Random(14)
    samples = [
        make_sample(f"c{i}", [(5, [ACC]), (3, [CTX]), (-4, [ACC])], [rng.random() < 0.5 for _ in range(3)])
        for i in range(30)
    ]
    reference = aggregate(samples)
    for _ in range(3):
        rng.shuffle(samples)
        assert aggregate(samples)["metrics"] == reference["metrics"]
    assert not math.isnan(reference["metrics"]["score"]["ci_low"])
