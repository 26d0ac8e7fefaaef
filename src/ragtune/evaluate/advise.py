"""RAG, fine-tuning or both: the article's four questions as a decision table over signals.

How fast does content change? How specialised is the vocabulary? Must answers be traceable?
What may compute cost? Measured signals answer the first two (``evaluate/signals.py``), params
the last two; the latest four-arm evaluation, when there is one, confirms or overrules.
The function here is pure, so the table is unit-tested case by case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Recommendation = Literal["rag", "fine-tune", "hybrid"]
MARGIN = 0.02
"""Token-F1 difference below which two arms count as equal (noise on a few dozen questions)."""


@dataclass(frozen=True)
class ArmScores:
    """Token F1 of each arm on all questions (and FT on facts changed since its training)."""

    base: float
    rag: float
    ft: float
    ft_rag: float
    ft_changed: float | None = None
    ft_unchanged: float | None = None


@dataclass(frozen=True)
class Signals:
    """What advise weighs; None means not measured."""

    change_rate: float | None
    """Share of documents added, changed, renamed or removed by the latest index refresh."""
    jargon_tokens: float | None
    """Mean base-tokenizer tokens per glossary term."""
    traceable_answers: bool
    compute_budget: Literal["low", "medium", "high"]
    arms: ArmScores | None = None


@dataclass
class Advice:
    """The recommendation and every reason behind it, in words."""

    recommendation: Recommendation
    reasons: list[str] = field(default_factory=list)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}"


def decide(signals: Signals, change_threshold: float, jargon_threshold: float) -> Advice:
    """Apply the decision table; every rule that fires adds its reason."""
    reasons: list[str] = []
    wants_rag = wants_ft = False
    if signals.change_rate is not None and signals.change_rate > change_threshold:
        wants_rag = True
        reasons.append(
            f"content changes fast: {signals.change_rate:.1%} of documents changed in the latest "
            f"refresh (> {change_threshold:.0%}); retrieval stays current after a cheap re-index"
        )
    elif signals.change_rate is not None:
        reasons.append(f"content is stable: {signals.change_rate:.1%} of documents changed")
    if signals.traceable_answers:
        wants_rag = True
        reasons.append("answers must be traceable: retrieval cites the documents it used")
    if signals.jargon_tokens is not None and signals.jargon_tokens > jargon_threshold:
        if signals.compute_budget == "low":
            reasons.append(
                f"vocabulary is specialised ({signals.jargon_tokens:.1f} tokens per glossary "
                f"term > {jargon_threshold}), but compute_budget is low: index the glossary "
                "and fine-tune once a GPU budget exists"
            )
        else:
            wants_ft = True
            reasons.append(
                f"vocabulary is specialised ({signals.jargon_tokens:.1f} tokens per glossary "
                f"term > {jargon_threshold}): fine-tuning teaches the jargon and house style"
            )
    arms = signals.arms
    if arms is not None:
        if arms.rag > arms.base + MARGIN:
            wants_rag = True
            reasons.append(f"measured: retrieval lifts F1 {arms.base:.3f} -> {arms.rag:.3f}")
        stale = (
            arms.ft_changed is not None
            and arms.ft_unchanged is not None
            and arms.ft_changed + MARGIN < arms.ft_unchanged
        )
        if stale:
            wants_rag = True
            reasons.append(
                f"measured: the fine-tune alone is stale on changed facts (F1 "
                f"{_fmt(arms.ft_changed)} vs {_fmt(arms.ft_unchanged)} on unchanged ones)"
            )
        if arms.ft_rag > arms.rag + MARGIN and signals.compute_budget != "low":
            wants_ft = True
            reasons.append(
                f"measured: the fine-tune adds to retrieval (FT+RAG F1 {arms.ft_rag:.3f} vs "
                f"base+RAG {arms.rag:.3f})"
            )
        elif arms.ft_rag <= arms.rag + MARGIN and wants_ft:
            wants_ft = False
            reasons.append(
                f"measured: the fine-tune adds nothing to retrieval yet (FT+RAG F1 "
                f"{arms.ft_rag:.3f} vs base+RAG {arms.rag:.3f}); train longer or a larger "
                "model before paying for it"
            )
    if wants_rag and wants_ft:
        return Advice("hybrid", reasons)
    if wants_ft:
        return Advice("fine-tune", reasons)
    if not wants_rag:
        reasons.append("nothing calls for a fine-tune: retrieval is the cheaper place to start")
    return Advice("rag", reasons)
