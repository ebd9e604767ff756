"""Pairwise judging rules, one row per case: MT-Bench's two-order rule for answers (Zheng et al.
2023: consistent preference wins, a preference plus a tie wins, inconsistent is a tie), the
triage accuracy per order, and how a verdict is read (1 / 2 / 0; anything else unreadable and
never a loss)."""

from __future__ import annotations

import pytest

from medevals.benchmarks.pairs import pair_item
from medevals.judging import templates
from medevals.protocols.pairwise import (
    PairwiseOptions,
    PairwiseProtocol,
    choice_of,
    mt_bench_points,
    reference_choice,
)

# (verdict a-then-b, verdict b-then-a) as the item chosen -> A's points
MT_BENCH = [
    ("a", "a", 1.0),
    ("a", "tie", 1.0),
    ("tie", "a", 1.0),
    ("b", "b", 0.0),
    ("tie", "b", 0.0),
    ("tie", "tie", 0.5),
    ("a", "b", 0.5),  # inconsistent: the judge followed the position
    ("b", "a", 0.5),
]


@pytest.mark.parametrize(("ab", "ba", "points"), MT_BENCH)
def test_mt_bench_rule(ab, ba, points):
    assert mt_bench_points(ab, ba) == points


@pytest.mark.parametrize(
    ("preferred", "order", "chosen"),
    [(1, "ab", "a"), (2, "ab", "b"), (1, "ba", "b"), (2, "ba", "a"), (0, "ab", "tie"), (None, "ab", None)],
)
def test_verdict_to_item(preferred, order, chosen):
    assert choice_of(preferred, order) == chosen


def record(*replies: str, call_error: str | None = None) -> dict:
    return {
        "role": "judge:0",
        "template": templates.PAIRWISE_ANSWERS,
        "attempts": list(replies),
        "call_error": call_error,
    }


def answers_output(ab: dict, ba: dict) -> dict:
    return {"orders": {"ab": {"judge:0": ab}, "ba": {"judge:0": ba}}}


ITEM = pair_item(id="x", a_id="A", a_text="a", b_id="B", b_text="b", question="q")
# (reply a-then-b, reply b-then-a, value): the judge's JSON as read by the judging machinery
ANSWERS = [
    ('{"explanation": "", "preferred": 1}', '{"explanation": "", "preferred": 2}', 1.0),
    ('{"preferred": 2}', '{"preferred": 1}', 0.0),
    ('{"preferred": 1}', '{"preferred": 1}', 0.5),
    ('{"preferred": 0}', '{"preferred": 2}', 1.0),
    ('```json\n{"preferred": 2, "explanation": "B"}\n```', '{"preferred": 0}', 0.0),
    ('{"preferred": "1"}', '{"preferred": 2}', None),  # a string is not a verdict: unscored
    ('{"preferred": 3}', '{"preferred": 2}', None),
    ("Answer 1 is better.", '{"preferred": 2}', None),  # no JSON: unscored, never a loss
]


@pytest.mark.parametrize(("ab", "ba", "value"), ANSWERS)
def test_answers_scoring(ab, ba, value):
    proto = PairwiseProtocol(PairwiseOptions(mode="answers"))
    sc = proto.score(ITEM, answers_output(record(ab), record(ba)), [])
    assert sc.value == value


def test_a_repaired_verdict_counts_and_a_failed_call_is_unscored():
    proto = PairwiseProtocol(PairwiseOptions(mode="answers"))
    repaired = record("Answer 1.", '{"preferred": 1}')
    assert proto.score(ITEM, answers_output(repaired, record('{"preferred": 2}')), []).value == 1.0
    failed = record(call_error="timeout")
    assert proto.score(ITEM, answers_output(failed, record('{"preferred": 2}')), []).value is None


TRIAGE = pair_item(
    id="t", a_id="m1", a_text="x", b_id="m2", b_text="y", criterion="more urgent", a_score=1, b_score=5
)


@pytest.mark.parametrize(
    ("ab", "ba", "value", "parsed"),
    [
        ('{"preferred": 2}', '{"preferred": 1}', 1.0, True),  # b both times
        ('{"preferred": 2}', '{"preferred": 2}', 0.5, True),  # followed the position once
        ('{"preferred": 0}', '{"preferred": 1}', 0.5, True),  # a tie is wrong unless the reference ties
        ('{"preferred": 1}', '{"preferred": 2}', 0.0, True),
        ("m2", '{"preferred": 1}', 0.5, False),  # the model under test: unreadable = wrong, counted
        ("?", "?", 0.0, False),
    ],
)
def test_triage_scoring(ab, ba, value, parsed):
    proto = PairwiseProtocol(PairwiseOptions())
    rec = lambda t: {"role": "candidate", "template": templates.PAIRWISE_ITEMS, "attempts": [t]}  # noqa: E731
    out = {"orders": {"ab": {"candidate": rec(ab)}, "ba": {"candidate": rec(ba)}}}
    sc = proto.score(TRIAGE, out, [])
    assert (sc.value, sc.parsed) == (value, parsed)


def test_reference_choice():
    assert reference_choice(TRIAGE) == "b"
    assert (
        reference_choice(pair_item(id="t", a_id="x", a_text="", b_id="y", b_text="", preferred="first"))
        == "a"
    )
    assert (
        reference_choice(pair_item(id="t", a_id="x", a_text="", b_id="y", b_text="", a_score=2, b_score=2))
        == "tie"
    )
