"""RAFT-style training data from the prepared datasets (training split only).

Each QA or behaviour row of a training document becomes one example: the house-style system
prompt, the question, ``context_chunks`` chunks (the gold chunk of the cited document plus
distractors from other training documents, or, with ``distractor_only_probability``, only
distractors) and the target answer ending with ``[doc:ID]``. Glossary questions are added once
more without any context, so the jargon itself is learned. Held-out examples come from the
dev split. Contexts are cut with the index chunker, so the model reads passages the way
retrieval serves them.
"""

from __future__ import annotations

import logging
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.config import FinetuneConfig
from ragtune.data.load import write_jsonl
from ragtune.errors import FinetuneError
from ragtune.index.chunk import Chunk, chunk_documents
from ragtune.train.prompt import ContextChunk, build_messages, cite

logger = logging.getLogger(__name__)

TRAIN_FILE = "train.jsonl"
EVAL_FILE = "eval.jsonl"
_WORD = re.compile(r"[\w€$%.,:/-]+")


@dataclass
class FinetuneData:
    """Examples ready to tokenize, plus the counts logged with the run."""

    train: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)


def split_doc_ids(qa_rows: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """Documents of each split (splits are by document: a doc's questions share its split)."""
    splits: dict[str, set[str]] = defaultdict(set)
    for row in qa_rows:
        splits[row["split"]].update(row["doc_ids"])
    return dict(splits)


def training_rows(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows fine-tuning learns from: train-split QA, and behaviour rows of train docs only."""
    train_docs = split_doc_ids(tables["qa"]).get("train", set())
    return {
        "qa_train": [row for row in tables["qa"] if row["split"] == "train"],
        "behaviour": [
            row
            for row in tables["behaviour"]
            if row["doc_ids"] and set(row["doc_ids"]) <= train_docs
        ],
    }


def _words(text: str) -> set[str]:
    return {word.strip(".,:").lower() for word in _WORD.findall(text)} - {""}


def gold_chunk(answer: str, chunks: Sequence[Chunk]) -> Chunk:
    """The chunk that best supports the answer: most shared words, numbers counting triple."""

    def score(chunk: Chunk) -> tuple[int, int]:
        shared = _words(answer) & _words(chunk.text)
        return (sum(3 if any(c.isdigit() for c in w) else 1 for w in shared), -chunk.position)

    return max(chunks, key=score)


def _as_context(chunk: Chunk) -> ContextChunk:
    return ContextChunk(doc_id=chunk.doc_id, text=chunk.text, title=chunk.title)


def raft_context(
    row: dict[str, Any],
    chunks_by_doc: dict[str, list[Chunk]],
    distractor_docs: Sequence[str],
    config: FinetuneConfig,
    rng: random.Random,
) -> tuple[list[ContextChunk], bool]:
    """Context for one example and whether the gold chunk is in it (RAFT's P vs 1-P)."""
    gold_docs = [doc_id for doc_id in row["doc_ids"] if chunks_by_doc.get(doc_id)]
    with_gold = bool(gold_docs) and rng.random() >= config.distractor_only_probability
    picked: list[Chunk] = []
    if with_gold:
        picked.append(gold_chunk(row["answer"], chunks_by_doc[gold_docs[0]]))
    others = [doc_id for doc_id in distractor_docs if doc_id not in row["doc_ids"]]
    wanted = config.context_chunks - len(picked)
    for doc_id in rng.sample(others, min(wanted, len(others))):
        picked.append(rng.choice(chunks_by_doc[doc_id]))
    rng.shuffle(picked)
    return [_as_context(chunk) for chunk in picked], with_gold


def _truncate(text: str, tokenizer: Any, budget: int) -> str:
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    return text if len(offsets) <= budget else text[: offsets[max(budget, 1) - 1][1]]


def _length(messages: list[dict[str, str]], tokenizer: Any) -> int:
    return len(
        tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    )


def fit_context(
    question: str, contexts: list[ContextChunk], answer: str, tokenizer: Any, max_length: int
) -> list[dict[str, str]] | None:
    """Messages within ``max_length`` tokens, trimming context passages evenly; None if impossible."""
    messages = build_messages(question, contexts, answer)
    if _length(messages, tokenizer) <= max_length:
        return messages
    if not contexts:
        return None
    empty = [ContextChunk(c.doc_id, "", c.title) for c in contexts]
    budget = (max_length - _length(build_messages(question, empty, answer), tokenizer)) // len(
        contexts
    )
    while budget >= 8:
        trimmed = [
            ContextChunk(c.doc_id, _truncate(c.text, tokenizer, budget), c.title) for c in contexts
        ]
        messages = build_messages(question, trimmed, answer)
        if _length(messages, tokenizer) <= max_length:
            return messages
        budget -= max(1, budget // 10)
    return None


def _examples(
    rows: Sequence[dict[str, Any]],
    source: str,
    split: str,
    chunks_by_doc: dict[str, list[Chunk]],
    distractor_docs: Sequence[str],
    config: FinetuneConfig,
    tokenizer: Any,
    counts: dict[str, int],
    with_context: bool = True,
) -> list[dict[str, Any]]:
    examples = []
    for row in rows:
        row_id = row.get("qa_id") or row["example_id"]
        # One generator per example: adding a row never reshuffles the others' contexts.
        rng = random.Random(f"{config.seed}:{source}:{row_id}")
        contexts, gold_in_context = [], False
        if with_context:
            contexts, gold_in_context = raft_context(
                row, chunks_by_doc, distractor_docs, config, rng
            )
        answer = cite(row["answer"], row["doc_ids"])
        messages = fit_context(row["question"], contexts, answer, tokenizer, config.max_seq_length)
        if messages is None:
            counts["dropped_too_long"] += 1
            continue
        examples.append(
            {
                "example_id": f"{source}:{row_id}",
                "source": source,
                "split": split,
                "doc_ids": list(row["doc_ids"]),
                "gold_in_context": gold_in_context,
                "messages": messages,
            }
        )
    return examples


def build_finetune_data(
    tables: dict[str, list[dict[str, Any]]],
    config: FinetuneConfig,
    chunk_tokenizer: Any,
    tokenizer: Any,
) -> FinetuneData:
    """Train (training split) and eval (dev split) examples from the prepared tables."""
    splits = split_doc_ids(tables["qa"])
    train_docs, dev_docs = sorted(splits.get("train", ())), sorted(splits.get("dev", ()))
    if not train_docs:
        raise FinetuneError("qa.jsonl has no rows with split 'train'; nothing to fine-tune on")
    wanted = set(train_docs) | set(dev_docs)
    docs = [doc for doc in tables["docs"] if doc["doc_id"] in wanted]
    chunks_by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunk_documents(
        docs, chunk_tokenizer, config.context_chunk_tokens, config.context_chunk_overlap
    ):
        chunks_by_doc[chunk.doc_id].append(chunk)
    pool_train = [doc_id for doc_id in train_docs if chunks_by_doc.get(doc_id)]
    pool_dev = [doc_id for doc_id in dev_docs if chunks_by_doc.get(doc_id)] or pool_train
    rows = training_rows(tables)
    counts: dict[str, int] = defaultdict(int)
    common = (chunks_by_doc, pool_train, config, tokenizer, counts)
    train = _examples(rows["qa_train"], "qa", "train", *common)
    train += _examples(rows["behaviour"], "behaviour", "train", *common)
    if config.glossary_examples:
        glossary = [row for row in rows["qa_train"] if row["kind"] == "glossary"]
        train += _examples(glossary, "glossary", "train", *common, with_context=False)
    dev_rows = [row for row in tables["qa"] if row["split"] == "dev"]
    random.Random(config.seed).shuffle(dev_rows)
    dev_common = (chunks_by_doc, pool_dev, config, tokenizer, counts)
    evaluation = _examples(dev_rows[: config.max_eval_examples], "qa", "dev", *dev_common)
    if not evaluation:
        raise FinetuneError("qa.jsonl has no usable rows with split 'dev' for held-out loss")
    for example in train:
        counts[f"train_{example['source']}"] += 1
    counts.update(train_examples=len(train), eval_examples=len(evaluation))
    counts["train_gold_in_context"] = sum(example["gold_in_context"] for example in train)
    logger.info("finetune data: %s", dict(counts))
    return FinetuneData(train=train, eval=evaluation, counts=dict(counts))


def write_finetune_data(data: FinetuneData, out_dir: Path) -> dict[str, Path]:
    """Write train.jsonl and eval.jsonl (the DVC-versioned training data)."""
    paths = {"train": out_dir / TRAIN_FILE, "eval": out_dir / EVAL_FILE}
    write_jsonl(paths["train"], data.train)
    write_jsonl(paths["eval"], data.eval)
    return paths
