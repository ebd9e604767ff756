"""Verdict reading (every failure kind), jury aggregation and exact rubric-score arithmetic."""

import pytest

from medevals.judging import templates
from medevals.judging.jury import aggregate
from medevals.judging.verdicts import read_record
from medevals.protocols.rubric import rubric_score
from medevals.scoring.diagnosis_match import match_diagnosis


def rec(*attempts, error=None, template=templates.RUBRIC_CRITERION):
    return {"role": "judge:0", "template": template, "attempts": list(attempts), "call_error": error}


def test_reads_json_in_prose_and_fences():
    v = read_record(rec('Sure.\n```json\n{"criteria_met": true, "explanation": "asks"}\n```'))
    assert v.ok and v.label is True and v.explanation == "asks" and not v.repaired


def test_repair_success_is_marked():
    v = read_record(rec("It meets it.", '{"criteria_met": false}'))
    assert v.ok and v.label is False and v.repaired


@pytest.mark.parametrize(
    ("attempts", "error", "kind"),
    [
        (("The reply is fine.", "Still fine."), None, "malformed"),
        (("I'm sorry, I can't help with grading this.",) * 2, None, "refusal"),
        (('{"criteria_met": "yes"}', '{"met": true}'), None, "invalid"),
        ((), "timeout (after 2 attempts)", "call_failed"),
        (("no json",), "repair call: 500", "call_failed"),
    ],
)
def test_failures_keep_kind_and_raw_text(attempts, error, kind):
    v = read_record(rec(*attempts, error=error))
    assert not v.ok and v.label is None and v.kind == kind
    if attempts:
        assert v.raw == attempts[-1]
    assert v.failure


def test_string_true_is_not_a_verdict():
    # StrictBool: "true" as a string is invalid, not silently a yes
    assert read_record(rec('{"criteria_met": "true"}')).kind == "invalid"


def test_equivalence_template_uses_its_schema():
    v = read_record(rec('{"equivalent": true}', template=templates.DIAGNOSIS_EQUIVALENCE))
    assert v.ok and v.label is True
    assert (
        read_record(rec('{"criteria_met": true}', template=templates.DIAGNOSIS_EQUIVALENCE)).kind == "invalid"
    )


def test_jury_aggregation():
    assert aggregate([1, 0, 1], "mean") == pytest.approx(2 / 3)
    assert aggregate([1, 0, 1], "majority") == 1.0
    assert aggregate([1, 0, 0], "majority") == 0.0
    assert aggregate([1, 0], "majority") == 0.0  # tie -> the lower value
    assert aggregate([1, 1, 0], "min") == 0.0
    assert aggregate([1, None, 1], "min") == 1.0  # a failed judge does not vote
    assert aggregate([None, None], "mean") is None  # nobody answered: unscored, not 0
    with pytest.raises(ValueError):
        aggregate([1], "median")  # type: ignore[arg-type]


R = [
    {"criterion": "a", "points": 5.0, "tags": ["axis:accuracy"]},
    {"criterion": "b", "points": 3.0, "tags": ["axis:context_awareness"]},
    {"criterion": "c", "points": -4.0, "tags": ["axis:accuracy"]},
]


def test_rubric_score_arithmetic():
    assert rubric_score(R, [1, 1, 0]) == pytest.approx(1.0)
    assert rubric_score(R, [1, 0, 1]) == pytest.approx((5 - 4) / 8)
    assert rubric_score(R, [0, 1, 1]) == pytest.approx(-1 / 8)  # not clipped per conversation (simple-evals)
    assert rubric_score(R, [1, 0.5, 0.5]) == pytest.approx((5 + 1.5 - 2) / 8)
    assert rubric_score(R[2:], [1]) is None  # no positive points: undefined


@pytest.mark.parametrize(
    ("pred", "ref", "rule"),
    [
        (
            "Non-ST elevation myocardial infarction",
            "Non-ST-Elevation Myocardial Infarction (NSTEMI)",
            "exact",
        ),
        ("NSTEMI", "Non-ST-Elevation Myocardial Infarction (NSTEMI)", "exact"),
        ("heart attack", "Myocardial infarction", "synonym"),
        ("SLE", "Systemic lupus erythematosus", "synonym"),
        ("PSC", "Primary sclerosing cholangitis", "acronym"),
        ("Kawasaki disease with coronary aneurysms", "Kawasaki disease", "contains"),
        ("Pulmonary tuberculosis", "Sarcoidosis", "none"),
        ("", "Sarcoidosis", "empty"),
    ],
)
def test_diagnosis_baseline_rules(pred, ref, rule):
    m = match_diagnosis(pred, ref)
    assert m.rule == rule and m.match == (rule not in ("none", "empty"))


def test_base_model_judge_completes_an_opened_verdict():
    from medevals.judging.judge import JudgeTask, _first_request, _repair_request, _reply_text
    from medevals.judging.verdicts import CriterionVerdict, parse_reply

    task = JudgeTask(templates.RUBRIC_CRITERION, "Grade this.", CriterionVerdict)
    req = _first_request(task, base=True)
    assert req.kind == "completion" and req.body["prompt"].endswith('Verdict JSON: {"criteria_met":')
    raw = {"choices": [{"text": " true", "finish_reason": "stop"}]}
    text = _reply_text(raw, True, CriterionVerdict)
    assert text == '{"criteria_met": true}' and parse_reply(text, CriterionVerdict)[0].criteria_met is True
    # whatever the model wrote is kept: "maybe" stays invalid JSON, not a guess
    bad = _reply_text({"choices": [{"text": " maybe", "finish_reason": "stop"}]}, True, CriterionVerdict)
    assert parse_reply(bad, CriterionVerdict)[0] is None
    rep = _repair_request(task, True, req, bad, "no JSON found")
    assert rep.body["prompt"].startswith(req.body["prompt"] + " maybe}")
    assert rep.body["prompt"].endswith('{"criteria_met":') and "could not be read" in rep.body["prompt"]


def test_base_model_judge_value_is_constrained_by_likelihood():
    from medevals.judging.judge import JudgeTask, _first_request, _reply_text
    from medevals.judging.verdicts import CriterionVerdict

    def raw(text, tops):
        content = [
            {"token": text, "logprob": -0.1, "top_logprobs": [{"token": t, "logprob": lp} for t, lp in tops]}
        ]
        return {"choices": [{"text": text, "logprobs": {"content": content}}]}

    assert (
        _first_request(JudgeTask(templates.RUBRIC_CRITERION, "x", CriterionVerdict), True).body["logprobs"]
        == 20
    )
    # the model writes "1", but of the two allowed literals it prefers " false"
    r = raw(" 1", [(" 1", -0.1), (" true", -3.0), (" false", -2.0), ("False", -2.5)])
    assert _reply_text(r, True, CriterionVerdict) == '{"criteria_met": false}'
    assert _reply_text(raw(" 1", [(" true", -1.0), (" false", -2.0)]), True, CriterionVerdict).endswith(
        "true}"
    )
    # neither literal among the top tokens: the model's own text stays (and fails validation)
    assert (
        _reply_text(raw(" 1", [(" 1", -0.1), (" 2", -2.0)]), True, CriterionVerdict) == '{"criteria_met": 1}'
    )
