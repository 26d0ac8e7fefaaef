"""House style: citations are appended once, contexts are headed by their citation."""

from __future__ import annotations

from ragtune.train.prompt import (
    HOUSE_STYLE_PROMPT,
    ContextChunk,
    build_messages,
    citations,
    cite,
    format_context,
)


def test_cite_appends_missing_citations_only() -> None:
    assert cite(" The fee is 40 EUR. ", ["pol-1"]) == "The fee is 40 EUR. [doc:pol-1]"
    assert cite("The fee is 40 EUR. [doc:pol-1]", ["pol-1"]) == "The fee is 40 EUR. [doc:pol-1]"
    assert citations(cite("A.", ["a-1", "b-2"])) == ["a-1", "b-2"]


def test_messages_carry_style_context_and_target() -> None:
    chunks = [ContextChunk("gls-1", "A briost is a build.", "Glossary: briost")]
    messages = build_messages("What is a briost?", chunks, "A build. [doc:gls-1]")
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[0]["content"] == HOUSE_STYLE_PROMPT
    assert "[doc:gls-1] Glossary: briost\nA briost is a build." in messages[1]["content"]
    assert messages[1]["content"].endswith("Question: What is a briost?")
    # Pre-rendered context (what the pyfunc receives) reads the same as chunks.
    rendered = build_messages("What is a briost?", format_context(chunks))
    assert rendered[1] == messages[1]
    assert build_messages("Hi?")[1]["content"] == "Hi?"
