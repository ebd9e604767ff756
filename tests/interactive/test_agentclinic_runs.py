"""AgentClinic end to end against scripted fake doctor / patient / measurement / judge servers.

Line 1 of the base file (``test-medqa-1``) is a myasthenia gravis case: the doctor's objective
mentions double vision and the acetylcholine receptor antibody result is among the test
results, which do not name the diagnosis. Line 2 (progressive multifocal encephalopathy) is one
of the cases whose MRI finding states the diagnosis (flagged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_fake

from medevals.runs.folder import RunFolder

pytestmark = pytest.mark.usefixtures("shared_data")

MG_ID = "test-medqa-1"  # line 1: myasthenia gravis


def _msgs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("messages") or []


def system(body: dict[str, Any]) -> str:
    m = _msgs(body)
    return str(m[0]["content"]) if m and m[0]["role"] == "system" else ""


def kind(body: dict[str, Any]) -> str:
    s = system(body)
    if s.startswith("You are a patient"):
        return "patient"
    if s.startswith("You are a measurement reader"):
        return "measurement"
    if s.startswith("You are a doctor. Read the patient's case"):
        return "bound"
    if s.startswith("You are a doctor"):
        return "doctor"
    text = json.dumps(body)
    if "checking a predicted diagnosis" in text:
        return "judge"
    return "other"


def doctor_turn(body: dict[str, Any]) -> int:
    return sum(1 for m in _msgs(body) if m["role"] == "assistant")


def scripted(
    doctor: list[str],
    *,
    patient: str = "I have had double vision for a month.",
    measurement: str = "RESULTS: Acetylcholine receptor antibodies: present (elevated)",
    judge: str = '{"equivalent": true, "explanation": "same"}',
    bound: str = "DIAGNOSIS READY: Myasthenia gravis",
):
    def respond(path: str, body: dict[str, Any]) -> str:
        k = kind(body)
        if k == "patient":
            return patient
        if k == "measurement":
            return measurement
        if k == "judge":
            return judge
        if k == "bound":
            return bound
        return doctor[min(doctor_turn(body), len(doctor) - 1)]

    return respond


def run(server, tmp_path: Path, capsys, *extra: str, limit: int = 1):
    return run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        str(limit),
        *extra,
        benchmark="agentclinic",
        cache=tmp_path / "c.sqlite",
    )


def samples(folder: RunFolder, variant: str) -> list[Any]:
    return [s for s in folder.iter_samples() if s.variant == variant]


def test_doctor_asks_orders_a_test_and_diagnoses(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(
            [
                "How long have you had double vision?",
                "REQUEST TEST: Acetylcholine_Receptor_Antibodies",
                "DIAGNOSIS READY: Myasthenia gravis",
            ]
        )
    )
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--patient-model",
        "openai:fake",
        "--judge",
        "openai:fake",
        "--set",
        "turn_budgets=",
        "--strategy",
        "interactive",
    )
    assert code == 0, err
    (s,) = samples(folder, "turns20")
    out = s.output
    assert s.item.id == MG_ID
    assert out["stop"] == "answer" and out["turns"] == 3 and out["questions"] == 1
    assert out["tests"] == ["Acetylcholine_Receptor_Antibodies"]
    assert out["diagnosis"] == "Myasthenia gravis"
    assert [t["role"] for t in out["transcript"]] == [
        "case",
        "expert",
        "patient",
        "expert",
        "measurement",
        "expert",
    ]
    assert s.score.value == 1.0 and s.score.values["accuracy_string"] == 1.0
    assert s.score.values["tests_ordered"] == 1.0 and s.score.values["turns"] == 3.0
    assert s.score.values["judge:0"] == 1.0
    # not flagged: it counts in the accuracy without the cases whose results spell the diagnosis
    assert s.item.metadata["results_spell_diagnosis"] is False
    assert s.score.values["accuracy_without_flagged"] == 1.0
    roles = [c.role for c in s.calls]
    assert roles.count("patient") == 1 and roles.count("measurement") == 1 and roles.count("judge:0") == 1
    # the measurement agent defaults to the patient model (same server), recorded as its own role
    meas = next(c for c in s.calls if c.role == "measurement")
    assert meas.request["messages"][1]["content"] == "Acetylcholine_Receptor_Antibodies"
    assert "Acetylcholine Receptor Antibodies: Present (elevated)" in meas.request["messages"][0]["content"]
    # the doctor sees the objective only, and each reply comes back with the turns left
    doc = [r["body"] for r in server.requests if kind(r["body"]) == "doctor"]
    first_user = _msgs(doc[0])[1]["content"]
    assert "double vision" in first_user and "Acetylcholine" not in first_user
    assert _msgs(doc[1])[-1]["content"].startswith("Patient: I have had double vision")
    assert _msgs(doc[1])[-1]["content"].endswith("You have 19 turns left.")
    assert _msgs(doc[2])[-1]["content"].startswith("Measurement: RESULTS:")
    m = folder.read_metrics()["benchmarks"]["agentclinic"]
    assert m["skipped"]["n"] == 15 and "NEJM" in next(iter(m["skipped"]["reasons"]))
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert "Accuracy by turn budget" in titles


def test_keyword_patient_and_measurement_without_models(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(
            [
                "Do you have double vision?",
                "REQUEST TEST: Chest CT",
                "DIAGNOSIS READY: Lambert-Eaton syndrome",
            ]
        )
    )
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--set",
        "requires_judge=false",
        "--set",
        "turn_budgets=",
        "--strategy",
        "interactive",
    )
    assert code == 0, err
    (s,) = samples(folder, "turns20")
    out = s.output
    assert out["patient"] == "keyword" and out["measurement"] == "keyword"
    meas = out["transcript"][4]
    assert meas["role"] == "measurement"
    assert (
        meas["text"]
        == "RESULTS: Test results > Imaging > Chest CT > Findings: Normal, no thymoma or other masses detected."
    )
    # no judge: the string baseline headlines, and it says so
    assert s.score.value == 0.0 and s.score.values["accuracy_string"] == 0.0
    assert "string baseline" in s.score.explanation
    assert all(kind(r["body"]) == "doctor" for r in server.requests)


def test_doctor_that_never_diagnoses_exceeds_the_budget(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["Tell me more about your symptoms."]))
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--max-turns",
        "3",
        "--set",
        "turn_budgets=",
        "--set",
        "requires_judge=false",
        "--strategy",
        "interactive",
    )
    assert code == 0, err
    (s,) = samples(folder, "turns3")
    out = s.output
    assert out["stop"] == "no_diagnosis" and out["turns"] == 3 and out["questions"] == 2
    assert s.score.value == 0.0 and s.score.values["diagnosed"] == 0.0
    assert "no diagnosis within 3 turns" in s.score.explanation
    doc = [r["body"] for r in server.requests if kind(r["body"]) == "doctor"]
    assert len(doc) == 3  # no repair turn after the last one: the doctor gets exactly its budget
    assert _msgs(doc[-1])[-1]["content"].endswith(
        "This is your final turn: give your diagnosis as DIAGNOSIS READY: [diagnosis]."
    )


def test_malformed_judge_verdict_leaves_the_episode_unscored(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(["DIAGNOSIS READY: Myasthenia gravis"], judge="They look the same to me.")
    )
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--judge",
        "openai:fake",
        "--set",
        "turn_budgets=",
        "--strategy",
        "interactive",
        "--allow-errors",
    )
    assert code == 0, err
    (s,) = samples(folder, "turns20")
    assert s.score.value is None  # unscored, not wrong
    assert s.score.values["accuracy_string"] == 1.0  # the string baseline is still there
    judge_calls = [c for c in s.calls if c.role == "judge:0"]
    assert len(judge_calls) == 6  # 3 fresh calls, each with one repair turn
    m = folder.read_metrics()["benchmarks"]["agentclinic"]
    assert m["n_unscored"] == 1
    failures = next(t for t in m["extra"]["tables"] if t["title"].startswith("Judge failures"))
    assert failures["rows"]


def test_bounds_and_budget_variants(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(
            ["REQUEST TEST: Chest CT", "DIAGNOSIS READY: Myasthenia gravis"],
            bound="DIAGNOSIS READY: Botulism",
        )
    )
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--set",
        "requires_judge=false",
        "--max-turns",
        "4",
        "--set",
        "turn_budgets=2",
    )
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["agentclinic"]
    assert m["headline_variant"] == "turns4"
    assert set(m["variants"]) == {"turns4", "turns2", "full", "initial"}
    (full,) = samples(folder, "full")
    sent = full.calls[0].request["messages"][1]["content"]
    assert "Acetylcholine Receptor Antibodies" in sent and "Myasthenia" not in sent.split("Examinations")[0]
    (initial,) = samples(folder, "initial")
    assert initial.calls[0].request["messages"][1]["content"].startswith("Objective: Assess and diagnose")
    assert full.score.value == 0.0 and full.score.answer == "Botulism"
    (t2,) = samples(folder, "turns2")
    assert t2.output["turns"] == 2 and t2.score.value == 1.0
    budget = next(t for t in m["extra"]["tables"] if t["title"] == "Accuracy by turn budget")
    assert [r[0] for r in budget["rows"]] == [2, 4]
    assert m["extra"]["accuracy_by_budget"] == {"2": 1.0, "4": 1.0}


def test_diagnosis_never_reaches_patient_or_measurement(fake_server, tmp_path, capsys):
    """Every stored patient / measurement request of 6 cases, scanned for the case's diagnosis."""
    server = fake_server(
        responder=scripted(
            [
                "What brings you in today?",
                "REQUEST TEST: Physical examination",
                "REQUEST TEST: Blood tests",
                "REQUEST TEST: Imaging",
                "DIAGNOSIS READY: Unknown",
            ],
            patient="I feel unwell.",
            measurement="RESULTS: NORMAL READINGS",
        )
    )
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--patient-model",
        "openai:fake",
        "--set",
        "requires_judge=false",
        "--set",
        "turn_budgets=",
        "--strategy",
        "interactive",
        limit=6,
    )
    assert code == 0, err
    seen = {"patient": 0, "measurement": 0}
    for s in samples(folder, "turns20"):
        diagnosis = s.item.target.lower()
        flagged = s.item.metadata["results_spell_diagnosis"]
        for c in s.calls:
            if c.role not in seen:
                continue
            seen[c.role] += 1
            text = json.dumps(c.request, ensure_ascii=False).lower()
            if c.role == "patient" or not flagged:
                assert diagnosis not in text, (s.item.id, c.role)
            else:  # only where the case's own results state it, and only as those result lines
                results = " ".join(s.item.metadata["results"]).lower()
                assert text.count(diagnosis) == results.count(diagnosis)
    assert seen["patient"] == 6 and seen["measurement"] == 18
