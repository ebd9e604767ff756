"""Every protocol from a YAML spec written in the test, run end to end through the CLI and the fake
server (scripted candidates and judges, malformed verdicts included: unscored and counted, never 0)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from clihelp import run_fake
from fake_openai import _last_user_text
from retrieval.beirfix import write_beir

from medevals.benchmarks import base, registry
from medevals.runs.folder import RunFolder


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))


def jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_spec(tmp_path: Path, text: str) -> str:
    p = tmp_path / "spec.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def run_spec(
    server, tmp_path, capsys, spec: str, *extra: str, judges=(), model: str | None = "openai:cand"
) -> RunFolder:
    args = ["--judge", ",".join(f"openai:{j}@{server.base_url}" for j in judges)] if judges else []
    code, out, err, folder = run_fake(
        server, tmp_path, capsys, *args, *extra, model=model, benchmark=spec, report=True
    )
    assert folder is not None, err + out
    assert code == 0, err + out
    return folder


def bench(folder: RunFolder) -> dict:
    (m,) = folder.read_metrics()["benchmarks"].values()
    return m


def table(m: dict, part: str) -> dict:
    found = [t for t in m["extra"]["tables"] if part in t["title"]]
    assert found, [t["title"] for t in m["extra"]["tables"]]
    return found[0]


def judge_row(m: dict, role: str) -> list:
    return next(r for r in table(m, "Judge failures")["rows"] if r[0] == role)


# --------------------------------------------------------------------------- freetext


def test_freetext_spec_axes_and_match_with_a_malformed_judge(fake_server, tmp_path, capsys):
    jsonl(
        tmp_path / "qa.jsonl",
        [
            {
                "qid": "m1",
                "question": {"text": "Can I take ibuprofen with warfarin?"},
                "answer": ["Avoid it:", "bleeding risk."],
                "meta": {"area": "anticoagulants"},
            },
            {
                "qid": "m2",
                "question": {"text": "What is the usual adult dose of paracetamol?"},
                "answer": ["500 mg to 1 g every 4-6 hours."],
                "meta": {"area": "analgesics"},
            },
        ],
    )
    spec = write_spec(
        tmp_path,
        """\
