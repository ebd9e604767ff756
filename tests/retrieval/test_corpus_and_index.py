"""BEIR reading with counted problems, BM25/dense indexes and their on-disk cache."""

import asyncio
import json

import pytest
from beirfix import embedding_responder, write_beir

from medevals.benchmarks.retrieval_sets import beir_folder_benchmark, load_corpus, resolve_corpus_ref
from medevals.errors import ConfigError, DataError
from medevals.retrieval.bm25 import build_bm25
from medevals.retrieval.corpus import load_beir_corpus, read_beir_corpus
from medevals.retrieval.dense import build_dense


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEVALS_INDEX_DIR", str(tmp_path / "indexes"))


def test_documents_without_ids_and_unknown_judgements_are_counted(tmp_path):
    folder = write_beir(tmp_path / "beir", bad=True)
    bench = beir_folder_benchmark(folder)
    assert bench.name == "beir-beir" and bench.splits == {"test": 3}
    items = bench.load_local(folder, "test")
    assert [it.id for it in items] == ["q1", "q2", "q3"]
    assert items[0].target == {"d2": 1}  # the judgement naming d999 was dropped
    problems = items[0].metadata["corpus_problems"]
    assert problems == {"document without _id": 1, "judgement naming a document not in the corpus": 1}
    assert len(load_beir_corpus(folder)) == 4


def test_invalid_corpus_line_names_file_and_line(tmp_path):
    folder = write_beir(tmp_path / "beir")
    with (folder / "corpus.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(DataError, match=r"corpus.jsonl:5: invalid JSON"):
        read_beir_corpus(folder / "corpus.jsonl")


def test_folder_without_corpus_is_a_config_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a BEIR folder"):
        beir_folder_benchmark(tmp_path / "empty")
    with pytest.raises(ConfigError, match="BEIR folder"):
        resolve_corpus_ref(str(tmp_path / "empty"), None)


def test_bm25_ranks_the_matching_document_first_and_caches_the_index(tmp_path):
    corpus = load_corpus(f"beir:{write_beir(tmp_path / 'beir')}")
    first = build_bm25(corpus)
    assert not first.from_cache
    assert first.search("which drug treats diabetes", 10)[0][0] == "d2"
    assert first.search("the of and", 10) == []  # stopwords only: no match, no crash
    again = build_bm25(corpus)
    assert again.from_cache
    assert again.search_many(["lowers cholesterol", "fever pain"], 2)[0][0][0] == "d3"


def test_dense_index_embeds_in_batches_and_caches_by_corpus_and_embedder(tmp_path):
    corpus = load_corpus(f"beir:{write_beir(tmp_path / 'beir')}")
    calls = []

    async def embed(texts):
        calls.append(len(texts))
        return [d["embedding"] for d in embedding_responder("/v1/embeddings", {"input": texts})["data"]]

    idx = asyncio.run(build_dense(corpus, embed, embedder="fake", batch_size=3))
    assert calls == [3, 1] and idx.matrix.shape[0] == 4 and not idx.from_cache
    q = asyncio.run(embed(["insulin for diabetes"]))
    assert idx.search_vectors(q, 2)[0][0][0] == "d2"
    again = asyncio.run(build_dense(corpus, embed, embedder="fake", batch_size=3))
    assert again.from_cache and calls == [3, 1, 1]
    other = asyncio.run(build_dense(corpus, embed, embedder="other-model", batch_size=10))
    assert not other.from_cache and calls[-1] == 4


def test_corpus_hash_changes_with_content(tmp_path):
    a = load_corpus(f"beir:{write_beir(tmp_path / 'a')}")
    folder = write_beir(tmp_path / "b")
    rows = [json.loads(x) for x in (folder / "corpus.jsonl").read_text().splitlines()]
    rows[0]["text"] += " and headache"
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_corpus(f"beir:{folder}").hash != a.hash


def test_a_folder_named_like_a_builtin_benchmark_does_not_shadow_it(tmp_path, monkeypatch):
    from medevals.benchmarks import registry

    (tmp_path / "medqa").mkdir()
    monkeypatch.chdir(tmp_path)
    assert registry.get("medqa").protocol == "mcq"
    assert registry.get(str(write_beir(tmp_path / "mine"))).protocol == "retrieval"
