"""Retrieval benchmarks: PubMedQA abstracts, BioASQ snippets, and any BEIR/MTEB-format folder.

An item is a query: ``input`` is its text, ``target`` its judgements ``{doc id: grade}`` and
``metadata["corpus"]`` names the corpus as ``KIND:PATH`` so the protocol can load (and index)
it; ``metadata["corpus_problems"]`` carries the counts of rows skipped while reading (documents
without ids, judgements naming unknown documents), which the run's summary reports.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.readers import read_json, read_jsonl, require
from medevals.errors import ConfigError, DataError
from medevals.retrieval.corpus import (
    Corpus,
    CorpusProblems,
    Doc,
    load_beir_corpus,
    read_beir_queries,
    read_qrels,
)
from medevals.schema import Item, Taxonomy

RETRIEVAL = Taxonomy(category="Medical research assistance", subcategory="Literature retrieval")


def _query_item(qid: str, text: str, judged: dict[str, int], ref: str, problems: dict[str, int]) -> Item:
    return Item(
        id=qid,
        input=text,
        target=judged,
        metadata={"corpus": ref, "corpus_problems": problems},
    )


# --------------------------------------------------------------------------- PubMedQA abstracts

PUBMEDQA_FILE = "ori_pqal.json"


def pubmedqa_corpus(folder: Path) -> Corpus:
    """All 1000 PQA-L abstracts (their CONTEXTS paragraphs), keyed by PMID; LONG_ANSWER is left out."""
    path = folder / PUBMEDQA_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object keyed by PMID", path=path)
    docs = []
    for n, (pmid, row) in enumerate(data.items(), start=1):
        contexts = require(row, "CONTEXTS", path, n, kind=list)
        docs.append(Doc(id=str(pmid), text="\n".join(str(c) for c in contexts)))
    return Corpus(docs, source=f"pubmedqa:{folder}")


def _pubmedqa_queries(folder: Path, split: str) -> list[Item]:
    path = folder / PUBMEDQA_FILE
    data = read_json(path)
    test_ids = read_json(folder / "test_ground_truth.json")
    ref = f"pubmedqa:{folder}"
    items = []
    for n, (pmid, row) in enumerate(data.items(), start=1):
        if split == "test" and pmid not in test_ids:
            continue
        question = require(row, "QUESTION", path, n)
        items.append(_query_item(str(pmid), question, {str(pmid): 1}, ref, {}))
    return items


PUBMEDQA_RETRIEVAL = Benchmark(
    name="pubmedqa-retrieval",
    title="PubMedQA question -> abstract retrieval",
    protocol="retrieval",
    task_type="retrieval (1 relevant of 1000)",
    taxonomy=RETRIEVAL,
    license="MIT",
    source="Jin et al. 2019, PubMedQA (pubmedqa/pubmedqa); retrieval framing as in MIRAGE's corpus checks",
    description="Each PQA-L question against the corpus of all 1000 PQA-L abstracts; the relevant "
    "document is the question's own abstract.",
    splits={"test": 500, "all": 1000},
    default_split="test",
    local_dir="pubmedqa",
    load_local=_pubmedqa_queries,
    local_files=lambda folder, split: [folder / PUBMEDQA_FILE, folder / "test_ground_truth.json"],
)

# --------------------------------------------------------------------------- BioASQ snippets

BIOASQ_FILE = "bioasq_yesno_task7-11b.jsonl"


def _snippet_id(text: str) -> str:
    return "s" + hashlib.sha1(text.encode()).hexdigest()[:12]


def bioasq_corpus(folder: Path) -> Corpus:
    """Every distinct gold snippet text of the BioASQ yes/no questions (5190), id = hash of the text."""
    path = folder / BIOASQ_FILE
    docs: dict[str, Doc] = {}
    for line, row in read_jsonl(path):
        for s in require(row, "snippets", path, line, kind=list):
            text = str((s or {}).get("text") or "").strip()
            if text:
                docs.setdefault(_snippet_id(text), Doc(id=_snippet_id(text), text=text))
    return Corpus(list(docs.values()), source=f"bioasq:{folder}")


def _bioasq_queries(folder: Path, split: str) -> list[Item]:
    path = folder / BIOASQ_FILE
    ref = f"bioasq:{folder}"
    items = []
    for line, row in read_jsonl(path):
        snippets = require(row, "snippets", path, line, kind=list)
        judged = {
            _snippet_id(t): 1 for t in (str((s or {}).get("text") or "").strip() for s in snippets) if t
        }
        if not judged:
            continue
        items.append(
            _query_item(require(row, "id", path, line), require(row, "body", path, line), judged, ref, {})
        )
    return items


BIOASQ_RETRIEVAL = Benchmark(
    name="bioasq-retrieval",
    title="BioASQ question -> gold snippet retrieval",
    protocol="retrieval",
    task_type="retrieval (snippets)",
    taxonomy=RETRIEVAL,
    license="BioASQ/NLM terms (research use; registration upstream)",
    source="BioASQ Task B 7-11 golden yes/no questions (MIRAGE copy)",
    description="Each yes/no question against the pool of all 5190 distinct gold snippets of the set; "
    "relevant = the question's own snippets.",
    splits={"test": 618},
    default_split="test",
    local_dir="bioasq",
    load_local=_bioasq_queries,
    local_files=lambda folder, split: [folder / BIOASQ_FILE],
)

# --------------------------------------------------------------------------- any BEIR folder


def _beir_queries(folder: Path, split: str) -> list[Item]:
    corpus = load_beir_corpus(folder)
    problems = CorpusProblems()
    for kind, n in corpus.problems.counts.items():
        problems.counts[kind] = n
    qrels = read_qrels(folder / "qrels" / f"{split}.tsv", corpus.index_of, problems)
    queries = read_beir_queries(folder / "queries.jsonl")
    items = []
    for qid, judged in qrels.items():
        if qid not in queries:
            problems.add("judged query not in queries.jsonl", qid)
            continue
        if not any(g > 0 for g in judged.values()):
            problems.add("query without a positive judgement", qid)
            continue
        items.append((qid, queries[qid], judged))
    counts = problems.as_dict()
    ref = f"beir:{folder}"
    return [_query_item(qid, text, judged, ref, counts) for qid, text, judged in items]


def _beir_splits(folder: Path) -> dict[str, int]:
    qdir = folder / "qrels"
    if not qdir.is_dir():
        raise DataError("BEIR folder has no qrels/ directory (qrels/<split>.tsv)", path=folder)
    splits = {}
    for p in sorted(qdir.glob("*.tsv")):
        lines = [ln.split("\t")[0] for ln in p.read_text(encoding="utf-8-sig").splitlines()[1:] if ln.strip()]
        splits[p.stem] = len(set(lines))
    if not splits:
        raise DataError("qrels/ holds no <split>.tsv file", path=qdir)
    return splits


def beir_folder_benchmark(folder: Path) -> Benchmark:
    """A benchmark for a user's BEIR/MTEB folder given by path (``--benchmark path/to/folder[:split]``)."""
    folder = folder.expanduser().resolve()
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).is_file():
            raise ConfigError(
                f"{folder}: not a BEIR folder (no {name}; expected corpus.jsonl, queries.jsonl, qrels/)"
            )
    splits = _beir_splits(folder)
    default = "test" if "test" in splits else next(iter(splits))
    return Benchmark(
        name=f"beir-{folder.name}",
        title=f"BEIR folder {folder.name}",
        protocol="retrieval",
        task_type="retrieval",
        taxonomy=Taxonomy(category="Custom", subcategory="Retrieval"),
        license="see the folder's source",
        source=str(folder),
        description="User-supplied BEIR/MTEB folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.",
        splits=splits,
        default_split=default,
        load_local=_beir_queries,
        local_files=lambda f, split: [f / "corpus.jsonl", f / "queries.jsonl", f / "qrels" / f"{split}.tsv"],
        bundled_dir=folder,
    )


