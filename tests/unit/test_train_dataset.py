"""RAFT examples: training split only, gold chunk + distractors, cited targets, length cap."""

from __future__ import annotations

import pytest
from train_support import chat_tokenizer

from ragtune.config import FinetuneConfig
from ragtune.errors import FinetuneError
from ragtune.index.chunk import Chunk
from ragtune.train.dataset import build_finetune_data, gold_chunk, training_rows
from ragtune.train.prompt import citations

FILLER = "Feedback on this page is welcome. Links to forms are in the portal. " * 6


def _doc(doc_id: str, fact: str, source: str = "product") -> dict:
    return {
        "doc_id": doc_id,
        "title": f"Sheet {doc_id}",
        "text": f"{FILLER}{fact} {FILLER}",
        "source": source,
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _qa(qa_id: str, doc_id: str, split: str, answer: str, kind: str = "product") -> dict:
    return {
        "qa_id": qa_id,
        "question": f"What about {doc_id}?",
        "answer": answer,
        "doc_ids": [doc_id],
        "split": split,
        "kind": kind,
        "revision": 1,
    }


def tables() -> dict[str, list[dict]]:
    docs, qa = [], []
    for index in range(12):
        split = "train" if index < 8 else ("dev" if index < 10 else "test")
        price = 100 + index
        docs.append(_doc(f"prod-{index:02d}", f"The Zorbex Z{index} costs {price} euros."))
        qa.append(_qa(f"qa-{index:02d}", f"prod-{index:02d}", split, f"It costs {price} euros."))
    docs.append(_doc("gls-01", "In Veltrona jargon, a briost is a firmware build.", "glossary"))
    qa.append(_qa("qa-gls", "gls-01", "train", "A briost is a firmware build.", "glossary"))
    behaviour = [
        {
            "example_id": "bx-1",
            "kind": "style",
            "question": "Price of Z1?",
            "answer": "It costs 101 euros. [doc:prod-01]",
            "doc_ids": ["prod-01"],
            "revision": 1,
        },
        {
            "example_id": "bx-9",
            "kind": "style",
            "question": "Price of Z9?",
            "answer": "It costs 109 euros. [doc:prod-09]",
            "doc_ids": ["prod-09"],
            "revision": 1,
        },
    ]
    return {"docs": docs, "qa": qa, "behaviour": behaviour}


@pytest.fixture(scope="module")
def tokenizer():
    return chat_tokenizer()


def config(**overrides) -> FinetuneConfig:
    return FinetuneConfig(**{"context_chunk_tokens": 32, "context_chunk_overlap": 4, **overrides})


def test_training_rows_keep_train_split_and_train_docs_only() -> None:
    rows = training_rows(tables())
    assert {row["split"] for row in rows["qa_train"]} == {"train"}
    assert [row["example_id"] for row in rows["behaviour"]] == ["bx-1"]  # prod-09 is dev


def test_gold_chunk_holds_the_answer_value() -> None:
    chunks = [
        Chunk("a", "d", 0, "Feedback is welcome here.", "h0"),
        Chunk("b", "d", 1, "The Zorbex Z3 costs 103 euros.", "h1"),
        Chunk("c", "d", 2, "It costs nothing to ask.", "h2"),
    ]
    assert gold_chunk("It costs 103 euros.", chunks).position == 1


def test_examples_are_raft_style_and_cited(tokenizer) -> None:
    data = build_finetune_data(
        tables(), config(distractor_only_probability=0.0), tokenizer, tokenizer
    )
    assert data.counts["train_qa"] == 9 and data.counts["train_behaviour"] == 1
    assert data.counts["train_glossary"] == 1
    dev_docs = {"prod-08", "prod-09"}
    for example in data.train:
        assert example["split"] == "train"
        target = example["messages"][-1]["content"]
        assert citations(target) == example["doc_ids"], target
        user = example["messages"][1]["content"]
        assert not any(f"[doc:{doc}]" in user for doc in dev_docs | {"prod-10", "prod-11"})
        if example["source"] == "glossary":
            assert "Context:" not in user
        else:
            assert example["gold_in_context"]
            assert user.count("[doc:") == 3
            assert f"[doc:{example['doc_ids'][0]}]" in user
    gold = next(e for e in data.train if e["example_id"] == "qa:qa-03")
    assert "costs 103 euros" in gold["messages"][1]["content"]
    assert {e["split"] for e in data.eval} == {"dev"}
    assert {e["doc_ids"][0] for e in data.eval} == dev_docs


def test_distractor_only_contexts_and_determinism(tokenizer) -> None:
    data = build_finetune_data(
        tables(), config(distractor_only_probability=1.0), tokenizer, tokenizer
    )
    raft = [e for e in data.train if e["source"] != "glossary"]
    assert raft and not any(e["gold_in_context"] for e in raft)
    for example in raft:
        assert f"[doc:{example['doc_ids'][0]}]" not in example["messages"][1]["content"]
        assert example["messages"][-1]["content"].endswith(f"[doc:{example['doc_ids'][0]}]")
    again = build_finetune_data(
        tables(), config(distractor_only_probability=1.0), tokenizer, tokenizer
    )
    assert again.train == data.train


def test_contexts_are_trimmed_to_max_seq_length(tokenizer) -> None:
    data = build_finetune_data(
        tables(), config(max_seq_length=120, context_chunk_tokens=64), tokenizer, tokenizer
    )
    assert data.train
    for example in data.train + data.eval:
        ids = tokenizer.apply_chat_template(example["messages"], tokenize=True, return_dict=True)
        assert len(ids["input_ids"]) <= 120


def test_missing_splits_fail_with_the_file_named(tokenizer) -> None:
    no_train = tables()
    no_train["qa"] = [row for row in no_train["qa"] if row["split"] != "train"]
    with pytest.raises(FinetuneError, match="split 'train'"):
        build_finetune_data(no_train, config(), tokenizer, tokenizer)