name: my-medqa-open
data: qa.jsonl
protocol: freetext
fields: {id: qid, input: question.text, reference: answer, metadata: {area: meta.area}}
join: {reference: " "}
options: {checks: [axes, match], breakdown: [area]}
""",
    )

    def respond(path, body):
        text = _last_user_text(body)
        if "# Criteria" in text:  # the axes template
            if body["model"] == "j1":
                return "The answer is good overall."  # malformed, every time
            return json.dumps(
                {a: {"score": 4, "explanation": "ok"} for a in ("accuracy", "completeness", "clarity")}
            )
        if "Predicted diagnosis:" in text:  # the match template
            return json.dumps({"equivalent": "bleeding" in text, "explanation": "x"})
        return "Avoid it: bleeding risk." if "warfarin" in text else "Two grams at once."

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec, judges=("j0", "j1"))
    s = {x.item.id: x for x in folder.iter_samples()}
    assert (
        s["m1"].item.target == "Avoid it: bleeding risk."
        and s["m1"].item.metadata["area"] == "anticoagulants"
    )
    # axes: j1 never answered, so the jury is j0 alone (4 on every axis -> 0.75); match by the jury
    assert s["m1"].score.values["axis:accuracy"] == 4.0 and s["m1"].score.values["jury_score"] == 0.75
    assert s["m1"].score.values["match"] == 1.0 and s["m2"].score.values["match"] == 0.0
    assert s["m1"].score.values["rouge1"] == pytest.approx(1.0)
    m = bench(folder)
    assert m["metrics"]["jury_score"]["value"] == pytest.approx(0.75)
    assert judge_row(m, "judge:1")[4] == 2  # two malformed judgements, never a rating
    assert table(m, "By area")
    assert "reference_axes@v1" in folder.read_manifest().benchmarks[0].templates


# --------------------------------------------------------------------------- open diagnosis


def test_open_diagnosis_spec_with_a_malformed_verdict(fake_server, tmp_path, capsys):
    with (tmp_path / "cases.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "presentation", "final_dx"])
        w.writerow(
            [
                "c1",
                " ".join(["A child with fever for five days."] * 6) + " Strawberry tongue noted.",
                "Kawasaki disease",
            ]
        )
    spec = write_spec(
        tmp_path,
        "name: my-cases\ndata: cases.csv\nprotocol: open-diagnosis\nfields: {id: case_id, case: presentation, diagnosis: final_dx}\n",
    )

    def respond(path, body):
        text = _last_user_text(body)
        if "Predicted diagnosis:" in text:
            if "Measles" in text:
                return "Hard to say."  # malformed: the partial-case judgement stays unscored
            return json.dumps({"equivalent": True, "explanation": "same"})
        return "Kawasaki disease" if "Strawberry" in text else "Measles"

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec, judges=("j0",))
    by_variant = {x.variant: x for x in folder.iter_samples()}
    assert by_variant["full"].score.value == 1.0
    assert by_variant["first20pct"].score.value is None  # judge failure: unscored, not wrong
    assert by_variant["first20pct"].score.values.get("baseline") == 0.0
    m = bench(folder)
    assert m["n_unscored"] == 1 and judge_row(m, "judge:0")[4] == 1


# --------------------------------------------------------------------------- rubric (generic rubric file)


def test_generic_rubric_file_runs_without_python(fake_server, tmp_path, capsys):
    rows = [
        {
            "prompt": "I cut my finger, it will not stop bleeding.",
            "rubric": [
                {"criterion": "Advises firm pressure.", "points": 5},
                {
                    "criterion": "Recommends care if bleeding lasts over 10 minutes.",
                    "points": 3,
                    "tags": ["axis:accuracy"],
                },
                {"criterion": "Suggests a tourniquet first.", "points": -4},
            ],
        },
        {
            "prompt": [{"role": "user", "content": "Headache for a week."}],
            "rubric": [
                {"criterion": "Asks about red flags. BAD", "points": 5},
            ],
        },
    ]
    (tmp_path / "rubrics.json").write_text(json.dumps({"set": "local", "examples": rows}, indent=1))
    spec = write_spec(
        tmp_path,
        "name: my-rubrics\ndata: rubrics.json\nrecords: examples\nprotocol: rubric\nfields: {prompt: prompt, rubrics: rubric}\n",
    )

    def respond(path, body):
        text = _last_user_text(body)
        if "# Rubric criterion" not in text:
            return "Press firmly; seek care if it bleeds over 10 minutes."
        crit = text.split("# Rubric criterion\n", 1)[1].split("\n", 1)[0]
        if "BAD" in crit:
            return "criteria_met = true"  # malformed every time: the conversation is unscored
        return json.dumps({"explanation": "x", "criteria_met": "tourniquet" not in crit})

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec, judges=("j0",))
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["1"].score.value == pytest.approx(8 / 8) and s["1"].item.target[0]["tags"] == []
    assert s["2"].score.value is None
    m = bench(folder)
    assert m["primary"] == "score" and m["n_unscored"] == 1 and judge_row(m, "judge:0")[4] == 1


# --------------------------------------------------------------------------- NER


def test_ner_spec_numeric_tags_and_an_iob_file(fake_server, tmp_path, capsys):
    jsonl(
        tmp_path / "ner.jsonl",
        [
            {
                "id": "s1",
                "tokens": ["Aspirin", "relieves", "migraine", "headache", "."],
                "ner_tags": [0, 0, 1, 2, 0],
            },
            {"id": "s2", "tokens": ["No", "disease", "here", "."], "ner_tags": [0, 0, 0, 0]},
        ],
    )
    spec = write_spec(
        tmp_path,
        """\
