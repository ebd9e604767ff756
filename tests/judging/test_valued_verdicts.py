"""Valued verdicts (ratings, marked lists, scores): base-model judges, stored records, agreement rows."""

from __future__ import annotations

from collections import Counter

from medevals.judging import judge
from medevals.judging.tables import collect
from medevals.judging.verdicts import AxesVerdict, EquivalenceVerdict, ScoreVerdict, read_record
from medevals.schema import Item, Sample


def completion(text: str, tops: dict[str, float] | None = None) -> dict:
    tops = tops or {}
    lp = {"tokens": [text], "token_logprobs": [tops.get(text, -9.0)], "top_logprobs": [tops]}
    return {"choices": [{"text": text, "logprobs": lp}]}


def test_base_judge_score_is_read_from_the_digit_with_the_highest_logprob():
    raw = completion(" 2", {" 2": -1.2, " 5": -0.3, " maybe": -0.1})
    text = judge._reply_text(raw, True, ScoreVerdict)
    assert text == '{"score": 5}'
    # no digit among the top tokens: the model's own text, read strictly (and failing)
    assert judge._reply_text(completion(" maybe"), True, ScoreVerdict) == '{"score": maybe}'
    # boolean verdicts keep their literals
    assert judge._reply_text(completion(" x", {" true": -2.0, " false": -1.0}), True, EquivalenceVerdict) == (
        '{"equivalent": false}'
    )


def test_base_judge_writes_a_structured_verdict_after_an_opened_brace():
    task = judge.JudgeTask(
        template="reference_axes@v1",
        prompt="Rate it.",
        schema=AxesVerdict,
        max_tokens=300,
        expect={"axes": ["a"]},
    )
    req = judge._first_request(task, True)
    assert req.body["prompt"].endswith("Verdict JSON: {") and req.body["max_tokens"] == 300
    assert "logprobs" not in req.body
    assert judge._reply_text(completion('"a": 4}'), True, AxesVerdict) == '{"a": 4}'


def test_stored_record_is_read_against_its_expectation():
    rec = {
        "role": "judge:0",
        "template": "reference_axes@v1",
        "attempts": ['{"accuracy": 3}', '{"accuracy": 4, "clarity": 2}'],
        "call_error": None,
        "expect": {"axes": ["accuracy", "clarity"], "scale": [1, 5]},
    }
    v = read_record(rec)
    assert v.ok and v.repaired and v.values == {"accuracy": 4.0, "clarity": 2.0} and v.label is None
    rec["attempts"] = ['{"accuracy": 3}']
    v = read_record(rec)
    assert not v.ok and v.kind == "invalid" and v.failure == "clarity: missing"


def test_collect_gives_one_label_per_named_value():
    def rec(role, reply):
        return {
            "role": role,
            "template": "statement_recall@v1",
            "attempts": [reply],
            "call_error": None,
            "expect": {"reference": 2, "answer": 1},
        }

    s = Sample(
        unit_id="u1",
        benchmark="b",
        item=Item(id="i", input="q"),
        output={
            "judgements": [
                {
                    "key": "statements",
                    "judges": {
                        "judge:0": rec("judge:0", '{"covered": [1], "contradicted": []}'),
                        "judge:1": rec("judge:1", '{"covered": [1, 2], "contradicted": [1]}'),
                        "judge:2": rec("judge:2", "no idea"),
                    },
                }
            ]
        },
    )
    labels, failures, _ = collect([s])
    assert labels[("u1", "statements:ref:2")] == {"judge:0": 0, "judge:1": 1}
    assert labels[("u1", "statements:ans:1")] == {"judge:0": 0, "judge:1": 1}
    assert failures[("judge:2", "malformed")] == 1 and failures == Counter(failures)
