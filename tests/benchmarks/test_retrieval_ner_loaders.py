"""Exact item counts of the retrieval and NER benchmarks in ../shared/data."""

import pytest

from medevals.benchmarks import base, registry
from medevals.benchmarks.retrieval_sets import load_corpus


@pytest.mark.parametrize(
    ("name", "split", "n"),
    [
        ("pubmedqa-retrieval", "test", 500),
        ("pubmedqa-retrieval", "all", 1000),
        ("bioasq-retrieval", "test", 618),
        ("ncbi-disease", "test", 940),
        ("ncbi-disease", "devel", 923),
        ("ncbi-disease", "train", 5424),
        ("bc5cdr", "test", 4797),
        ("bc5cdr", "devel", 4581),
        ("bc5cdr", "train", 4560),
    ],
)
def test_counts(shared_data, name, split, n):
    bench = registry.get(name)
    data = base.load(bench, split, shared_data)
    assert len(data.items) == n == bench.splits[split]


def test_retrieval_corpora_and_judgements(shared_data):
    pqa = base.load(registry.get("pubmedqa-retrieval"), "test", shared_data).items
    corpus = load_corpus(pqa[0].metadata["corpus"])
    assert len(corpus) == 1000
    assert all(it.target == {it.id: 1} and it.id in corpus.index_of for it in pqa)
    bio = base.load(registry.get("bioasq-retrieval"), "test", shared_data).items
    bcorpus = load_corpus(bio[0].metadata["corpus"])
    assert len(bcorpus) == 5190
    assert all(d in bcorpus.index_of for it in bio for d in it.target)


def test_ner_gold_entity_counts_match_the_b_tags(shared_data):
    ncbi = base.load(registry.get("ncbi-disease"), "test", shared_data).items
    assert sum(len(it.target) for it in ncbi) == 960  # B-Disease tags in test.tsv
    cdr = base.load(registry.get("bc5cdr"), "test", shared_data).items
    types = [s["type"] for it in cdr for s in it.target]
    assert types.count("Chemical") == 5385 and types.count("Disease") == 4424
    first = cdr[0]
    assert first.metadata["tokens"][:3] == ["Torsade", "de", "pointes"]
    assert first.target[0] == {"type": "Disease", "start": 0, "end": 2}
