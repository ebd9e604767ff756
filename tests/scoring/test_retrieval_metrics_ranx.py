"""medevals' own ranking metrics against ranx on random graded judgements and rankings.

ranx is the reference (the ``crosscheck`` extra: heavy, numba-compiled, so not in the core
install); this test skips when it is missing. Slow: ranx JIT-compiles on its first use.
"""

import random

import pytest

from medevals.scoring.retrieval_metrics import evaluate, evaluate_query

ranx = pytest.importorskip("ranx", reason="ranx (the 'crosscheck' extra) is not installed")

pytestmark = pytest.mark.slow
METRICS = ["ndcg@10", "ndcg@3", "recall@1", "recall@5", "recall@20", "mrr@10", "mrr@100", "map@10", "map@100"]


def _ranx(qrels: dict, runs: dict, metrics: list[str]) -> dict[str, float]:
    """ranx on the same input as medevals sees it: rank-derived scores keep the stored order;
    an empty ranking gets one unjudged placeholder document (ranx rejects empty runs)."""
    run_dict = {}
    for qid in qrels:
        ranking = runs.get(qid) or []
        scores: dict[str, float] = {}
        for rank, (doc, _s) in enumerate(ranking):
            scores.setdefault(doc, float(len(ranking) - rank))
        run_dict[qid] = scores or {"__none__": 0.0}
    res = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run_dict), metrics, make_comparable=True)
    return {m: float(res[m]) for m in metrics}


def _random_case(rng: random.Random, n_queries: int) -> tuple[dict, dict]:
    docs = [f"d{i}" for i in range(40)]
    qrels, runs = {}, {}
    for q in range(n_queries):
        judged = rng.sample(docs, rng.randint(1, 8))
        qrels[f"q{q}"] = {d: rng.choice([0, 1, 1, 2, 3]) for d in judged}
        if rng.random() < 0.1:
            continue  # a failed query: judged, no ranking
        depth = rng.choice([0, 1, 5, 15, 30])
        ranking = [(rng.choice(docs), 1.0) for _ in range(depth)]  # repeats happen; scores all tied
        runs[f"q{q}"] = ranking
    return qrels, runs


@pytest.mark.parametrize("seed", range(10))
def test_means_equal_ranx(seed):
    qrels, runs = _random_case(random.Random(seed), n_queries=25)
    ours = evaluate(qrels, runs, METRICS)
    ref = _ranx(qrels, runs, METRICS)
    assert ours == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("seed", range(20, 23))
def test_per_query_values_equal_ranx(seed):
    rng = random.Random(seed)
    qrels, runs = _random_case(rng, n_queries=10)
    for qid, rel in qrels.items():
        ours = evaluate_query(rel, runs.get(qid, []), METRICS)
        assert ours == pytest.approx(_ranx({qid: rel}, {qid: runs.get(qid, [])}, METRICS), abs=1e-12), qid
