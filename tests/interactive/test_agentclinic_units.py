"""AgentClinic units: reading doctor replies, the keyword measurement reader, the leak guard."""

from __future__ import annotations

import pytest

from medevals.protocols.agentclinic import AgentClinicOptions, AgentClinicProtocol, budget_of, parse_doctor
from medevals.protocols.patient_sim import NORMAL_READINGS, keyword_results, volunteered_diagnosis
from medevals.schema import Item


@pytest.mark.parametrize(
    ("text", "allow_ask", "kind", "value"),
    [
        ("DIAGNOSIS READY: Myasthenia gravis", True, "answer", "Myasthenia gravis"),
        ("I think we know. DIAGNOSIS READY: [Myasthenia gravis].", True, "answer", "Myasthenia gravis"),
        ("diagnosis ready: Graves disease\nLet us start treatment.", True, "answer", "Graves disease"),
        # upstream checks DIAGNOSIS READY before REQUEST TEST
        ("REQUEST TEST: TSH. DIAGNOSIS READY: Graves disease", True, "answer", "Graves disease"),
        ("REQUEST TEST: Chest_X-Ray", True, "test", "Chest_X-Ray"),
        ("Let me check. REQUEST TEST: [Complete blood count]", True, "test", "Complete blood count"),
        ("How long have you had the cough?", True, "ask", "How long have you had the cough?"),
        ("DIAGNOSIS READY:", True, "invalid", None),
        ("REQUEST TEST:", True, "invalid", None),
        ("", True, "invalid", None),
        ("<think>DIAGNOSIS READY: x</think>Any fever?", True, "ask", "Any fever?"),
        # the last turn accepts a diagnosis only
        ("How long have you had the cough?", False, "invalid", None),
        ("REQUEST TEST: TSH", False, "invalid", None),
        ("DIAGNOSIS READY: Hypothyroidism", False, "answer", "Hypothyroidism"),
    ],
)
def test_parse_doctor(text, allow_ask, kind, value):
    a = parse_doctor(text, allow_ask=allow_ask)
    assert a.kind == kind
    assert (a.answer if kind == "answer" else a.question) == value


RESULTS = [
    "Physical examination > Vital Signs > Temperature: 36.6°C",
    "Physical examination > Vital Signs > Heart Rate: 72 bpm",
    "Test results > Complete Blood Count > WBC: 7,000 /μL",
    "Test results > Complete Blood Count > Hemoglobin: 14 g/dL",
    "Test results > Blood Tests > TSH: 0.1 mU/L",
    "Test results > Imaging > Chest CT > Findings: Normal",
]


def test_keyword_measurement_returns_every_line_tied_at_the_best_match():
    r = keyword_results("Complete_Blood_Count", RESULTS)
    assert r.facts == [2, 3]
    assert r.text == "RESULTS: " + "; ".join(RESULTS[2:4])
    assert keyword_results("Vital signs", RESULTS).facts == [0, 1]
    assert keyword_results("TSH level", RESULTS).facts == [4]
    nothing = keyword_results("Lumbar puncture", RESULTS)
    assert nothing.text == NORMAL_READINGS and nothing.facts == []


def test_volunteered_diagnosis_only_when_not_in_what_the_agent_was_shown():
    item = Item(id="x", input="objective", target="Myasthenia gravis")
    assert volunteered_diagnosis("RESULTS: consistent with myasthenia gravis", item, RESULTS)
    assert not volunteered_diagnosis(
        "RESULTS: consistent with myasthenia gravis", item, ["Biopsy: myasthenia gravis"]
    )
    assert not volunteered_diagnosis("I have double vision.", item, RESULTS)
    mcq = Item(id="y", input="q", choices={"A": "Myasthenia gravis"}, target="A")
    assert not volunteered_diagnosis("myasthenia gravis", mcq, [])


def test_variants_budgets_and_options():
    p = AgentClinicProtocol(AgentClinicOptions())
    assert p.variants() == ["turns20", "turns10", "full", "initial"]
    p = AgentClinicProtocol(
        AgentClinicOptions(max_turns=5, turn_budgets="5,15", strategy="interactive,initial")
    )
    assert p.variants() == ["turns5", "turns15", "initial"]
    assert budget_of("turns15") == 15 and budget_of("full") is None
    with pytest.raises(ValueError, match="abstain"):
        AgentClinicOptions(abstain=True)
    with pytest.raises(ValueError, match="outside"):
        AgentClinicOptions(turn_budgets=[0])
