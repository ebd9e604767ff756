"""Three published formats loaded from a spec as a new user would write it, no reshaping first.

Fixtures are small self-written files in each format: MedMCQA's release (JSON Lines in a ``.json``
file, options ``opa``..``opd``, ``cop`` 1-4, an explanation that leaks the answer), PubMedQA's
``ori_pqal.json`` (an object keyed by PMID, ``CONTEXTS`` a list of paragraphs, ``final_decision``
yes/no/maybe, ``LONG_ANSWER`` leaking it) and a BEIR folder. When the staged data is present the
same specs are also pointed at the real files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_fake
from fake_openai import _last_user_text
from retrieval.beirfix import write_beir

from medevals.benchmarks import base, registry

MEDMCQA_ROWS = [
    {
        "question": "Which vitamin deficiency causes scurvy?",
        "exp": "Ans-c. Vitamin C is needed for collagen.",
        "cop": 3,
        "opa": "Vitamin A",
        "opb": "Vitamin D",
        "opc": "Vitamin C",
        "opd": "Vitamin K",
        "subject_name": "Biochemistry",
        "topic_name": None,
        "id": "3f2a",
        "choice_type": "single",
    },
    {
        "question": "Drug of choice for absence seizures?",
        "exp": None,
        "cop": 1,
        "opa": "Ethosuximide",
        "opb": "Phenytoin",
        "opc": "Carbamazepine",
        "opd": "Lamotrigine",
        "subject_name": "Pharmacology",
        "topic_name": None,
        "id": "9b1c",
        "choice_type": "single",
    },
]

MEDMCQA_SPEC = """\
name: my-medmcqa
data: {data}
fields:
  id: id
  question: question
  options: [opa, opb, opc, opd]
  answer: cop
  subset: subject_name
answer_format: index1
"""

PUBMEDQA_DOC = {
    "21645374": {
        "QUESTION": "Do mitochondria play a role in remodelling lace plant leaves?",
        "CONTEXTS": ["Programmed cell death occurs in lace plants.", "Mitochondria were imaged."],
        "LABELS": ["BACKGROUND", "RESULTS"],
        "final_decision": "yes",
        "LONG_ANSWER": "Results show mitochondria do play a role.",
    },
    "16418930": {
        "QUESTION": "Is vitamin D intake linked to fracture risk in teenagers?",
        "CONTEXTS": ["A cohort of 500 teenagers."],
        "LABELS": ["METHODS"],
        "final_decision": "maybe",
        "LONG_ANSWER": "The evidence is unclear.",
    },
}

PUBMEDQA_SPEC = """\
name: my-pubmedqa
data: {data}
records: $
fields: {{id: _key, question: QUESTION, context: CONTEXTS, answer: final_decision}}
join: {{context: "\\n"}}
fixed_options: [yes, no, maybe]
answer_format: text
"""


def test_medmcqa_release_format_runs_as_written(fake_server, tmp_path, capsys):
    # MedMCQA ships JSON Lines under a .json name: read as such, not "invalid JSON (Extra data)"
    (tmp_path / "dev.json").write_text("".join(json.dumps(r) + "\n" for r in MEDMCQA_ROWS))
    spec = tmp_path / "medmcqa.yaml"
    spec.write_text(MEDMCQA_SPEC.format(data="dev.json"))
    items = list(base.load(registry.get(str(spec))).items)
    assert [(it.id, it.target, it.subset) for it in items] == [
        ("3f2a", "C", "Biochemistry"),
        ("9b1c", "A", "Pharmacology"),
    ]
    assert "collagen" not in json.dumps(
        [it.model_dump() for it in items]
    )  # the explanation never reaches an item

    def respond(path, body):
        return "The answer is (C)." if "scurvy" in _last_user_text(body) else "The answer is (B)."

    server = fake_server(responder=respond)
    code, out, err, folder = run_fake(server, tmp_path, capsys, "--mode", "generate", benchmark=str(spec))
    assert code == 0, err + out
    m = folder.read_metrics()["benchmarks"]["my-medmcqa"]
    assert m["metrics"]["accuracy"]["value"] == 0.5 and set(m["subsets"]) == {"Biochemistry", "Pharmacology"}


def test_pubmedqa_nested_json_runs_as_written(fake_server, tmp_path, capsys):
    (tmp_path / "ori_pqal.json").write_text(json.dumps(PUBMEDQA_DOC, indent=1))
    spec = tmp_path / "pubmedqa.yaml"
    spec.write_text(PUBMEDQA_SPEC.format(data="ori_pqal.json"))
    items = {it.id: it for it in base.load(registry.get(str(spec))).items}
    first = items["21645374"]
    assert first.choices == {"A": "yes", "B": "no", "C": "maybe"} and first.target == "A"
    assert first.context == "Programmed cell death occurs in lace plants.\nMitochondria were imaged."
    assert items["16418930"].target == "C"
    assert "do play a role" not in json.dumps(first.model_dump())  # LONG_ANSWER stays out

    server = fake_server(responder=lambda p, b: "The answer is (A).")
    code, out, err, folder = run_fake(server, tmp_path, capsys, "--mode", "generate", benchmark=str(spec))
    assert code == 0, err + out
    sent = [_last_user_text(r["body"]) for r in server.requests]
    assert any("Mitochondria were imaged." in t for t in sent)  # the joined context was shown
    assert folder.read_metrics()["benchmarks"]["my-pubmedqa"]["metrics"]["accuracy"]["value"] == 0.5


def test_beir_folder_runs_by_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "idx"))
    folder = write_beir(tmp_path / "nfcorpus-like")
    code, out, err, run = run_fake(
        None, tmp_path, capsys, "--retriever", "bm25", model=None, benchmark=str(folder)
    )
    assert code == 0, err + out
    assert (
        run.read_metrics()["benchmarks"]["beir-nfcorpus-like"]["extra"]["retrieval"]["bm25"]["ndcg@10"] == 1.0
    )


def test_the_same_specs_on_the_staged_files(shared_data, tmp_path):
    medmcqa = shared_data / "medmcqa" / "dev.json"
    pubmedqa = shared_data / "pubmedqa" / "ori_pqal.json"
    if not (medmcqa.is_file() and pubmedqa.is_file()):
        pytest.skip("staged medmcqa/pubmedqa files not present")
    a = tmp_path / "a.yaml"
    a.write_text(MEDMCQA_SPEC.format(data=medmcqa))
    b = tmp_path / "b.yaml"
    b.write_text(PUBMEDQA_SPEC.format(data=pubmedqa))
    assert len(base.load(registry.get(str(a))).items) == 4183
    got = base.load(registry.get(str(b))).items
    assert len(got) == 1000 and {it.target for it in got} == {"A", "B", "C"}


def test_json_lines_in_a_json_file_still_report_a_broken_line(tmp_path):
    from medevals.errors import DataError

    (tmp_path / "dev.json").write_text(json.dumps(MEDMCQA_ROWS[0]) + "\n" + '{"question": "trunc' + "\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(MEDMCQA_SPEC.format(data="dev.json"))
    with pytest.raises(DataError, match=r"dev.json:2: invalid JSON"):
        list(base.load(registry.get(str(spec))).items)


def test_spec_path_is_relative_to_the_spec(tmp_path):
    sub = tmp_path / "specs"
    sub.mkdir()
    (tmp_path / "dev.json").write_text("".join(json.dumps(r) + "\n" for r in MEDMCQA_ROWS))
    (sub / "s.yaml").write_text(MEDMCQA_SPEC.format(data="../dev.json"))
    assert len(base.load(registry.get(str(Path(sub / "s.yaml")))).items) == 2
