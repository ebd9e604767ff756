"""Ranking metrics (medevals' own, ranx's definitions) against values computed by hand, and rank fusion."""

import math

import pytest

from medevals.errors import ConfigError
from medevals.retrieval.fusion import reciprocal_rank_fusion
from medevals.scoring.retrieval_metrics import evaluate, evaluate_query, metric_names

METRICS = ["ndcg@10", "recall@1", "recall@3", "mrr@100", "map@100"]


def test_graded_ranking_matches_hand_computation():
    # relevant: d1 (grade 1) at rank 2, d2 (grade 2) at rank 3; d3 is not judged
    got = evaluate_query({"d1": 1, "d2": 2}, [("d3", 9.0), ("d1", 5.0), ("d2", 1.0)], METRICS)
    dcg = 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert got["ndcg@10"] == pytest.approx(dcg / idcg)  # 0.6199
    assert got["recall@1"] == 0.0
    assert got["recall@3"] == 1.0
    assert got["mrr@100"] == pytest.approx(0.5)
    assert got["map@100"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_ranking_order_not_scores_decides():
    # equal scores: the stored order is the retriever's, so d1 first must count as rank 1
    got = evaluate_query({"d1": 1}, [("d1", 1.0), ("d2", 1.0)], ["mrr@100"])
    assert got["mrr@100"] == 1.0


def test_empty_ranking_scores_zero_and_means_cover_all_judged_queries():
    assert evaluate_query({"d1": 1}, [], METRICS) == {m: 0.0 for m in METRICS}
    qrels = {"a": {"d1": 1}, "b": {"d2": 1}}
    res = evaluate(qrels, {"a": [("d1", 1.0)]}, ["mrr@100"])  # b failed: counts as 0
    assert res["mrr@100"] == pytest.approx(0.5)


def test_metric_names_follow_options():
    assert metric_names([5, 20], 50) == ["ndcg@10", "recall@5", "recall@20", "mrr@50", "map@50"]


def test_reciprocal_rank_fusion_by_hand():
    fused = reciprocal_rank_fusion([[("a", 9), ("b", 8)], [("b", 0.9), ("c", 0.5)]], k=60)
    assert [d for d, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)
    assert reciprocal_rank_fusion([[("a", 1), ("b", 1)]], depth=1) == [("a", pytest.approx(1 / 61))]


def test_repeated_document_counts_once_and_unknown_metric_is_an_error():
    got = evaluate_query({"d1": 1, "d2": 1}, [("d1", 3.0), ("d1", 2.0), ("d2", 1.0)], ["recall@2", "map@10"])
    assert got == {"recall@2": 1.0, "map@10": 1.0}  # d2 is at rank 2 once the repeat is dropped
    with pytest.raises(ConfigError, match="unknown ranking metric 'p@10'"):
        evaluate_query({"d1": 1}, [("d1", 1.0)], ["p@10"])
