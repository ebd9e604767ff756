"""Write a built-in corpus (and its queries and judgements) as a BEIR folder.

``python -m medevals.retrieval.export pubmedqa-retrieval OUT`` gives a folder any BEIR/MTEB
tool reads, and one ``--corpus OUT`` accepts for ``--rag``. Reads ``$MEDEVALS_DATA``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def export(benchmark: str, out: Path, split: str | None = None) -> tuple[int, int]:
    """(documents, queries) written to ``out``/corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""
    from medevals.benchmarks import base, registry
    from medevals.benchmarks.retrieval_sets import load_corpus

    bench = registry.get(benchmark)
    if bench.protocol != "retrieval":
        raise SystemExit(f"{benchmark} is not a retrieval benchmark")
    data = base.load(bench, split)
    corpus = load_corpus(str(data.items[0].metadata["corpus"]))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for d in corpus.docs:
            fh.write(json.dumps({"_id": d.id, "title": d.title, "text": d.text}) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for it in data.items:
            fh.write(json.dumps({"_id": it.id, "text": it.input}) + "\n")
    with (out / "qrels" / f"{data.split}.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for it in data.items:
            for doc, grade in (it.target or {}).items():
                fh.write(f"{it.id}\t{doc}\t{grade}\n")
    return len(corpus), len(data.items)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: python -m medevals.retrieval.export BENCHMARK OUT_DIR [SPLIT]")
    n_docs, n_q = export(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) == 4 else None)
    print(f"{sys.argv[2]}: {n_docs} documents, {n_q} queries")
