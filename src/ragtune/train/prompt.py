"""The house answer style as a prompt: one place that formats questions, contexts and citations.

Training examples and generation share these helpers, so the fine-tuned model is always asked
the way it was taught: a system prompt with the house style, the question, k context chunks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

HOUSE_STYLE_PROMPT = (
    "You are the company's internal assistant. Answer in one short sentence, in the company's "
    "own terms. Use the context when it holds the answer. Always end the answer with the "
    "citation of the document it comes from, written as [doc:ID]."
)
CITATION = re.compile(r"\[doc:([^\]\s]+)\]")


@dataclass(frozen=True)
class ContextChunk:
    """One retrieved (or, for training, sampled) passage shown to the model."""

    doc_id: str
    text: str
    title: str = ""


def cite(answer: str, doc_ids: Sequence[str]) -> str:
    """The answer in house style: trimmed, ending with ``[doc:ID]`` for each cited document."""
    answer = answer.strip()
    missing = [doc_id for doc_id in doc_ids if f"[doc:{doc_id}]" not in answer]
    return " ".join([answer, *(f"[doc:{doc_id}]" for doc_id in missing)])


def citations(text: str) -> list[str]:
    """Document ids cited in a generated answer, in order."""
    return CITATION.findall(text)


def format_context(chunks: Sequence[ContextChunk]) -> str:
    """Context chunks as the model sees them, each headed by its citation and title."""
    blocks = []
    for chunk in chunks:
        header = f"[doc:{chunk.doc_id}]" + (f" {chunk.title}" if chunk.title else "")
        blocks.append(f"{header}\n{chunk.text.strip()}")
    return "\n\n".join(blocks)


def build_messages(
    question: str, chunks: Sequence[ContextChunk] | str = (), answer: str | None = None
) -> list[dict[str, str]]:
    """Chat messages (system, user, and the assistant target when given) for one example.

    ``chunks`` may also be context already rendered by :func:`format_context`.
    """
    user = question.strip()
    context = chunks if isinstance(chunks, str) else format_context(chunks)
    if context.strip():
        user = f"Context:\n{context.strip()}\n\nQuestion: {user}"
    messages = [
        {"role": "system", "content": HOUSE_STYLE_PROMPT},
        {"role": "user", "content": user},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def prompt_template() -> list[dict[str, str]]:
    """The chat prompt with ``{{question}}`` and ``{{context}}`` placeholders (prompt registry)."""
    return build_messages("{{question}}", "{{context}}")