name: my-ner
data: ner.jsonl
protocol: ner
fields: {id: id, tokens: tokens, tags: ner_tags}
tag_names: [O, B-Disease, I-Disease]
options: {types: [Disease]}
""",
    )

    def respond(path, body):
        text = _last_user_text(body)
        if "migraine" in text:
            return json.dumps({"entities": [{"text": "migraine headache", "type": "Disease"}]})
        return json.dumps({"entities": [{"text": "disease", "type": "Disease"}]})  # one spurious

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec)
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["s1"].item.target == [{"type": "Disease", "start": 2, "end": 3}]
    assert s["s1"].score.value == 1.0 and s["s2"].score.value == 0.0
    f1 = bench(folder)["extra"]["f1"]["strict"]
    assert f1["value"] == pytest.approx(2 * 0.5 * 1.0 / 1.5)  # P 1/2, R 1/1

    (tmp_path / "sents.iob").write_text("Aspirin\tO\ncures\tO\nfever\tB-Disease\n\nNothing\tO\n")
    iob = tmp_path / "iob.yaml"
    iob.write_text("name: my-iob\ndata: sents.iob\nprotocol: ner\noptions: {types: [Disease]}\n")
    items = list(base.load(registry.get(str(iob))).items)
    assert [it.target for it in items] == [[{"type": "Disease", "start": 2, "end": 2}], []]


# --------------------------------------------------------------------------- retrieval


def test_retrieval_spec_from_a_queries_file_and_a_corpus_file(tmp_path, capsys):
    jsonl(
        tmp_path / "questions.jsonl",
        [
            {"qid": 1, "question": "which drug treats diabetes", "gold": ["D2"]},
            {"qid": 2, "question": "what lowers cholesterol", "gold": {"D3": 2, "D1": 0}},
        ],
    )
    with (tmp_path / "docs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["doc", "heading", "body"])
        w.writerows(
            [
                ["D1", "Aspirin", "aspirin reduces fever and pain"],
                ["D2", "Insulin", "insulin treats diabetes mellitus"],
                ["D3", "Statins", "statins lower blood cholesterol"],
            ]
        )
    spec = write_spec(
        tmp_path,
        """\
