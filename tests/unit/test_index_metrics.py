"""Retrieval metrics on hand-worked rankings."""

from __future__ import annotations

import math

import pytest

from ragtune.index.metrics import dedupe, ndcg_at_k, recall_at_k, reciprocal_rank, retrieval_scores


def test_recall_counts_distinct_gold_docs_in_top_k() -> None:
    assert recall_at_k(["a", "b", "c"], ["c"], 3) == 1.0
    assert recall_at_k(["a", "b", "c"], ["c"], 2) == 0.0
    assert recall_at_k(["a", "b"], ["a", "z"], 5) == 0.5


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(["x", "y", "g"], ["g"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], ["g"]) == 0.0


def test_ndcg_binary() -> None:
    assert ndcg_at_k(["g", "x"], ["g"], 10) == 1.0
    assert ndcg_at_k(["x", "g"], ["g"], 10) == pytest.approx(1 / math.log2(3))
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(["g1", "x", "g2"], ["g1", "g2"], 10) == pytest.approx((1 + 0.5) / ideal)
    assert ndcg_at_k(["x"] * 10 + ["g"], ["g"], 10) == 0.0


def test_dedupe_keeps_first_rank() -> None:
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_retrieval_scores_means() -> None:
    scores = retrieval_scores([["g", "x"], ["x", "y"]], [["g"], ["y"]], k=1)
    assert scores["recall_at_1"] == 0.5
    assert scores["mrr"] == pytest.approx((1 + 0.5) / 2)
    assert scores["questions"] == 2
    with pytest.raises(ValueError):
        retrieval_scores([["a"]], [], k=1)
