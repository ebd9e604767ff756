"""Ranking metrics (nDCG@k, Recall@k, MRR@k, MAP@k) in plain Python, with ranx's definitions.

Why not ranx itself: it pulls numba/llvmlite, scipy, matplotlib, seaborn, pandas, pyarrow and
ir-datasets into the install and JIT-compiles on first use (up to a minute). The four metrics
are a few lines each; ``tests/scoring/test_retrieval_metrics_ranx.py`` checks them against ranx
on random graded judgements whenever ranx is installed (the ``crosscheck`` extra; CI has it).

Definitions (ranx's, which are trec_eval's at relevance level 1):
- a document is relevant when its judgement is >= 1; a query with none scores 0 on every metric;
- nDCG@k: Järvelin gain (the grade itself) over log2(rank + 1), divided by the ideal DCG@k of
  the judged grades sorted descending;
- Recall@k: relevant documents in the top k / all relevant;
- MRR@k: 1 / rank of the first relevant document in the top k (0 if none);
- MAP@k: sum of precision@rank at each relevant document in the top k / all relevant.
The ranking is taken in its stored order (the retriever's, ties included); a document repeated
in a ranking counts at its first rank only. ``k`` absent (``"mrr"``) means the whole ranking.
"""

from __future__ import annotations

import math

from medevals.errors import ConfigError

Ranking = list[tuple[str, float]]
KNOWN = ("ndcg", "recall", "mrr", "map")


def metric_names(recall_at: list[int], depth: int) -> list[str]:
    """The reported metrics; MRR and MAP are cut at the ranking depth actually stored."""
    return ["ndcg@10", *[f"recall@{k}" for k in recall_at], f"mrr@{depth}", f"map@{depth}"]


def _parse(metric: str) -> tuple[str, int | None]:
    name, _, cut = metric.partition("@")
    if name not in KNOWN or (cut and not (cut.isdigit() and int(cut) > 0)):
        raise ConfigError(f"unknown ranking metric {metric!r} (known: {', '.join(KNOWN)}, each with @k)")
    return name, int(cut) if cut else None


def _ordered_docs(ranking: Ranking) -> list[str]:
    seen: set[str] = set()
    docs = []
    for doc, _score in ranking:
        if doc not in seen:
            seen.add(doc)
            docs.append(doc)
    return docs


def _one(relevant: dict[str, int], docs: list[str], name: str, k: int | None) -> float:
    if not relevant:
        return 0.0
    top = docs if k is None else docs[:k]
    if name == "ndcg":
        dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top))
        ideal = sorted(relevant.values(), reverse=True)
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal if k is None else ideal[:k]))
        return dcg / idcg
    if name == "recall":
        return sum(1 for d in top if d in relevant) / len(relevant)
    if name == "mrr":
        return next((1.0 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    hits, total = 0, 0.0  # map
    for i, d in enumerate(top):
        if d in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant)


def evaluate_query(relevant: dict[str, int], ranking: Ranking, metrics: list[str]) -> dict[str, float]:
    """Metrics of one query (the per-sample values of a retrieval run)."""
    parsed = [_parse(m) for m in metrics]
    rel = {str(d): int(g) for d, g in relevant.items() if g >= 1}
    docs = _ordered_docs(ranking)
    return {m: _one(rel, docs, name, k) for m, (name, k) in zip(metrics, parsed, strict=True)}


def evaluate(
    qrels: dict[str, dict[str, int]], runs: dict[str, Ranking], metrics: list[str]
) -> dict[str, float]:
    """Mean of each metric over the judged queries (a judged query missing from ``runs`` scores 0;
    a ranked query without judgements is not counted)."""
    for m in metrics:
        _parse(m)
    if not qrels:
        return {m: float("nan") for m in metrics}
    per_query = [evaluate_query(rel, runs.get(qid) or [], metrics) for qid, rel in qrels.items()]
    return {m: math.fsum(q[m] for q in per_query) / len(per_query) for m in metrics}
