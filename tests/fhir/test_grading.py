"""Grader rules shared by both rule sets, and where the synthetic benchmark's ``sandbox`` rules differ.

The upstream rules themselves are pinned case by case in
``tests/conformance/test_medagentbench_conformance.py``.
"""

from __future__ import annotations

import copy

import pytest
from ehr_scripts import oracle_answer, oracle_posts

from medevals.fhir.grading import UNREADABLE, Episode, grade, upstream_episode
from medevals.fhir.tasks import TaskSpec

NOW = "2023-11-13T10:15:00+00:00"
BASE = "http://localhost:8080/fhir/"
SPECS = {
    3: TaskSpec(3, "S1", NOW, value_to_record="118/77 mmHg"),
    5: TaskSpec(5, "S1", NOW, lab_code="MG", ndc="0338-1715-40"),
    6: TaskSpec(6, "S1", NOW, lab_code="GLU"),
    8: TaskSpec(8, "S1", NOW, snomed="306181000000106", note_text="Situation: knee."),
    9: TaskSpec(9, "S1", NOW, lab_code="K", ndc="40032-917-01", loinc="2823-3"),
    10: TaskSpec(10, "S1", NOW, lab_code="A1C", loinc="4548-4"),
}
TRUTHS = {
    3: {"order": True},
    5: {"value": 1.2, "when": NOW, "order": True},
    6: {"value": 120.25, "n": 4},
    8: {"order": True},
    9: {"value": 3.1, "when": NOW, "order": True},
    10: {"value": 6.1, "when": "2021-03-02T08:00:00+00:00", "order": True},
}


def _episode(t: int, posts=None, answer=None, **kw) -> Episode:
    if posts is None:
        posts = [(BASE + r, p) for r, p in oracle_posts(SPECS[t], TRUTHS[t])]
    return Episode(
        finished=kw.get("finished", True),
        answer=oracle_answer(SPECS[t], TRUTHS[t]) if answer is None else answer,
        posts=posts,
        any_post=kw.get("any_post", bool(posts)),
    )


def _grade(t: int, ep: Episode, rules: str = "upstream"):
    return grade(SPECS[t], TRUTHS[t], ep, api_base=BASE, rules=rules)


@pytest.mark.parametrize("rules", ["upstream", "sandbox"])
@pytest.mark.parametrize("t", sorted(SPECS))
def test_oracle_posts_and_answers_pass(t: int, rules: str) -> None:
    g = _grade(t, _episode(t), rules)
    assert g.success, g.problems


def _mutated(t: int, index: int, path: list, value) -> list:
    posts = copy.deepcopy([(BASE + r, p) for r, p in oracle_posts(SPECS[t], TRUTHS[t])])
    node = posts[index][1]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return posts


