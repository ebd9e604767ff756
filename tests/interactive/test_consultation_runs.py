"""The interactive protocol end to end against scripted fake expert/patient servers.

Each test scripts the expert (and, where used, the model patient) through the fake
OpenAI-compatible server and checks what the run folder records: transcript, stop reason,
questions asked, facts elicited, scores, and that broken formats never crash the run.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli, run_fake

from medevals.runs.folder import RunFolder

#: Every test here reads ../shared/data/mediq (skipped when the data folder is absent).
pytestmark = pytest.mark.usefixtures("shared_data")

PATIENT_PREFIX = "You are a patient"


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("messages") or []


def is_patient(body: dict[str, Any]) -> bool:
    msgs = _messages(body)
    return bool(msgs) and str(msgs[0]["content"]).startswith(PATIENT_PREFIX)


def is_bound(body: dict[str, Any]) -> bool:
    msgs = _messages(body)
    return bool(msgs) and str(msgs[0]["content"]).startswith("You are a doctor answering")


def last_user(body: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in reversed(_messages(body)) if m["role"] == "user")


def expert_turn(body: dict[str, Any]) -> int:
    return sum(1 for m in _messages(body) if m["role"] == "assistant")


def scripted(expert: list[str], patient: list[str] | str = "I don't know.", bound: str = "ANSWER: C"):
    """Expert replies by turn (the last repeats); patient replies by call order (or one constant)."""
    state = {"patient": 0}

    def respond(path: str, body: dict[str, Any]) -> str:
        if is_patient(body):
            if isinstance(patient, str):
                return patient
            i = state["patient"]
            state["patient"] += 1
            return patient[min(i, len(patient) - 1)]
        if is_bound(body):
            return bound
        return expert[min(expert_turn(body), len(expert) - 1)]

    return respond


def run(server, tmp_path: Path, capsys, *extra: str, bench: str = "mediq-imedqa", limit: int = 1):
    return run_fake(
        server, tmp_path, capsys, "--limit", str(limit), *extra, benchmark=bench, cache=tmp_path / "c.sqlite"
    )


def samples(folder: RunFolder, variant: str = "interactive") -> list[Any]:
    return [s for s in folder.iter_samples() if s.variant == variant]


def test_ask_then_answer_with_keyword_patient(fake_server, tmp_path, capsys):
    """Item 0 of iMedQA: C is right; the keyword patient reveals the fever and culture facts."""
    server = fake_server(
        responder=scripted(["ASK: Do you have a fever?", "ASK: What did the culture show?", "ANSWER: C"])
    )
    code, _, err, folder = run(server, tmp_path, capsys, "--max-turns", "5")
    assert code == 0, err
    (s,) = samples(folder)
    out = s.output
    assert out["patient"] == "keyword" and out["stop"] == "answer" and out["questions"] == 2
    roles = [t["role"] for t in out["transcript"]]
    assert roles == ["case", "expert", "patient", "expert", "patient", "expert"]
    assert out["transcript"][2]["text"] == "Patient complains of fever."
    assert out["revealed"] == [2, 5]
    # The case shows the initial information only, never the rest of the vignette.
    assert "joint fluid" not in out["transcript"][0]["text"]
    assert s.score.value == 1.0 and s.score.answer == "C"
    # Facts 5..8 are not in the initial information; fact 5 was elicited: 1 of 4.
    assert s.score.values["facts_elicited"] == pytest.approx(0.25)
    assert s.score.values["relevant_facts_per_question"] == pytest.approx(0.5)
    # No patient model: every request went to the expert (2 questions + answer, + 2 bound calls).
    assert not any(is_patient(r["body"]) for r in server.requests)
    assert len(server.requests) == 5
    # The patient's reply reaches the expert as the next user turn, with the remaining budget.
    third = next(
        r["body"] for r in server.requests if not is_bound(r["body"]) and expert_turn(r["body"]) == 1
    )
    assert last_user(third) == "Patient: Patient complains of fever.\n\nYou may ask up to 4 more questions."
    extra = folder.read_metrics()["benchmarks"]["mediq-imedqa"]["extra"]
    assert extra["accuracy_by_variant"] == {"interactive": 1.0, "full": 1.0, "initial": 1.0}
    (plot,) = extra["plots"]
    names = [sr["name"] for sr in plot["series"]]
    assert names[0].startswith("interactive") and "full vignette (upper bound)" in names
    assert plot["series"][0]["points"] == [[2, 1.0]]


def test_bounds_see_full_vignette_and_initial_info(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ANSWER: A"], bound="ANSWER: C"))
    code, _, err, folder = run(server, tmp_path, capsys, "--strategy", "full,initial")
    assert code == 0, err
    bodies = [r["body"] for r in server.requests]
    assert len(bodies) == 2 and all(is_bound(b) for b in bodies)
    texts = sorted(last_user(b) for b in bodies)
    full = next(t for t in texts if "joint fluid" in t)
    initial = next(t for t in texts if "joint fluid" not in t)
    assert "antibiotic therapy" in full and initial.startswith("Patient information: A 21-year-old")
    m = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert m["metrics"]["accuracy_full_vignette"]["value"] == 1.0
    assert m["metrics"]["accuracy_initial_info"]["value"] == 1.0
    assert "accuracy_interactive" not in m["metrics"]


def test_model_patient_gets_facts_and_its_replies_count_as_elicited(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(
            ["ASK: What did the joint fluid culture show?", "ANSWER: C"],
            patient="The culture of my joint fluid shows a bacteria that does not ferment maltose.",
        )
    )
    code, _, err, folder = run(
        server, tmp_path, capsys, "--patient-model", "openai:fake", "--strategy", "interactive"
    )
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["patient"] == "model" and s.output["revealed"] is None
    patient_calls = [c for c in s.calls if c.role == "patient"]
    assert len(patient_calls) == 1
    system = patient_calls[0].request["messages"][0]["content"]
    assert "7. Bacteria does not ferment maltose." in system
    assert patient_calls[0].request["messages"][1]["content"] == "What did the joint fluid culture show?"
    # Options are never shown to the patient.
    assert "Ceftriaxone" not in json.dumps(patient_calls[0].request)
    # Facts 5 (culture shows a bacteria) and 6 (does not ferment maltose) are stated: 2 of 4 relevant.
    assert s.score.values["facts_elicited"] == pytest.approx(0.5)
    manifest = folder.read_manifest()
    assert manifest.roles["patient"].spec == "openai:fake"
    assert "patient_system" in manifest.benchmarks[0].templates
    assert manifest.benchmarks[0].templates["patient_version"] == "patient-v1"


def test_abstain_is_scored_wrong_and_counted(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ASK: Any fever?", "ABSTAIN"]))
    code, _, err, folder = run(server, tmp_path, capsys, "--strategy", "interactive", "--limit", "2")
    assert code == 0, err
    ss = samples(folder)
    assert {s.output["stop"] for s in ss} == {"abstain"}
    for s in ss:
        assert s.score.value == 0.0 and s.score.parsed and s.score.answer is None
        assert s.score.values["abstained"] == 1.0 and s.output["questions"] == 1
    m = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert m["metrics"]["abstained"]["value"] == 1.0 and m["n_unparseable"] == 0
    table = m["extra"]["tables"][0]
    row = table["rows"][0]
    assert row[table["columns"].index("abstention rate")]["value"] == 1.0


def test_abstention_off_makes_abstain_a_format_failure(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ABSTAIN"]))
    code, _, err, folder = run(
        server, tmp_path, capsys, "--strategy", "interactive", "--set", "abstain=false"
    )
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["stop"] == "format_failure" and not s.score.parsed
    assert "ABSTAIN" not in s.calls[0].request["messages"][0]["content"]


def test_max_turns_forces_an_answer(fake_server, tmp_path, capsys):
    def respond(path: str, body: dict[str, Any]) -> str:
        if is_bound(body):
            return "ANSWER: A"
        if "You may not ask more questions" in last_user(body):
            return "ANSWER: B"
        return f"ASK: Question number {expert_turn(body) + 1}?"

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, "--max-turns", "3", "--strategy", "interactive")
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["questions"] == 3 and s.output["forced"] is True and s.output["stop"] == "answer"
    assert s.score.answer == "B" and s.score.value == 0.0
    assert len(s.calls) == 4
    # Budget counts down in what the expert is told.
    users = [last_user(c.request) for c in s.calls]
    assert users[0].endswith("You may ask up to 3 more questions.")
    assert users[2].endswith("You may ask up to 1 more questions.")
    assert users[3].endswith("You may not ask more questions: reply ANSWER: <letter> or ABSTAIN.")


def test_asking_past_the_limit_gets_a_repair_then_fails(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ASK: Fever?", "ASK: Cough?", "ASK: Rash?"]))
    code, _, err, folder = run(server, tmp_path, capsys, "--max-turns", "1", "--strategy", "interactive")
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["stop"] == "format_failure" and s.output["questions"] == 1
    kinds = [(t["role"], t.get("action")) for t in s.output["transcript"]]
    assert kinds[-3:] == [("expert", "invalid"), ("harness", None), ("expert", "invalid")]
    assert s.score.value == 0.0 and s.score.parsed is False
    assert "asked with no questions left" in s.score.explanation


def test_format_failure_gets_one_repair_turn(fake_server, tmp_path, capsys):
    """Unreadable twice: recorded failure with transcript; unreadable once then fixed: answered."""
    server = fake_server(responder=scripted(["Let me think about this case.", "Still thinking."]))
    code, _, err, folder = run(server, tmp_path, capsys, "--strategy", "interactive,full")
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["stop"] == "format_failure" and len(s.calls) == 2
    repair = s.calls[1].request["messages"][-1]["content"]
    assert repair.startswith("Your reply did not follow the format") and "ASK: <question>" in repair
    assert s.output["transcript"][-1]["text"] == "Still thinking."
    m = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert m["n_errors"] == 0 and m["metrics"]["format_failure"]["value"] == 1.0
    assert m["n_unparseable"] == 1  # the interactive episode; the full-vignette bound answered

    server2 = fake_server(responder=scripted(["hmm", "ANSWER: C"]))
    code, _, err, folder2 = run(server2, tmp_path / "second", capsys, "--strategy", "interactive")
    assert code == 0, err
    (s2,) = samples(folder2)
    assert s2.output["stop"] == "answer" and s2.score.value == 1.0
    assert [t.get("repair") for t in s2.output["transcript"] if t["role"] == "expert"] == [False, True]


def test_patient_failure_is_unscored_not_a_crash(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ASK: What is wrong with me?", "ANSWER: C"], patient=""))
    code, _, err, folder = run(
        server, tmp_path, capsys, "--patient-model", "openai:fake", "--strategy", "interactive"
    )
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["stop"] == "patient_failure" and s.score.value is None
    assert s.output["transcript"][-1]["problem"] == "empty reply"
    assert len([c for c in s.calls if c.role == "patient"]) == 2
    m = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert m["n_unscored"] == 1 and m["n_errors"] == 0


def test_patient_naming_an_option_gets_repaired(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=scripted(
            ["ASK: Which antibiotic did I get?", "ANSWER: C"],
            patient=["You were given ceftriaxone.", "I don't know."],
        )
    )
    code, _, err, folder = run(
        server, tmp_path, capsys, "--patient-model", "openai:fake", "--strategy", "interactive"
    )
    assert code == 0, err
    (s,) = samples(folder)
    turn = next(t for t in s.output["transcript"] if t["role"] == "patient")
    assert turn["text"] == "I don't know." and turn["repaired"] is True
    assert turn["attempts"] == ["You were given ceftriaxone.", "I don't know."]
    assert s.output["stop"] == "answer"


def test_patient_model_option_without_a_patient_model_is_a_config_error(fake_server, tmp_path, capsys):
    server = fake_server()
    code, _, err, folder = run(server, tmp_path, capsys, "--set", "patient=model")
    assert code != 0 and "needs a patient model" in err and folder is None
    assert server.requests == []


def test_probes_give_accuracy_at_each_budget(fake_server, tmp_path, capsys):
    def respond(path: str, body: dict[str, Any]) -> str:
        if is_bound(body):
            return "ANSWER: C"
        if last_user(body).startswith("Pause the consultation"):
            return "ANSWER: A" if expert_turn(body) == 0 else "ANSWER: C"
        return ["ASK: Fever?", "ASK: Culture?", "ANSWER: C"][min(expert_turn(body), 2)]

    server = fake_server(responder=respond)
    code, _, err, folder = run(
        server, tmp_path, capsys, "--max-turns", "4", "--strategy", "interactive", "--set", "probe=true"
    )
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["probes"] == [[0, "A"], [1, "C"], [2, "C"]]
    curve = folder.read_metrics()["benchmarks"]["mediq-imedqa"]["extra"]["accuracy_at_budget"]
    assert [(p["k"], p["accuracy"]) for p in curve] == [(0, 0.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]


def _bag_embedding(text: str) -> list[float]:
    vec = [0.0] * 64
    for w in re.findall(r"[a-z]+", text.lower()):
        if len(w) > 3:
            vec[zlib.crc32(w.encode()) % 64] += 1.0
    return vec


def test_embedding_patient_uses_the_embedder_role(fake_server, tmp_path, capsys):
    def respond(path: str, body: dict[str, Any]) -> Any:
        if path.endswith("/embeddings"):
            data = [{"index": i, "embedding": _bag_embedding(t)} for i, t in enumerate(body["input"])]
            return {"object": "list", "data": data, "usage": {"prompt_tokens": 5, "total_tokens": 5}}
        return scripted(["ASK: What did the culture of joint fluid show?", "ANSWER: C"])(path, body)

    server = fake_server(responder=respond)
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--strategy",
        "interactive",
        "--set",
        "patient=embedding",
        "--set",
        "patient_top_k=1",
        "--embedder",
        "openai:fake",
    )
    assert code == 0, err
    (s,) = samples(folder)
    assert s.output["patient"] == "embedding"
    emb = [c for c in s.calls if c.role == "embedder"]
    assert len(emb) == 1 and emb[0].request["input"][0] == "What did the culture of joint fluid show?"
    assert s.output["revealed"] == [5]
    assert s.output["transcript"][2]["text"] == "Culture of joint fluid shows a bacteria."


def test_rescore_reproduces_scores_without_a_model(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ASK: Fever?", "ANSWER: C"]))
    code, _, err, folder = run(server, tmp_path, capsys, "--limit", "2")
    assert code == 0, err
    before = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    n = len(server.requests)
    code, _, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, err
    after = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert len(server.requests) == n
    assert after["metrics"] == before["metrics"] and after["extra"] == before["extra"]


def test_icraftmd_and_converted_medqa_run(fake_server, tmp_path, capsys):
    server = fake_server(responder=scripted(["ASK: Do you have a fever?", "ANSWER: A"], bound="ANSWER: A"))
    code, _, err, folder = run(server, tmp_path, capsys, bench="mediq-icraftmd", limit=2)
    assert code == 0, err
    assert {s.output["stop"] for s in samples(folder)} == {"answer"}
    code, _, err, folder = run(server, tmp_path / "medqa", capsys, bench="medqa-interactive", limit=2)
    assert code == 0, err
    (first, _) = samples(folder)
    assert first.item.metadata["fact_unit"] == "sentence"
    assert first.item.metadata["initial_info"] in first.output["transcript"][0]["text"]
