"""Dense retrieval: cosine similarity between query and document embeddings.

The embeddings come from an ``embed`` coroutine the caller supplies (the protocol passes one
that calls the ``embedder`` role through the engine, so every request is cached, journaled
and costed). The document matrix is kept on disk per (corpus hash, embedder), so a second
run over the same corpus makes no embedding calls at all.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from medevals.errors import DataError
from medevals.retrieval.bm25 import Ranking
from medevals.retrieval.cache import index_dir
from medevals.retrieval.corpus import Corpus
from medevals.steps import step

EmbedFn = Callable[[list[str]], Awaitable[list[list[float]]]]


def normalise(matrix: Any) -> Any:
    import numpy as np

    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


@dataclass
class DenseIndex:
    corpus: Corpus
    matrix: Any  # (n_docs, dim) float32, rows L2-normalised
    embedder: str
    build_s: float
    from_cache: bool

    def search_vectors(self, vectors: list[list[float]], k: int) -> list[Ranking]:
        import numpy as np

        q = normalise(vectors)
        if q.shape[1] != self.matrix.shape[1]:
            raise DataError(
                f"query embedding has {q.shape[1]} dimensions but the corpus index has {self.matrix.shape[1]} "
                f"(embedder {self.embedder})"
            )
        sims = q @ self.matrix.T
        k = min(k, len(self.corpus))
        out = []
        for row in sims:
            top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            top = top[np.argsort(-row[top], kind="stable")]
            out.append([(self.corpus.docs[int(i)].id, float(row[i])) for i in top])
        return out


def _matrix_path(corpus: Corpus, embedder: str) -> Any:
    key = hashlib.sha256(embedder.encode()).hexdigest()[:16]
    return index_dir(corpus.hash) / f"dense-{key}.npy"


async def build_dense(
    corpus: Corpus, embed: EmbedFn, *, embedder: str, batch_size: int = 64, use_cache: bool = True
) -> DenseIndex:
    """Load the document matrix for (corpus, embedder) from disk, or embed the corpus in batches and save it."""
    import numpy as np

    t0 = time.perf_counter()
    path = _matrix_path(corpus, embedder)
    if use_cache and path.is_file():
        matrix = np.load(path)
        if matrix.shape[0] == len(corpus):
            return DenseIndex(corpus, matrix, embedder, time.perf_counter() - t0, from_cache=True)
    texts = [d.full_text for d in corpus.docs]
    rows: list[list[float]] = []
    with step(f"embedding corpus ({embedder})", total=len(texts), unit="docs") as progress:
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            vectors = await embed(batch)
            if len(vectors) != len(batch):
                raise DataError(f"embedder {embedder} returned {len(vectors)} vectors for {len(batch)} texts")
            rows.extend(vectors)
            progress.advance(len(batch))
    matrix = normalise(rows)
    build_s = time.perf_counter() - t0
    if use_cache:
        tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}.npy")
        np.save(tmp, matrix)
        os.replace(tmp, path)
    return DenseIndex(corpus, matrix, embedder, build_s, from_cache=False)
