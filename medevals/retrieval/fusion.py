"""Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum over rankings of 1 / (k + rank(d))."""

from __future__ import annotations

from medevals.retrieval.bm25 import Ranking

RRF_K = 60


def reciprocal_rank_fusion(rankings: list[Ranking], *, k: int = RRF_K, depth: int | None = None) -> Ranking:
    """Fuse rankings by rank only (scores of different retrievers are not comparable); ties by first seen."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (doc_id, _score) in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    ordered = sorted(fused.items(), key=lambda kv: -kv[1])
    return ordered[:depth] if depth else ordered
