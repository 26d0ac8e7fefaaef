"""The one answering path: retrieve k chunks, render the house prompt, generate in batches.

Evaluation, `ragtune ask`, HTTP serving and the MLflow pyfunc all answer through
:func:`answer` (or, with contexts already rendered, :func:`generate_batch`), so what is
evaluated is what is served. Generation is greedy and batched: prompts are sorted by length
(less padding), left-padded, and each batch is one ``generate`` call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.index.query import Hit, query_collection, resolve
from ragtune.train.prompt import (
    CITATION,
    ContextChunk,
    build_messages,
    citations,
    format_context,
)

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    from ragtune.config import Settings

DEFAULT_BATCH_SIZE = 8


@dataclass
class Generator:
    """A causal LM and its tokenizer; with ``adapter=False`` a PEFT model answers as its base."""

    model: Any
    tokenizer: Any
    label: str = "base"
    """What answers: 'base' or e.g. 'ragtune-generator v3'."""
    adapter: bool = False
    max_new_tokens: int = 64

    def active(self) -> AbstractContextManager[Any]:
        """Context in which the model answers as this generator (adapter on, or off)."""
        if not self.adapter and hasattr(self.model, "disable_adapter"):
            return self.model.disable_adapter()
        return nullcontext()


@dataclass
class Retriever:
    """An open collection (resolved from a name or alias) and the query embedder."""

    client: QdrantClient
    collection: str
    embedder: SentenceTransformer
    batch_size: int = 64
    retrieval: str = "hybrid"
    """index.retrieval: dense, sparse or hybrid."""

    def search(self, questions: Sequence[str], k: int) -> list[list[Hit]]:
        """Top ``k`` chunks per question; the query embedding is one batched call."""
        return query_collection(
            self.client,
            self.collection,
            self.embedder,
            questions,
            k,
            self.batch_size,
            self.retrieval,
        )


@contextmanager
def open_retriever(
    settings: Settings, name: str | None = None, embedder: SentenceTransformer | None = None
) -> Iterator[Retriever]:
    """A retriever over collection/alias ``name`` (default: the staging alias)."""
    from ragtune.index import store
    from ragtune.index.embed import load_embedder

    with store.open_store(settings) as client:
        target = resolve(client, name or settings.index.staging_alias)
        model = embedder or load_embedder(settings.index)
        yield Retriever(client, target, model, settings.index.batch_size, settings.index.retrieval)


@dataclass
class Answer:
    """One question answered; seconds are this question's share of its batched calls."""

    question: str
    answer: str
    cited_doc_ids: list[str]
    retrieved_doc_ids: list[str]
    retrieval_seconds: float
    generation_seconds: float
    new_tokens: int
    passages: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generated:
    """Text and generated-token count of one batched generation."""

    text: str
    new_tokens: int
    seconds: float


def _new_token_count(row: Any, eos_ids: set[int]) -> int:
    for position, token in enumerate(row.tolist()):
        if token in eos_ids:
            return position + 1
    return len(row)


def generate_batch(
    generator: Generator,
    messages: Sequence[list[dict[str, str]]],
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[Generated]:
    """Greedy completions of chat ``messages``, ``batch_size`` prompts per ``generate`` call."""
    import torch

    tokenizer, model = generator.tokenizer, generator.model
    prompts = [
        tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        for chat in messages
    ]
    # Sorting by length keeps padding (wasted compute) low inside each batch.
    order = sorted(range(len(prompts)), key=lambda index: len(prompts[index]))
    eos = tokenizer.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
    device = next(model.parameters()).device
    results: list[Generated | None] = [None] * len(prompts)
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            encoded = tokenizer(
                [prompts[index] for index in chosen],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            )
            # Only what a causal LM takes: some tokenizers add token_type_ids generate() rejects.
            inputs = {key: encoded[key].to(device) for key in ("input_ids", "attention_mask")}
            started = time.perf_counter()
            prompt_length = inputs["input_ids"].shape[1]
            with torch.inference_mode(), generator.active():
                output = model.generate(
                    **inputs,
                    max_new_tokens=generator.max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    stopping_criteria=[StopAfterCitation(tokenizer, prompt_length)],
                )
            share = (time.perf_counter() - started) / len(chosen)
            for row, index in zip(output[:, prompt_length:], chosen, strict=True):
                text = until_citation(tokenizer.decode(row, skip_special_tokens=True).strip())
                results[index] = Generated(text, _new_token_count(row, eos_ids), share)
    finally:
        tokenizer.padding_side = padding_side
    return [result for result in results if result is not None]


def until_citation(text: str) -> str:
    """The answer up to the end of its first ``[doc:ID]``: the house style ends there."""
    found = CITATION.search(text)
    return text[: found.end()] if found else text


class StopAfterCitation:
    """Stops each sequence of a batch once its answer holds a complete ``[doc:ID]`` citation.

    The house answer ends with its citation; a small model tends to run on after it (another
    passage header, a new "Question:"), which costs generation time and dilutes the answer.
    """

    def __init__(self, tokenizer: Any, prompt_length: int, tail_tokens: int = 16) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.tail_tokens = tail_tokens
        self.done: list[bool] = []

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if not self.done:
            self.done = [False] * input_ids.shape[0]
        # Only the newest tokens can complete a citation; earlier rows are already decided.
        start = max(self.prompt_length, input_ids.shape[1] - self.tail_tokens)
        for row, ids in enumerate(input_ids[:, start:]):
            if not self.done[row]:
                tail = self.tokenizer.decode(ids, skip_special_tokens=True)
                # Ids hold no whitespace; some tokenizers decode "[ doc : x ]" with spaces.
                self.done[row] = CITATION.search("".join(tail.split())) is not None
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


def context_chunks(hits: Sequence[Hit]) -> list[ContextChunk]:
    """Retrieved chunks as the prompt shows them."""
    return [ContextChunk(hit.doc_id, hit.text, hit.title) for hit in hits]


def answer(
    questions: Sequence[str],
    generator: Generator,
    collection: Retriever | None,
    k: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[Answer]:
    """Answer each question, with k retrieved chunks as context when ``collection`` is given."""
    questions = list(questions)
    hits: list[list[Hit]] = [[] for _ in questions]
    retrieval_share = 0.0
    if collection is not None and questions:
        started = time.perf_counter()
        hits = collection.search(questions, k)
        retrieval_share = (time.perf_counter() - started) / len(questions)
    messages = [
        build_messages(question, format_context(context_chunks(found)))
        for question, found in zip(questions, hits, strict=True)
    ]
    generated = generate_batch(generator, messages, batch_size)
    return [
        Answer(
            question=question,
            answer=result.text,
            cited_doc_ids=citations(result.text),
            retrieved_doc_ids=list(dict.fromkeys(hit.doc_id for hit in found)),
            retrieval_seconds=retrieval_share,
            generation_seconds=result.seconds,
            new_tokens=result.new_tokens,
            passages=list(found),
        )
        for question, found, result in zip(questions, hits, generated, strict=True)
    ]
