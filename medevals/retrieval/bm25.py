"""BM25 over a corpus with ``bm25s`` (Lucene variant, English stopwords), cached on disk by corpus hash."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

from medevals.retrieval.cache import index_dir
from medevals.retrieval.corpus import Corpus
from medevals.steps import step

Ranking = list[tuple[str, float]]
"""(document id, score), best first."""

K1, B = 1.5, 0.75
#: Documents tokenized per progress update.
TOKENIZE_CHUNK = 2000


@dataclass
class BM25Index:
    corpus: Corpus
    retriever: Any
    build_s: float
    from_cache: bool

    def search(self, query: str, k: int) -> Ranking:
        return self.search_many([query], k)[0]

    def search_many(self, queries: list[str], k: int) -> list[Ranking]:
        import bm25s

        tokens = bm25s.tokenize(queries, stopwords="en", return_ids=False, show_progress=False)
        k = min(k, len(self.corpus))
        out: list[Ranking] = [[] for _ in queries]
        todo = [i for i, t in enumerate(tokens) if t]  # a query of stopwords only matches nothing
        if not todo:
            return out
        docs, scores = self.retriever.retrieve(
            [tokens[i] for i in todo], k=k, show_progress=False, n_threads=1
        )
        for row, i in enumerate(todo):
            out[i] = [
                (self.corpus.docs[int(d)].id, float(s))
                for d, s in zip(docs[row], scores[row], strict=True)
                if s > 0
            ]
        return out


def build_bm25(corpus: Corpus, *, use_cache: bool = True) -> BM25Index:
    """Load the index for this corpus from disk, or build and save it (atomically, by rename)."""
    import bm25s

    t0 = time.perf_counter()
    folder = index_dir(corpus.hash) / f"bm25-k{K1}-b{B}"
    if use_cache and (folder / "params.index.json").is_file():
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return BM25Index(corpus, retriever, time.perf_counter() - t0, from_cache=True)
    texts = [d.full_text for d in corpus.docs]
    tokens: list[list[str]] = []
    # tokenizing is most of the time: done in chunks, so a large corpus shows its rate and ETA
    with step(f"indexing BM25 ({len(texts)} docs)", total=len(texts), unit="docs") as progress:
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            chunk = texts[start : start + TOKENIZE_CHUNK]
            tokens.extend(bm25s.tokenize(chunk, stopwords="en", return_ids=False, show_progress=False))
            progress.advance(len(chunk))
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.index(tokens, show_progress=False)
    build_s = time.perf_counter() - t0
    if use_cache:
        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        retriever.save(str(tmp), show_progress=False)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    return BM25Index(corpus, retriever, build_s, from_cache=False)
