"""The answering path on a tiny model: batching changes nothing but speed; arms switch adapters."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from train_support import chat_tokenizer, tiny_causal_lm

from ragtune.index.query import Hit
from ragtune.serve.answer import (
    Generator,
    StopAfterCitation,
    answer,
    generate_batch,
    until_citation,
)
from ragtune.train.prompt import build_messages

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


def test_generation_stops_after_the_first_complete_citation_per_row() -> None:
    import torch

    tokenizer = chat_tokenizer()
    prompt = tokenizer("Question: what is a briost?", add_special_tokens=False)["input_ids"]
    cited = tokenizer(" A nightly build. [doc:gls-00001] Glossary", add_special_tokens=False)
    running = tokenizer(" A nightly build that runs on" * 8, add_special_tokens=False)
    cited_ids, running_ids = cited["input_ids"], running["input_ids"]
    length = min(len(cited_ids), len(running_ids))
    stop = StopAfterCitation(tokenizer, len(prompt))
    decisions = []
    for step in range(1, length + 1):
        batch = torch.tensor([prompt + cited_ids[:step], prompt + running_ids[:step]])
        decisions.append(stop(batch, None).tolist())
    first_stop = next(step for step, (row0, _) in enumerate(decisions, 1) if row0)
    text_at_stop = "".join(tokenizer.decode(cited_ids[:first_stop]).split())
    assert text_at_stop.endswith("[doc:gls-00001]")  # not one token earlier or later
    assert all(row0 for row0, _ in decisions[first_stop - 1 :])  # a stopped row stays stopped
    assert not any(row1 for _, row1 in decisions)  # the other row runs on


def test_answer_text_ends_at_its_first_citation() -> None:
    assert (
        until_citation("A build. [doc:gls-1]\n\n[doc:gls-2] Glossary: x") == "A build. [doc:gls-1]"
    )
    assert until_citation("No citation yet [doc:gls") == "No citation yet [doc:gls"
