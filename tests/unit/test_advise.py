"""The advise decision table, case by case, and the jargon measurement on a real tokenizer."""

from __future__ import annotations

import pytest
from train_support import chat_tokenizer

from ragtune.evaluate.advise import ArmScores, Signals, decide
from ragtune.evaluate.signals import glossary_terms, tokens_per_term

CHANGE, JARGON = 0.05, 3.0


def signals(**overrides) -> Signals:
    values = dict(
        change_rate=0.01, jargon_tokens=1.5, traceable_answers=False, compute_budget="medium"
    )
    return Signals(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "expected", "reason"),
    [
        ({}, "rag", "nothing calls for a fine-tune"),
        ({"change_rate": 0.2}, "rag", "content changes fast"),
        ({"traceable_answers": True}, "rag", "must be traceable"),
        ({"jargon_tokens": 4.0}, "fine-tune", "vocabulary is specialised"),
        ({"jargon_tokens": 4.0, "change_rate": 0.2}, "hybrid", "content changes fast"),
        ({"jargon_tokens": 4.0, "compute_budget": "low"}, "rag", "compute_budget is low"),
        ({"change_rate": None, "jargon_tokens": None}, "rag", "nothing calls"),
    ],
)
def test_signals_alone(overrides: dict, expected: str, reason: str) -> None:
    advice = decide(signals(**overrides), CHANGE, JARGON)
    assert advice.recommendation == expected
    assert any(reason in line for line in advice.reasons), advice.reasons


def test_measured_arms_confirm_or_overrule() -> None:
    helps = ArmScores(base=0.1, rag=0.4, ft=0.2, ft_rag=0.5, ft_changed=0.05, ft_unchanged=0.3)
    advice = decide(signals(arms=helps), CHANGE, JARGON)
    assert advice.recommendation == "hybrid"
    assert any("stale on changed facts" in line for line in advice.reasons)
    assert any("fine-tune adds to retrieval" in line for line in advice.reasons)
    # Jargon asks for a fine-tune, but the measured FT+RAG arm is no better than base+RAG.
    useless = ArmScores(base=0.1, rag=0.4, ft=0.1, ft_rag=0.41)
    advice = decide(signals(jargon_tokens=4.0, arms=useless), CHANGE, JARGON)
    assert advice.recommendation == "rag"
    assert any("adds nothing to retrieval yet" in line for line in advice.reasons)
    # A low budget never buys a fine-tune, even one that measured well.
    assert decide(signals(compute_budget="low", arms=helps), CHANGE, JARGON).recommendation == "rag"


def test_invented_terms_split_into_more_tokens_than_common_words() -> None:
    docs = [
        {"source": "glossary", "title": "Glossary: briostavel"},
        {"source": "glossary", "title": "Glossary: quendrumix"},
        {"source": "policy", "title": "Travel policy"},
    ]
    assert glossary_terms(docs) == ["briostavel", "quendrumix"]
    tokenizer = chat_tokenizer()
    invented = tokens_per_term(tokenizer, glossary_terms(docs))
    common = tokens_per_term(tokenizer, ["travel", "policy"])
    assert invented > common == 1.0
    assert tokens_per_term(tokenizer, []) is None
