"""End to end through the CLI: a BEIR folder, bm25 + dense (fake /v1/embeddings) + hybrid, no --model."""

import json

import pytest
from beirfix import embedding_responder, write_beir
from clihelp import run_cli, run_fake


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))


def test_three_retrievers_print_the_metric_table_without_a_model(fake_server, tmp_path, capsys):
    server = fake_server(responder=embedding_responder)
    folder = write_beir(tmp_path / "tiny", bad=True)
    code, out, err, run = run_fake(
        None,
        tmp_path,
        capsys,
        "--retriever",
        "bm25,dense,hybrid",
        "--embedder",
        f"openai:fake-embed@{server.base_url}",
        model=None,
        benchmark=str(folder),
        cache=tmp_path / "c.sqlite",
    )
    assert code == 0, err
    assert "nDCG@10" in out and "hybrid" in out and "Data problems" in out
    manifest = run.read_manifest()
    assert manifest.model.spec == "none" and manifest.roles["embedder"].name == "fake-embed"
    m = run.read_metrics()["benchmarks"]["beir-tiny"]
    assert m["n"] == 9 and m["n_errors"] == 0
    table = m["extra"]["retrieval"]
    assert table["bm25"]["ndcg@10"] == pytest.approx(1.0)
    for name in ("dense", "hybrid"):
        assert 0.0 < table[name]["ndcg@10"] <= 1.0 and table[name]["recall@10"] == 1.0
    assert m["extra"]["corpus_problems"] == {
        "document without _id": 1,
        "judgement naming a document not in the corpus": 1,
    }
    embeds = [r for r in server.requests if r["path"].endswith("/embeddings")]
    sizes = sorted(len(r["body"]["input"]) for r in embeds)
    # the corpus in one batch, then one request per query (dense and hybrid may share a cached one)
    assert sizes[-1] == 4 and set(sizes[:-1]) == {1} and 3 <= len(sizes) - 1 <= 6
    samples = [json.loads(x) for x in run.samples_path.read_text().splitlines()]
    assert {s["variant"] for s in samples} == {"bm25", "dense", "hybrid"}
    assert all(c["role"] == "embedder" for s in samples for c in s["calls"])

    # rescore needs neither the corpus nor the embedder and gives the same numbers
    code, out, err = run_cli(["rescore", str(run.path), "--no-report"], capsys)
    assert code == 0, err
    assert run.read_metrics()["benchmarks"]["beir-tiny"]["extra"]["retrieval"] == table
    assert "nDCG@10" in out and "hybrid" in out  # the protocol's terminal table, as after `run`


def test_a_model_given_for_retrieval_is_not_loaded(tmp_path, capsys):
    folder = write_beir(tmp_path / "tiny")
    code, _out, err, run = run_fake(
        "http://127.0.0.1:9/v1",
        tmp_path,
        capsys,
        model="openai:nothing-listens",
        benchmark=str(folder),
        cache=True,
    )
    assert code == 0, err
    assert "was not loaded" in err
    assert run.read_manifest().model.spec == "none"


def test_mcq_benchmark_without_model_is_a_clear_error(tmp_path, capsys):
    code, _out, err = run_cli(["run", "-b", "demo", "--runs-dir", str(tmp_path / "runs")], capsys)
    assert code != 0 and "pass --model" in err
