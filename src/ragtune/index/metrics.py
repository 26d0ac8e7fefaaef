"""Retrieval metrics against gold doc ids: recall@k, MRR and nDCG@k (binary relevance)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def dedupe(doc_ids: Sequence[str]) -> list[str]:
    """Doc ids in first-seen order (several chunks of one doc count once)."""
    return list(dict.fromkeys(doc_ids))


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Share of gold docs found in the top ``k``."""
    if not gold:
        return 0.0
    return len(set(ranked[:k]) & set(gold)) / len(set(gold))


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[str]) -> float:
    """1 / rank of the first gold doc, 0 when none is retrieved."""
    wanted = set(gold)
    for rank, doc_id in enumerate(ranked, start=1):
        if doc_id in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k`` with binary gains."""
    wanted = set(gold)
    gain = sum(
        1.0 / math.log2(rank + 1) for rank, d in enumerate(ranked[:k], start=1) if d in wanted
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return gain / ideal if ideal else 0.0


def retrieval_scores(
    rankings: Sequence[Sequence[str]], golds: Sequence[Sequence[str]], k: int
) -> dict[str, float]:
    """Mean recall@k, MRR and nDCG@10 over questions (rankings are deduplicated doc ids)."""
    if len(rankings) != len(golds):
        raise ValueError(f"{len(rankings)} rankings for {len(golds)} questions")
    count = len(golds)
    if count == 0:
        return {f"recall_at_{k}": 0.0, "mrr": 0.0, "ndcg_at_10": 0.0, "questions": 0.0}
    return {
        f"recall_at_{k}": sum(recall_at_k(r, g, k) for r, g in zip(rankings, golds, strict=True))
        / count,
        "mrr": sum(reciprocal_rank(r, g) for r, g in zip(rankings, golds, strict=True)) / count,
        "ndcg_at_10": sum(ndcg_at_k(r, g, 10) for r, g in zip(rankings, golds, strict=True))
        / count,
        "questions": float(count),
    }