# --------------------------------------------------------------------------- corpus references

CORPUS_KINDS: dict[str, Any] = {
    "beir": load_beir_corpus,
    "pubmedqa": pubmedqa_corpus,
    "bioasq": bioasq_corpus,
}


def load_corpus(ref: str) -> Corpus:
    """``KIND:PATH`` (as items carry it) -> the corpus; a bare folder path is read as a BEIR folder."""
    kind, sep, path = ref.partition(":")
    if sep and kind == "spec":  # a custom spec's corpus file (``corpus:`` + ``corpus_fields:``)
        from medevals.benchmarks.custom import spec_corpus

        return spec_corpus(path)
    if sep and kind in CORPUS_KINDS:
        folder = Path(path)
    else:
        kind, folder = "beir", Path(ref)
    if not folder.is_dir():
        raise DataError("corpus folder does not exist", path=folder)
    return CORPUS_KINDS[kind](folder)


def resolve_corpus_ref(spec: str, data_dir: Path | None) -> str:
    """A user's ``--corpus``: a BEIR folder path, ``pubmedqa``/``bioasq`` (from the data folder), or ``KIND:PATH``."""
    kind, sep, path = spec.partition(":")
    if sep and kind in CORPUS_KINDS:
        return f"{kind}:{Path(path).expanduser().resolve()}"
    if spec in ("pubmedqa", "bioasq"):
        if data_dir is None:
            raise ConfigError(f"--corpus {spec} reads $MEDEVALS_DATA/{spec}: set MEDEVALS_DATA")
        return f"{spec}:{(data_dir / spec).resolve()}"
    folder = Path(spec).expanduser().resolve()
    if not (folder / "corpus.jsonl").is_file():
        raise ConfigError(
            f"--corpus {spec}: expected a BEIR folder with corpus.jsonl, or one of: pubmedqa, bioasq"
        )
    return f"beir:{folder}"
