"""The four arms (base, base+RAG, fine-tuned, fine-tuned+RAG) on the same questions, and slices.

Slices: ``changed`` holds questions whose fact is newer than the adapter's training data (QA
``revision`` above the version's ``corpus_revision`` tag), ``unchanged`` the rest, ``glossary``
the jargon questions. Every metric is reported for ``all`` and each slice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ragtune.evaluate.metrics import score_answer, summarise
from ragtune.serve.answer import Generator, Retriever, answer, context_chunks
from ragtune.train.prompt import format_context

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arm:
    """One way of answering: with or without the adapter, with or without retrieval."""

    key: str
    """Metric-safe id: base, rag, ft, ft_rag."""
    option: str
    """How `ragtune ask --arm` spells it: base, rag, ft, ft+rag."""
    label: str
    finetuned: bool
    retrieval: bool


ARMS = (
    Arm("base", "base", "base", finetuned=False, retrieval=False),
    Arm("rag", "rag", "base+RAG", finetuned=False, retrieval=True),
    Arm("ft", "ft", "FT", finetuned=True, retrieval=False),
    Arm("ft_rag", "ft+rag", "FT+RAG", finetuned=True, retrieval=True),
)
ARM_BY_OPTION = {arm.option: arm for arm in ARMS}
SLICES = ("all", "changed", "unchanged", "glossary")


def slices_of(row: dict[str, Any], trained_revision: int | None) -> list[str]:
    """The slices a QA row belongs to (changed/unchanged only when the revision is known)."""
    names = ["all"]
    if trained_revision is not None:
        names.append("changed" if row["revision"] > trained_revision else "unchanged")
    if row.get("kind") == "glossary":
        names.append("glossary")
    return names


def run_arm(
    arm: Arm,
    qa_rows: Sequence[dict[str, Any]],
    generator: Generator,
    retriever: Retriever | None,
    k: int,
    batch_size: int,
    trained_revision: int | None,
) -> list[dict[str, Any]]:
    """Answer every QA row with one arm; return one scored row per question."""
    answers = answer(
        [row["question"] for row in qa_rows],
        generator,
        retriever if arm.retrieval else None,
        k,
        batch_size,
    )
    rows = []
    for qa, result in zip(qa_rows, answers, strict=True):
        context = format_context(context_chunks(result.passages))
        rows.append(
            {
                "arm": arm.key,
                "qa_id": qa["qa_id"],
                "question": qa["question"],
                "gold_answer": qa["answer"],
                "gold_doc_ids": list(qa["doc_ids"]),
                "kind": qa.get("kind", ""),
                "revision": qa["revision"],
                "slices": slices_of(qa, trained_revision),
                "answer": result.answer,
                "cited_doc_ids": result.cited_doc_ids,
                "retrieved_doc_ids": result.retrieved_doc_ids,
                "context": context,
                "retrieval_seconds": result.retrieval_seconds,
                "generation_seconds": result.generation_seconds,
                "new_tokens": result.new_tokens,
                **score_answer(result.answer, qa["answer"], qa["doc_ids"], context),
            }
        )
    logger.info("arm %s: %d questions answered", arm.label, len(rows))
    return rows


def table(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary row per (arm, slice) that has questions, arms in ARMS order."""
    summary = []
    for arm in ARMS:
        for name in SLICES:
            chosen = [row for row in rows if row["arm"] == arm.key and name in row["slices"]]
            if chosen:
                summary.append({"arm": arm.label, "slice": name, **summarise(chosen)})
    return summary


def arm_score(summary: Sequence[dict[str, Any]], arm: Arm, metric: str = "f1") -> float | None:
    """``metric`` of ``arm`` on all questions, from :func:`table`'s rows."""
    for row in summary:
        if row["arm"] == arm.label and row["slice"] == "all":
            return float(row[metric])
    return None
