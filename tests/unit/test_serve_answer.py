"""The answering path on a tiny model: batching changes nothing but speed; arms switch adapters."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ragtune.index.query import Hit
from ragtune.serve.answer import Generator, answer, generate_batch
from ragtune.train.prompt import build_messages
from tests.train_support import chat_tokenizer, tiny_causal_lm

QUESTIONS = [
    "What is a briost?",
    "Who approves travel over 2,000 EUR at the Ostrava site?",
    "How long is the warranty?",
    "What does the Kelvane desk cost per month for a team of twelve people?",
    "Where is the fee policy?",
]


class FixedRetriever:
    """Returns the same two chunks for every question, so the prompt content is known."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def search(self, questions: Sequence[str], k: int) -> list[list[Hit]]:
        self.calls.append(list(questions))
        hits = [
            Hit(0.9, "gls-00001", "Glossary: briost", 0, "c1", "A briost is a nightly build."),
            Hit(0.8, "pol-00002", "Travel policy", 0, "c2", "Travel over 2,000 EUR needs a VP."),
            Hit(0.7, "gls-00001", "Glossary: briost", 1, "c3", "Briosts ship on Fridays."),
        ]
        return [hits[:k] for _ in questions]


@pytest.fixture(scope="module")
def generator() -> Generator:
    tokenizer = chat_tokenizer()
    return Generator(tiny_causal_lm(len(tokenizer)).eval(), tokenizer, max_new_tokens=6)


def test_batched_generation_matches_one_at_a_time(generator: Generator) -> None:
    messages = [build_messages(question) for question in QUESTIONS]
    batched = generate_batch(generator, messages, batch_size=4)
    single = [generate_batch(generator, [chat], batch_size=1)[0] for chat in messages]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(0 < g.new_tokens <= 6 for g in batched)
    assert generator.tokenizer.padding_side == "right"  # restored after generating


def test_answer_retrieves_once_and_reports_sources(generator: Generator) -> None:
    retriever = FixedRetriever()
    answers = answer(QUESTIONS, generator, retriever, k=3, batch_size=2)
    assert retriever.calls == [QUESTIONS]  # one batched retrieval for all questions
    assert [a.question for a in answers] == QUESTIONS
    for result in answers:
        assert result.retrieved_doc_ids == ["gls-00001", "pol-00002"]  # deduplicated, in order
        assert len(result.passages) == 3
        assert result.retrieval_seconds > 0 and result.generation_seconds > 0
    no_rag = answer(QUESTIONS[:2], generator, None, k=3)
    assert all(a.retrieved_doc_ids == [] and a.retrieval_seconds == 0 for a in no_rag)


def test_base_arm_switches_the_adapter_off(generator: Generator) -> None:
    from peft import LoraConfig, get_peft_model

    tokenizer = generator.tokenizer
    base = tiny_causal_lm(len(tokenizer), seed=1).eval()
    plain = Generator(base, tokenizer, max_new_tokens=6)
    expected = [g.text for g in generate_batch(plain, [build_messages(q) for q in QUESTIONS])]
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(tiny_causal_lm(len(tokenizer), seed=1), config).eval()
    for module in peft_model.modules():  # a large update, so the adapter visibly changes answers
        if hasattr(module, "lora_B"):
            for layer in module.lora_B.values():
                layer.weight.data.normal_(0, 5.0)
    off = Generator(peft_model, tokenizer, adapter=False, max_new_tokens=6)
    on = Generator(peft_model, tokenizer, adapter=True, max_new_tokens=6)
    messages = [build_messages(q) for q in QUESTIONS]
    assert [g.text for g in generate_batch(off, messages)] == expected
    assert [g.text for g in generate_batch(on, messages)] != expected