@pytest.mark.parametrize("rules", ["upstream", "sandbox"])
@pytest.mark.parametrize(
    "t, index, path, value, needle",
    [
        (3, 0, ["valueString"], "118/78 mmHg", "valueString"),
        (3, 0, ["subject", "reference"], "Patient/S2", "subject"),
        (3, 0, ["effectiveDateTime"], "2023-11-13T10:15:00Z", "effectiveDateTime"),  # the exact string
        (3, 0, ["category", 0, "coding", 0, "display"], "vital signs", "category coding"),
        (3, 0, ["code"], {"text": "BP", "coding": [{"code": "85354-9"}]}, "code"),
        (5, 0, ["dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "value"], 1, "doseQuantity"),
        (
            5,
            0,
            ["dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "system"],
            "http://unitsofmeasure.org",
            "doseQuantity",
        ),
        (5, 0, ["dosageInstruction", 0, "doseAndRate", 0, "rateQuantity", "value"], 1, "rateQuantity"),
        (5, 0, ["dosageInstruction", 0, "route"], "iv", "route"),
        (5, 0, ["medicationCodeableConcept", "coding", 0, "code"], "0338-1715-41", "medication code"),
        (5, 0, ["status"], "draft", "status"),
        (8, 0, ["code", "coding", 0, "code"], "1234", "code"),
        (8, 0, ["note"], {"text": "something else"}, "note text"),
        (8, 0, ["priority"], "routine", "priority"),
        (9, 0, ["dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "value"], 30, "doseQuantity"),
        (9, 1, ["occurrenceDateTime"], "2023-11-13T08:00:00+00:00", "occurrenceDateTime"),
        (10, 0, ["authoredOn"], "2023-11-01T00:00:00+00:00", "authoredOn"),
    ],
)
def test_a_wrong_field_fails_the_task(t, index, path, value, needle, rules) -> None:
    g = _grade(t, _episode(t, posts=_mutated(t, index, path, value)), rules)
    assert not g.success and not g.writes_ok
    assert any(needle in p for p in g.problems), g.problems


@pytest.mark.parametrize(
    "t, index, path, value",
    [
        (5, 0, ["dosageInstruction", 0, "route"], {"text": "IV"}),  # the function spec's form
        (9, 0, ["dosageInstruction", 0, "route"], {"text": "Oral"}),
        (8, 0, ["note"], [{"text": "Situation: knee."}]),  # FHIR's list of Annotations
    ],
)
def test_fhir_forms_pass_only_under_the_sandbox_rules(t, index, path, value) -> None:
    ep = _episode(t, posts=_mutated(t, index, path, value))
    assert _grade(t, ep, "sandbox").success
    assert not _grade(t, ep, "upstream").success


def test_post_count_and_order() -> None:
    posts = [(BASE + r, p) for r, p in oracle_posts(SPECS[9], TRUTHS[9])]
    assert not _grade(3, _episode(3, posts=_episode(3).posts * 2)).success  # recorded twice
    assert not _grade(9, _episode(9, posts=posts[:1])).success  # medication without the recheck
    assert not _grade(9, _episode(9, posts=posts[::-1])).success  # the recheck before the medication
    no_order = {"value": 2.2, "when": NOW, "order": False}
    assert grade(SPECS[5], no_order, _episode(5, posts=[], answer=[]), api_base=BASE).success
    g = grade(SPECS[5], no_order, _episode(5), api_base=BASE)
    assert not g.success and "POST was made" in g.problems[0]
    # a POST attempt the sandbox rejected still fails a read-only task (any POST, as upstream)
    assert not _grade(6, Episode(True, [120.25], posts=[], any_post=True), "sandbox").success
    assert _grade(6, Episode(True, [120.25], posts=[], any_post=False), "sandbox").success


@pytest.mark.parametrize(
    "t, answer, ok",
    [
        (6, [120.3], True),  # averages within 0.1
        (6, [120.36], False),
        (6, ["120.25 mg/dL"], False),  # a JSON number, not a string
        (6, [120.25, 1], False),
        (6, [], False),
        (6, UNREADABLE, False),
        (5, [1.2], True),
        (5, [1.3], False),
        (5, [], True),  # "we only ask the model to check"
        (10, [6.1, "2021-03-02T08:00:00+00:00"], True),
        (10, [6.1, "2021-03-02T08:00:00Z"], False),  # the instant as recorded
        (10, [6.1, "2021-03-02"], False),
        (10, [6.1], False),
        (10, [], True),
        (10, [-1], False),
    ],
)
def test_answer_rules(t, answer, ok) -> None:
    g = _grade(t, _episode(t, answer=answer))
    assert g.answer_ok is ok and g.success is ok


def test_missing_values_expect_minus_one_and_lookup_by_the_answer_list() -> None:
    spec = TaskSpec(4, "S1", NOW, lab_code="MG")
    assert grade(spec, {"value": None}, Episode(True, [-1], [], False), api_base=BASE).success
    assert not grade(spec, {"value": None}, Episode(True, [0], [], False), api_base=BASE).success
    look = TaskSpec(1, None, NOW, name="A B", dob="1950-01-01")
    missing = {"mrn": None, "sol": ["Patient not found"]}
    assert grade(look, missing, Episode(True, ["Patient not found"], [], False), api_base=BASE).success
    assert not grade(
        look, {"sol": ["S1"]}, Episode(True, ["Patient not found"], [], False), api_base=BASE
    ).success
    assert grade(
        look, {"mrn": "S1"}, Episode(True, ["S1"], [], False), api_base=BASE
    ).success  # older targets
    a1c = TaskSpec(10, "S1", NOW, lab_code="A1C", loinc="4548-4")
    assert grade(a1c, {"value": None, "order": True}, _episode(10, answer=[-1]), api_base=BASE).success


def test_a_record_the_grader_cannot_read_fails_the_task() -> None:
    g = grade(SPECS[6], {"error": "Observation 0: KeyError"}, _episode(6), api_base=BASE)
    assert not g.success and "cannot read the record" in g.problems[0]


def test_no_finish_is_no_result() -> None:
    ep = upstream_episode(["GET http://x/Patient?identifier=S1"] * 9, max_rounds=8)
    assert not ep.finished and ep.end == "round-limit"
    g = grade(SPECS[3], TRUTHS[3], Episode(False, UNREADABLE, _episode(3).posts, True), api_base=BASE)
    assert not g.success and g.writes_ok and g.problems[0].startswith("no result")
