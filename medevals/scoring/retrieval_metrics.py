"""Ranking metrics (nDCG@10, Recall@k, MRR, MAP) computed by ``ranx``: never hand-written here.

``ranx`` is imported lazily (it JIT-compiles with numba on first use; later processes reuse
the on-disk numba cache). A query whose ranking is empty is given one placeholder document
that no judgement names, so ranx scores it 0 on every metric instead of rejecting the run.
"""

from __future__ import annotations

import warnings
from typing import Any

Ranking = list[tuple[str, float]]
NO_RESULT = "__medevals_no_result__"


def metric_names(recall_at: list[int], depth: int) -> list[str]:
    """The reported metrics; MRR and MAP are cut at the ranking depth actually stored."""
    return ["ndcg@10", *[f"recall@{k}" for k in recall_at], f"mrr@{depth}", f"map@{depth}"]


def _ranx_inputs(qrels: dict[str, dict[str, int]], runs: dict[str, Ranking]) -> tuple[Any, Any]:
    from ranx import Qrels, Run

    run_dict: dict[str, dict[str, float]] = {}
    for qid in qrels:
        ranking = runs.get(qid) or []
        scores: dict[str, float] = {}
        n = len(ranking)
        for rank, (doc, _s) in enumerate(ranking):
            # ranx orders by score; rank-derived scores keep the retriever's order exactly (ties included)
            scores.setdefault(doc, float(n - rank))
        run_dict[qid] = scores or {NO_RESULT: 0.0}
    return Qrels({q: dict(d) for q, d in qrels.items()}), Run(run_dict)


def evaluate(
    qrels: dict[str, dict[str, int]], runs: dict[str, Ranking], metrics: list[str]
) -> dict[str, float]:
    """Mean of each metric over the judged queries (a judged query missing from ``runs`` scores 0)."""
    from ranx import evaluate as ranx_evaluate

    if not qrels:
        return {m: float("nan") for m in metrics}
    q, r = _ranx_inputs(qrels, runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ranx_evaluate(q, r, metrics, make_comparable=True)
    if isinstance(res, dict):
        return {m: float(res[m]) for m in metrics}
    return {metrics[0]: float(res)}


def evaluate_query(relevant: dict[str, int], ranking: Ranking, metrics: list[str]) -> dict[str, float]:
    """Metrics of one query (the per-sample values of a retrieval run)."""
    return evaluate({"q": relevant}, {"q": ranking}, metrics)