name: my-retrieval
data: questions.jsonl
protocol: retrieval
fields: {id: qid, query: question, relevant: gold}
corpus: docs.csv
corpus_fields: {id: doc, text: body, title: heading}
""",
    )
    folder = run_spec(None, tmp_path, capsys, spec, "--retriever", "bm25", model=None)
    m = bench(folder)
    assert m["extra"]["retrieval"]["bm25"]["ndcg@10"] == pytest.approx(1.0)
    assert {x.item.id: x.item.target for x in folder.iter_samples()} == {
        "1": {"D2": 1},
        "2": {"D3": 2, "D1": 0},
    }


def test_retrieval_spec_over_a_beir_folder(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    spec = write_spec(
        tmp_path,
        "name: my-beir\ndata: beir\nprotocol: retrieval\ntaxonomy: {category: Research, subcategory: Search}\nlicense: CC0\n",
    )
    folder = run_spec(None, tmp_path, capsys, spec, "--retriever", "bm25", model=None)
    rec = folder.read_manifest().benchmarks[0]
    assert rec.name == "my-beir" and rec.license == "CC0" and rec.n_items == 3
    assert bench(folder)["extra"]["retrieval"]["bm25"]["ndcg@10"] == pytest.approx(1.0)


def test_retrieval_spec_errors(tmp_path):
    from medevals.errors import DataError

    jsonl(tmp_path / "q.jsonl", [{"q": "x", "rel": "nope"}])
    jsonl(tmp_path / "c.jsonl", [{"i": "a", "t": "alpha"}, {"i": "a", "t": "beta"}])
    text = "name: r\ndata: q.jsonl\nprotocol: retrieval\nfields: {query: q, relevant: rel}\ncorpus: c.jsonl\ncorpus_fields: {id: i, text: t}\n"
    p = write_spec(tmp_path, text)
    with pytest.raises(DataError, match=r"c.jsonl:2: field 'i': duplicate item id 'a' \(first on line 1\)"):
        list(base.load(registry.get(p)).items)
    jsonl(tmp_path / "c.jsonl", [{"i": "a", "t": "alpha"}])
    with pytest.raises(DataError, match=r"q.jsonl:1: field 'rel': document 'nope' is not in the corpus"):
        list(base.load(registry.get(p)).items)
    Path(p).write_text(text.replace("corpus_fields: {id: i, text: t}\n", ""))
    with pytest.raises(DataError, match=r"field 'corpus_fields': a queries file needs corpus"):
        registry.get(p)


# --------------------------------------------------------------------------- error detection


def test_error_detection_spec(fake_server, tmp_path, capsys):
    jsonl(
        tmp_path / "notes.jsonl",
        [
            {
                "id": "n1",
                "sents": ["Patient has a sore throat.", "Started on insulin for strep throat."],
                "err": 1,
                "fix": "Started on penicillin for strep throat.",
            },
            {"id": "n2", "sents": ["Patient has a cough.", "Advised rest."], "err": -1, "fix": None},
        ],
    )
    spec = write_spec(
        tmp_path,
        "name: my-medec\ndata: notes.jsonl\nprotocol: error-detection\nfields: {id: id, text: sents, sentence_id: err, correction: fix}\n",
    )

    def respond(path, body):
        text = _last_user_text(body)
        assert "0 Patient has" in text and "\n1 " in text  # sentences numbered from 0, one per line
        return "1 Started on penicillin for strep throat." if "insulin" in text else "CORRECT"

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec)
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["n1"].item.target["error_sentence"] == "Started on insulin for strep throat."
    for uid in ("n1", "n2"):
        v = s[uid].score.values
        assert (v["flag_accuracy"], v["sentence_accuracy"], v["correction_rouge1"]) == (
            1.0,
            1.0,
            pytest.approx(1.0),
        )
    assert bench(folder)["metrics"]["flag_accuracy"]["value"] == 1.0


# --------------------------------------------------------------------------- pairwise (triage pairs)

TRIAGE = {  # message -> clinician's urgency (higher = more urgent); never shown to the model
    "Crushing chest pain since an hour, sweating.": 5,
    "Sudden weakness of the left arm and slurred speech.": 4,
    "Fever 39.5 and a stiff neck.": 3,
    "Ankle swollen after a fall yesterday.": 2,
    "Please renew my statin prescription.": 1,
}


def _triage_rows() -> list[dict]:
    import itertools

    msgs = list(TRIAGE)
    rows = []
    for n, (x, y) in enumerate(itertools.combinations(range(len(msgs)), 2)):
        rows.append(
            {
                "pair": f"p{n}",
                "first": {"msg_id": f"m{x}", "body": msgs[x], "urgency": TRIAGE[msgs[x]]},
                "second": {"msg_id": f"m{y}", "body": msgs[y], "urgency": TRIAGE[msgs[y]]},
                "label": "1" if TRIAGE[msgs[x]] > TRIAGE[msgs[y]] else "2",
            }
        )
    return rows


PAIR_SPEC = (
    "name: my-triage\ndata: pairs.jsonl\nprotocol: pairwise\n"
    "fields: {id: pair, a_id: first.msg_id, a_text: first.body, b_id: second.msg_id, b_text: second.body,\n"
    "         preferred: label, a_score: first.urgency, b_score: second.urgency}\n"
    "options: {criterion: more urgent, bootstrap: 50}\n"
)


def test_pairwise_spec_triage_pairs_from_a_users_jsonl(fake_server, tmp_path, capsys):
    jsonl(tmp_path / "pairs.jsonl", _triage_rows())
    spec = write_spec(tmp_path, PAIR_SPEC)
    prompts: list[str] = []

    def respond(path, body):
        text = _last_user_text(body)
        prompts.append(text)
        first = text.split("# Item 1", 1)[1].split("# Item 2", 1)[0]
        second = text.split("# Item 2", 1)[1]
        (u1,) = [u for m, u in TRIAGE.items() if m in first]
        (u2,) = [u for m, u in TRIAGE.items() if m in second]
        if {u1, u2} == {1, 2}:  # can't tell the two least urgent apart: always the first shown
            return json.dumps({"explanation": "x", "preferred": 1})
        return json.dumps({"explanation": "x", "preferred": 1 if u1 > u2 else 2})

    server = fake_server(responder=respond)
    folder = run_spec(server, tmp_path, capsys, spec)
    assert len(prompts) == 20  # 10 pairs x both orders
    assert all("more urgent" in p for p in prompts)
    assert not any("urgency" in p or "label" in p for p in prompts)  # the reference stays hidden
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["p0"].item.metadata["a"] == {"id": "m0", "text": next(iter(TRIAGE))}
    assert s["p0"].item.target == "a" and s["p0"].item.metadata["reference"] == {"a": 5.0, "b": 4.0}
    m = bench(folder)
    # 9 pairs right in both orders; the (2, 1) pair right in one order only
    assert m["metrics"]["accuracy"]["value"] == pytest.approx((9 + 0.5) / 10)
    extra = m["extra"]
    bt = extra["bradley_terry"]
    assert sorted(bt, key=lambda k: -bt[k]["value"])[:3] == ["m0", "m1", "m2"]
    assert bt["m3"]["value"] == pytest.approx(bt["m4"]["value"])  # one win each: tied strengths
    assert bt["m2"]["value"] > bt["m3"]["value"]
    assert extra["kendall_tau"] == pytest.approx(9 / 90**0.5)  # tau-b: 9 concordant, 1 tie, 0 discordant
    assert table(m, "Bradley-Terry strengths")["rows"][0][0] == "m0"


def test_pairwise_spec_texts_as_ids_and_a_preference_field(fake_server, tmp_path, capsys):
    rows = [
        {"q": "Which note needs a call back today?", "x": "Chest pain.", "y": "Refill request.", "win": "a"},
        {"q": "Which note needs a call back today?", "x": "Refill request.", "y": "Rash.", "win": "tie"},
    ]
    jsonl(tmp_path / "pairs.jsonl", rows)
    spec = write_spec(
        tmp_path,
        "name: t\ndata: pairs.jsonl\nprotocol: pairwise\n"
        "fields: {a_text: x, b_text: y, preferred: win, question: q}\n"
        "options: {criterion: more urgent, task: 'Triage these portal messages.'}\n",
    )

    def respond(path, body):
        text = _last_user_text(body)
        assert text.startswith("Triage these portal messages.\n\nWhich note needs a call back today?")
        return json.dumps({"explanation": "x", "preferred": 0 if "Rash" in text else 1})

    folder = run_spec(fake_server(responder=respond), tmp_path, capsys, spec)
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["1"].score.value == 0.5 and s["2"].score.value == 1.0  # chest pain first only; tie both orders
    assert set(bench(folder)["extra"]["bradley_terry"]) == {"Chest pain.", "Refill request.", "Rash."}


@pytest.mark.parametrize(
    ("spec_tail", "rows", "message"),
    [
        (
            "fields: {a_text: x, b_text: y}\noptions: {criterion: more urgent}\n",
            [{"x": "a", "y": "b"}],
            r"s.yaml:4: field 'fields.preferred': Field required: the reference",
        ),
        (
            "fields: {a_text: x, b_text: y, preferred: w}\n",
            [{"x": "a", "y": "b", "w": "a"}],
            r"s.yaml:4: field 'fields.criterion': say what is compared",
        ),
        (
            "fields: {a_text: x, b_text: y, a_score: s}\noptions: {criterion: more urgent}\n",
            [{"x": "a", "y": "b", "s": 1}],
            r"s.yaml:4: field 'fields.b_score': reference scores need both",
        ),
        (
            "fields: {a_text: x, b_text: y, preferred: w}\noptions: {criterion: c, mode: answers}\n",
            [{"x": "a", "y": "b", "w": "a"}],
            r"s.yaml:5: field 'options.mode': .*medevals compare",
        ),
        (
            "fields: {a_text: x, b_text: y, preferred: w}\noptions: {criterion: c}\n",
            [{"x": "a", "y": "b", "w": "a"}, {"x": "a", "y": "c", "w": "left"}],
            r"pairs.jsonl:2: field 'w': preferred 'left' is not a, b or tie",
        ),
        (
            "fields: {a_text: x, b_text: y, a_score: s.0, b_score: s.1}\noptions: {criterion: c}\n",
            [{"x": "a", "y": "b", "s": [2, 1]}, {"x": "c", "y": "a", "s": [3, 1]}],
            r"pairs.jsonl:2: field 's.1': item 'a' has reference score 1.0 here and 2.0 on line 1",
        ),
        (
            "fields: {a_text: x, b_text: y, preferred: w, a_score: s.0, b_score: s.1}\noptions: {criterion: c}\n",
            [{"x": "a", "y": "b", "w": "b", "s": [2, 1]}],
            r"pairs.jsonl:1: field 'w': preferred is 'b' but the scores \(2, 1\) say 'a'",
        ),
        (
            "fields: {a_text: x, b_text: y, a_score: s.0, b_score: s.1}\noptions: {criterion: c}\n",
            [{"x": "a", "y": "b", "s": [2, "high"]}],
            r"pairs.jsonl:1: field 's.1': expected a number, got 'high'",
        ),
    ],
)
def test_pairwise_spec_errors_name_file_line_and_field(tmp_path, spec_tail, rows, message):
    from medevals.benchmarks.custom import load_spec
    from medevals.errors import DataError

    jsonl(tmp_path / "pairs.jsonl", rows)
    p = tmp_path / "s.yaml"
    p.write_text("name: t\ndata: pairs.jsonl\nprotocol: pairwise\n" + spec_tail, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        bench = load_spec(p)
        list(bench.load_local(tmp_path, "test"))


# --------------------------------------------------------------------------- long documents


def _notes(n: int = 16) -> list[dict]:
    rows = []
    for i in range(n):
        filler = " ".join(f"f{i}w{j}" for j in range(30))
        rows.append(
            {
                "pid": f"pt{i}",
                "q": f"What was the potassium of patient {i}?",
                "opts": ["3.1 mmol/L", "4.2 mmol/L", "5.9 mmol/L"],
                "key": i % 3,
                "notes": [
                    {
                        "id": f"lab{i}",
                        "title": f"Labs {i}",
                        "text": f"Patient {i} potassium {['3.1', '4.2', '5.9'][i % 3]}. {filler}",
                    },
                    {"id": f"dis{i}", "text": f"Discharge note of patient {i}: stable. {filler}"},
                ],
                "evidence": [f"lab{i}"],
            }
        )
    return rows


def _longdoc_reader(path, body):
    text = _last_user_text(body)
    import re as _re

    who = _re.search(r"potassium of patient (\d+)\?", text).group(1)
    found = _re.search(rf"Patient {who} potassium (\d\.\d)", text)
    options = dict(_re.findall(r"^([A-Z])\. (.+)$", text, _re.M))
    want = f"{found.group(1)} mmol/L" if found else "Question cannot be answered with provided documents"
    letter = next(k for k, v in options.items() if v.strip() == want)
    return f"The answer is ({letter})."


def test_longdoc_spec_answerable_and_unanswerable_pairs_from_a_users_file(fake_server, tmp_path, capsys):
    jsonl(tmp_path / "notes.jsonl", _notes())
    spec = write_spec(
        tmp_path,
        "name: my-notes-qa\ndata: notes.jsonl\nprotocol: longdoc\n"
        "fields: {id: pid, question: q, options: opts, answer: key, documents: notes, answer_docs: evidence}\n"
        "answer_format: index0\noptions: {budgets: [1k, 2k], mode: generate}\n",
    )
    folder = run_spec(fake_server(responder=_longdoc_reader), tmp_path, capsys, spec, "--limit", "8")
    samples = list(folder.iter_samples(ordered=True))
    assert len(samples) == 16 and {s.variant for s in samples} == {"1k", "2k"}  # 4 rows x 2 items x 2 budgets
    for s in samples:
        row = s.item.metadata["pair"]
        n = row.removeprefix("pt")
        assert s.item.metadata["answer_docs"] == [f"lab{n}"]
        assert f"dis{n}" not in s.output["documents"]  # the row's own notes are never distractors
        assert (f"lab{n}" in s.output["documents"]) is s.item.metadata["answerable"]
        assert s.score.value == 1.0
    m = bench(folder)
    assert m["metrics"]["abstention_accuracy"]["value"] == 1.0
    assert m["metrics"]["answerable_accuracy"]["value"] == 1.0


def test_longdoc_spec_string_documents_by_position_and_errors(tmp_path):
    from medevals.benchmarks.custom import load_spec
    from medevals.errors import DataError

    rows = [{"q": "Q?", "o": ["x", "y"], "a": "A", "d": ["first doc", "second doc"], "e": 2}]
    jsonl(tmp_path / "d.jsonl", rows)
    p = tmp_path / "s.yaml"
    base = "name: t\ndata: d.jsonl\nprotocol: longdoc\n"
    p.write_text(base + "fields: {question: q, options: o, answer: a, documents: d, answer_docs: e}\n")
    ans, twin = list(load_spec(p).load_local(tmp_path, "test"))
    assert ans.metadata["answer_docs"] == ["1/2"] and ans.metadata["exclude_docs"] == ["1/1", "1/2"]
    assert twin.id == "1~unanswerable" and twin.target == "C" and ans.target == "A"
    rows[0]["e"] = 3
    jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataError, match=r"d.jsonl:1: field 'e': '3' is not one of this row's documents"):
        list(load_spec(p).load_local(tmp_path, "test"))
    p.write_text(base + "fields: {question: q, options: o, answer: a, documents: d, context: c}\n")
    with pytest.raises(DataError, match=r"s.yaml:4: field 'fields.context': protocol longdoc builds"):
        load_spec(p)


# --------------------------------------------------------------------------- step verification


def _checker(path, body):
    """A verifier that recomputes every 'a * b = c' step and names the first wrong one."""
    import re as _re

    text = _last_user_text(body)
    for n, a, b, c in _re.findall(r"^\[(\d+)\] .*?(\d+) \* (\d+) = (\d+)", text, _re.M):
        if int(a) * int(b) != int(c):
            return json.dumps({"first_wrong_step": int(n), "explanation": "x"})
    return json.dumps({"first_wrong_step": "none", "explanation": "x"})


def test_step_verify_spec_chains_from_a_users_file(fake_server, tmp_path, capsys):
    rows = [
        {
            "id": "c1",
            "q": "Dose for 70 kg at 2 mg/kg?",
            "chain": ["Weight is 70 kg.", "Dose: 70 * 2 = 140"],
            "bad": None,
        },
        {
            "id": "c2",
            "q": "Dose for 60 kg at 3 mg/kg?",
            "chain": ["Weight is 60 kg.", "Dose: 60 * 3 = 190"],
            "bad": 2,
            "kind": "arithmetic",
        },
        {
            "id": "c3",
            "q": "Two doses of 25 mg?",
            "chain": "Dose is 25 mg.\nTotal: 25 * 2 = 50\nGive 50 mg.",
            "bad": "none",
        },
        {
            "id": "c4",
            "q": "Four vials of 12 mL?",
            "chain": ["Total: 12 * 4 = 46", "Give 46 mL."],
            "bad": 1,
            "kind": "arithmetic",
        },
        {
            "id": "c5",
            "q": "Five tablets of 5 mg?",
            "chain": ["Total: 5 * 5 = 25", "Give 20 mg."],
            "bad": 2,
            "kind": "value",
        },
    ]
    jsonl(tmp_path / "chains.jsonl", rows)
    spec = write_spec(
        tmp_path,
        "name: my-chains\ndata: chains.jsonl\nprotocol: step-verify\n"
        "fields: {id: id, question: q, steps: chain, first_error: bad, error_type: kind}\n"
        "options: {subject: a dosing question}\n",
    )
    folder = run_spec(fake_server(responder=_checker), tmp_path, capsys, spec)
    s = {x.item.id: x for x in folder.iter_samples()}
    assert [s[k].item.target for k in ("c1", "c2", "c3", "c4", "c5")] == [0, 2, 0, 1, 2]
    assert s["c3"].item.metadata["steps"] == ["Dose is 25 mg.", "Total: 25 * 2 = 50", "Give 50 mg."]
    assert {k: s[k].score.value for k in s} == {"c1": 1.0, "c2": 1.0, "c3": 1.0, "c4": 1.0, "c5": 0.0}
    m = bench(folder)
    by_type = {r[0]: r for r in table(m, "by error type")["rows"]}
    assert set(by_type) == {"arithmetic", "value", "clean"} and by_type["value"][1] == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"q": "Q?", "s": ["a", "b"], "e": 3}, r"d.jsonl:1: field 'e': step 3 of a 2-step chain"),
        ({"q": "Q?", "s": ["a", "b"], "e": "two"}, r"d.jsonl:1: field 'e': expected an integer, got 'two'"),
        ({"q": "Q?", "s": [], "e": 1}, r"d.jsonl:1: field 's': no steps"),
    ],
)
def test_step_verify_spec_errors(tmp_path, row, message):
    from medevals.benchmarks.custom import load_spec
    from medevals.errors import DataError

    jsonl(tmp_path / "d.jsonl", [row])
    p = tmp_path / "s.yaml"
    p.write_text(
        "name: t\ndata: d.jsonl\nprotocol: step-verify\nfields: {question: q, steps: s, first_error: e}\n"
    )
    with pytest.raises(DataError, match=message):
        list(load_spec(p).load_local(tmp_path, "test"))
