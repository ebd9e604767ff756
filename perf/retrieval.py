"""Retrieval speed: index build time and queries/s for BM25 (bm25s) and dense (builtin:minilm).

Runs on the staged corpora (``$MEDEVALS_DATA``): PubMedQA abstracts (1000 documents, long)
and BioASQ snippets (5190 documents, short), with each benchmark's own questions. Indexes are
built fresh (no on-disk cache, no response cache) so the numbers are the cold cost; then the
on-disk cache load time is measured too. Dense embeddings go through the same ``ModelClient``
the harness uses (without the response cache), so they include its overhead.

- BM25 queries/s: tokenize + score, one query at a time (as the protocol runs them) and batched;
- dense queries/s: embed one query through the client + cosine top-100 over the matrix.

Usage::

    MEDEVALS_DATA=../shared/data python perf/retrieval.py --queries 200 [--no-dense]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's medevals, not an installed one

DEPTH = 100


def bench_bm25(corpus, queries: list[str]) -> dict[str, float]:
    from medevals.retrieval.bm25 import build_bm25

    cold = build_bm25(corpus)
    warm = build_bm25(corpus)
    assert warm.from_cache
    t0 = time.perf_counter()
    for q in queries:
        cold.search(q, DEPTH)
    single = len(queries) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    cold.search_many(queries, DEPTH)
    batched = len(queries) / (time.perf_counter() - t0)
    return {"build_s": cold.build_s, "load_s": warm.build_s, "qps": single, "qps_batched": batched}


async def bench_dense(corpus, queries: list[str]) -> dict[str, float]:
    from medevals.engine.client import ModelClient
    from medevals.models import openai_format
    from medevals.models.registry import create_backend, make_record
    from medevals.retrieval.dense import build_dense
    from medevals.schema import ModelRequest

    client = ModelClient(create_backend(make_record("builtin:minilm")), role="embedder", cache=None)
    await client.start()

    async def embed(texts: list[str]) -> list[list[float]]:
        rec = await client.call(ModelRequest(kind="embedding", body={"input": texts}))
        return openai_format.embeddings(rec.raw)

    cold = await build_dense(corpus, embed, embedder=client.model_id)
    warm = await build_dense(corpus, embed, embedder=client.model_id)
    assert warm.from_cache
    t0 = time.perf_counter()
    for q in queries:
        cold.search_vectors(await embed([q]), DEPTH)
    qps = len(queries) / (time.perf_counter() - t0)
    await client.close()
    return {
        "build_s": cold.build_s,
        "load_s": warm.build_s,
        "qps": qps,
        "docs_per_s": len(corpus) / cold.build_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=200, help="queries timed per corpus")
    ap.add_argument("--no-dense", action="store_true", help="skip the dense (MiniLM) measurements")
    ap.add_argument("--benchmarks", default="pubmedqa-retrieval,bioasq-retrieval")
    args = ap.parse_args()
    from medevals.benchmarks import base, registry
    from medevals.benchmarks.retrieval_sets import load_corpus

    os.environ["MEDEVALS_INDEX_DIR"] = tempfile.mkdtemp(prefix="medevals-index-")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(
        f"{'corpus':<20} {'docs':>6} {'retriever':<6} {'build s':>8} {'load s':>7} {'queries/s':>10} {'batched q/s':>11}"
    )
    for name in args.benchmarks.split(","):
        items = base.load(registry.get(name), None).items
        corpus = load_corpus(str(items[0].metadata["corpus"]))
        queries = [str(it.input) for it in items[: args.queries]]
        r = bench_bm25(corpus, queries)
        print(
            f"{name:<20} {len(corpus):>6} {'bm25':<6} {r['build_s']:>8.2f} {r['load_s']:>7.2f} "
            f"{r['qps']:>10.0f} {r['qps_batched']:>11.0f}"
        )
        if not args.no_dense:
            d = asyncio.run(bench_dense(corpus, queries))
            print(
                f"{name:<20} {len(corpus):>6} {'dense':<6} {d['build_s']:>8.2f} {d['load_s']:>7.2f} "
                f"{d['qps']:>10.1f} {'-':>11}   ({d['docs_per_s']:.0f} docs/s embedded)"
            )


if __name__ == "__main__":
    main()
