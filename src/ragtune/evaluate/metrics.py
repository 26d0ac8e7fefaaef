"""Answer metrics, per question and per arm and slice: one definition each, used everywhere.

The MLflow scorers (``evaluate/scorers.py``), the table, the DVC metrics and ``advise`` all
read these functions, so a number means the same thing wherever it appears.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ragtune.train.prompt import CITATION, citations

WORD = re.compile(r"[\w€$£%.,:/-]+", re.UNICODE)
TRAILING_CITATION = re.compile(r"\[doc:[^\]\s]+\]\s*$")
ANSWER_METRICS = ("f1", "exact_match", "citation_accuracy", "citation_format", "groundedness")
LATENCY_METRICS = ("retrieval_p50", "retrieval_p95", "generation_p50", "generation_p95")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of an answer, citations and edge punctuation removed."""
    words = (match.strip(".,:/-") for match in WORD.findall(CITATION.sub(" ", text).lower()))
    return [word for word in words if word]


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 between the answer and the gold answer."""
    predicted, expected = tokens(prediction), tokens(gold)
    if not predicted or not expected:
        return float(predicted == expected)
    overlap = sum((Counter(predicted) & Counter(expected)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the answer's tokens equal the gold answer's (citations and case ignored)."""
    return float(tokens(prediction) == tokens(gold))


def citation_accuracy(prediction: str, gold_doc_ids: Sequence[str]) -> float:
    """1.0 when the answer cites at least one gold document (no citation scores 0)."""
    return float(bool(set(citations(prediction)) & set(gold_doc_ids)))


def citation_format(prediction: str) -> float:
    """1.0 when the answer ends with a ``[doc:ID]`` citation (the house style)."""
    return float(bool(TRAILING_CITATION.search(prediction)))


def groundedness(prediction: str, context: str) -> float | None:
    """Share of the answer's tokens found in the retrieved context; None without context."""
    if not context.strip():
        return None
    predicted = tokens(prediction)
    if not predicted:
        return 0.0
    available = set(tokens(context))
    return sum(token in available for token in predicted) / len(predicted)


def score_answer(
    prediction: str, gold: str, gold_doc_ids: Sequence[str], context: str
) -> dict[str, float | None]:
    """Every answer metric of one question."""
    return {
        "f1": token_f1(prediction, gold),
        "exact_match": exact_match(prediction, gold),
        "citation_accuracy": citation_accuracy(prediction, gold_doc_ids),
        "citation_format": citation_format(prediction),
        "groundedness": groundedness(prediction, context),
    }


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _mean(values: Iterable[float | None]) -> float:
    present = [value for value in values if value is not None]
    return statistics.fmean(present) if present else math.nan


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean answer metrics and latency p50/p95 over per-question rows."""
    summary: dict[str, float] = {"questions": float(len(rows))}
    for name in ANSWER_METRICS:
        summary[name] = _mean(row[name] for row in rows)
    for phase in ("retrieval", "generation"):
        seconds = [row[f"{phase}_seconds"] for row in rows]
        summary[f"{phase}_p50"] = percentile(seconds, 0.50)
        summary[f"{phase}_p95"] = percentile(seconds, 0.95)
    return summary
