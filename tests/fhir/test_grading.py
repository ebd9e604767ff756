"""Grader rules: answers (tolerances, -1, dates) and writes (code, dose, patient, extra writes)."""

from __future__ import annotations

import copy

import pytest
from ehr_scripts import oracle_answer, oracle_posts

from medevals.fhir.grading import grade
from medevals.fhir.tasks import TaskSpec

NOW = "2023-11-13T10:15:00+00:00"
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


def _writes(t: int) -> list[dict]:
    return [{"resourceType": r, "payload": p} for r, p in oracle_posts(SPECS[t], TRUTHS[t])]


@pytest.mark.parametrize("t", sorted(SPECS))
def test_oracle_writes_and_answers_pass(t: int) -> None:
    g = grade(SPECS[t], TRUTHS[t], oracle_answer(SPECS[t], TRUTHS[t]), _writes(t))
    assert g.success, g.problems


def _mutated(t: int, index: int, path: list, value) -> list[dict]:
    ws = copy.deepcopy(_writes(t))
    node = ws[index]["payload"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return ws


@pytest.mark.parametrize(
    "t, index, path, value, needle",
    [
        (3, 0, ["valueString"], "118/78 mmHg", "valueString"),
        (3, 0, ["subject", "reference"], "Patient/S2", "subject"),
        (3, 0, ["effectiveDateTime"], "2023-11-12T10:15:00+00:00", "effectiveDateTime"),
        (5, 0, ["dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "value"], 1, "dose"),
        (5, 0, ["dosageInstruction", 0, "doseAndRate", 0, "rateQuantity", "value"], 1, "rate"),
        (5, 0, ["dosageInstruction", 0, "route", "text"], "oral", "route"),
        (5, 0, ["medicationCodeableConcept", "coding", 0, "code"], "0338-1715-41", "medication"),
        (5, 0, ["status"], "draft", "status"),
        (8, 0, ["code", "coding", 0, "code"], "1234", "code"),
        (8, 0, ["note"], {"text": "something else"}, "free text"),
        (8, 0, ["priority"], "routine", "priority"),
        (9, 0, ["dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "value"], 30, "dose"),
        (9, 1, ["occurrenceDateTime"], "2023-11-13T08:00:00+00:00", "occurrenceDateTime"),
        (10, 0, ["authoredOn"], "2023-11-01T00:00:00+00:00", "authoredOn"),
    ],
)
def test_a_wrong_field_fails_the_task(t, index, path, value, needle) -> None:
    g = grade(SPECS[t], TRUTHS[t], oracle_answer(SPECS[t], TRUTHS[t]), _mutated(t, index, path, value))
    assert not g.success and g.answer_ok and not g.writes_ok
    assert any(needle in p for p in g.problems), g.problems


def test_note_as_fhir_list_is_accepted_too() -> None:
    ws = _mutated(8, 0, ["note"], [{"text": "Situation: knee."}])
    assert grade(SPECS[8], TRUTHS[8], [], ws).success


def test_extra_or_missing_or_undue_writes_fail() -> None:
    assert not grade(SPECS[3], TRUTHS[3], [], _writes(3) * 2).success  # recorded twice
    assert not grade(SPECS[9], TRUTHS[9], [], _writes(9)[:1]).success  # med without the lab order
    no_order = {"value": 2.2, "when": NOW, "order": False}
    assert grade(SPECS[5], no_order, [], []).success
    g = grade(SPECS[5], no_order, [], _writes(5))
    assert not g.success and "expected 0" in g.problems[0]
    read_only = TaskSpec(6, "S1", NOW, lab_code="GLU")
    assert not grade(read_only, TRUTHS[6], [120.25], _writes(3)).success


@pytest.mark.parametrize(
    "t, answer, ok",
    [
        (6, [120.3], True),  # averages within 0.1
        (6, [120.5], False),
        (6, ["120.25 mg/dL"], True),
        (6, [], False),
        (6, None, False),
        (5, [1.2], True),  # optional answer, right when given
        (5, [1.3], False),
        (5, [], True),
        (10, [6.1, "2021-03-02T08:00:00+00:00"], True),
        (10, [6.1, "2021-03-02T08:00:00Z"], True),
        (10, [6.1, "2021-03-02"], True),
        (10, [6.1, "2021-03-03"], False),
        (10, [6.1], False),
        (10, [-1], False),
    ],
)
def test_answer_rules(t, answer, ok) -> None:
    g = grade(SPECS[t], TRUTHS[t], answer, _writes(t))
    assert g.answer_ok is ok


def test_missing_values_expect_minus_one_and_lookup_not_found() -> None:
    spec = TaskSpec(4, "S1", NOW, lab_code="MG")
    assert grade(spec, {"value": None}, [-1], []).success
    assert not grade(spec, {"value": None}, [0], []).success
    look = TaskSpec(1, None, NOW, name="A B", dob="1950-01-01")
    assert grade(look, {"mrn": None}, ["Patient not found"], []).success
    assert not grade(look, {"mrn": "S1"}, ["Patient not found"], []).success
    assert grade(look, {"mrn": "S1"}, ["S1"], []).success
    a1c = TaskSpec(10, "S1", NOW, lab_code="A1C", loinc="4548-4")
    assert grade(a1c, {"value": None, "order": True}, [-1], _writes(10)).success
