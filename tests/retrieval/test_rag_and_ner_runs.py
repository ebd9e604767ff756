"""RAG (closed book / retrieval / oracle, stage metrics) and NER runs against the fake server."""

import json

import pytest
from beirfix import write_beir
from clihelp import run_fake, run_ok

from medevals.benchmarks import base, registry


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))


def _user_text(body):
    return body["messages"][-1]["content"]


def test_rag_on_pubmedqa_reports_three_accuracies_and_stage_metrics(
    fake_server, tmp_path, capsys, shared_data
):
    items = base.load(registry.get("pubmedqa"), "test", shared_data).items[:4]
    truth = {it.input: it.target for it in items}

    def respond(path, body):
        # right only when the prompt carries a context (retrieved or gold); otherwise a wrong letter
        text = _user_text(body)
        q = next(q for q in truth if q in text)
        if "Context:" in text:
            return f"The answer is ({truth[q]})."
        return "The answer is ({}).".format("B" if truth[q] == "A" else "A")

    server = fake_server(responder=respond)
    rag = ["--rag", "bm25", "--corpus", "pubmedqa", "--set", "k=2"]
    code, out, err, run = run_fake(
        server, tmp_path, capsys, "--limit", "4", *rag, benchmark="pubmedqa", cache=tmp_path / "c.sqlite"
    )
    assert code == 0, err
    assert "RAG stage metrics" in out
    assert run.read_manifest().benchmarks[0].protocol == "rag"
    m = run.read_metrics()["benchmarks"]["pubmedqa"]
    v = {k: x["value"] for k, x in m["variants"].items()}
    assert v == {"no-retrieval": 0.0, "retrieval": 1.0, "oracle": 1.0}
    stage = {row[0]: row[1]["value"] for row in m["extra"]["tables"][1]["rows"]}
    assert stage["retrieval: helped (closed-book wrong -> right)"] == 1.0
    assert stage["retrieval: hurt (closed-book right -> wrong)"] == 0.0
    hit = stage["retrieval hit rate (gold passage in top-k)"]
    assert 0.0 <= hit <= 1.0 and m["metrics"]["retrieval_hit"]["n"] == 4
    samples = [json.loads(x) for x in run.samples_path.read_text().splitlines()]
    closed = next(s for s in samples if s["variant"] == "no-retrieval")
    assert "Context:" not in _user_text(closed["calls"][0]["request"])  # the abstract is not leaked
    rag = next(s for s in samples if s["variant"] == "retrieval")
    assert len(rag["output"]["passages"]) == 2 and "[2]" in _user_text(rag["calls"][-1]["request"])


def test_rag_needs_a_corpus(tmp_path, capsys, fake_server):
    server = fake_server()
    code, _out, err, _ = run_fake(server, tmp_path, capsys, "--rag", "bm25", cache=True, report=True)
    assert code != 0 and "--corpus" in err


def test_rag_with_a_beir_corpus_folder(tmp_path, capsys, fake_server):
    server = fake_server()
    folder = write_beir(tmp_path / "tiny")
    run = run_ok(
        server, tmp_path, capsys, "--limit", "3", "--rag", "bm25", "--corpus", str(folder), cache=True
    )
    m = run.read_metrics()["benchmarks"]["demo"]
    assert set(m["variants"]) == {"no-retrieval", "retrieval"} and m["n"] == 6


def test_ner_strict_and_partial_f1_and_invalid_json_counted(fake_server, tmp_path, capsys, shared_data):
    items = base.load(registry.get("ncbi-disease"), "test", shared_data).items[:4]
    by_sentence = {it.input: it for it in items}

    def respond(path, body):
        text = _user_text(body)
        it = next(it for s, it in by_sentence.items() if s in text)
        if it.id == "test-00003":
            return "I cannot answer in JSON, sorry."
        toks = it.metadata["tokens"]
        ents = [{"text": " ".join(toks[s["start"] : s["end"] + 1]), "type": "Disease"} for s in it.target]
        return "```json\n" + json.dumps({"entities": ents}) + "\n```"

    server = fake_server(responder=respond)
    code, out, err, run = run_fake(
        server, tmp_path, capsys, "--limit", "4", benchmark="ncbi-disease", cache=True
    )
    assert code == 0, err
    assert "strict" in out and "Output problems" in out
    m = run.read_metrics()["benchmarks"]["ncbi-disease"]
    assert m["n_unparseable"] == 1
    gold_missed = len(items[3].target)
    total = sum(len(it.target) for it in items)
    strict = m["extra"]["ner"]["overall"]["strict"]
    assert strict["precision"] == 1.0
    assert strict["recall"] == pytest.approx((total - gold_missed) / total)
    assert m["extra"]["problems"]["unparsed replies (predict nothing)"] == 1
    headline = m["extra"]["f1"]["strict"]
    assert headline["value"] == pytest.approx(strict["f1"]) and headline["n"] == 4
    assert headline["ci_low"] <= headline["value"] <= headline["ci_high"]
