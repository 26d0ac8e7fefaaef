"""The ONNX query embedder gives sentence-transformers' vectors (within 1e-3 cosine) and hits."""

from __future__ import annotations

import numpy as np
import pytest
from index_support import raw_docs, set_index_params, write_docs_and_prepare

from ragtune.index import onnx_embed
from ragtune.index.embed import load_embedder
from ragtune.index.query import query_index
from ragtune.index.refresh import refresh_index

pytestmark = pytest.mark.slow
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_onnx_export_matches_the_model_and_answers_queries_alike(demo_project) -> None:
    settings = set_index_params(demo_project)
    docs = raw_docs(settings)[:12]
    write_docs_and_prepare(settings, docs)
    model = load_embedder(settings.index)
    refresh_index(settings, show_progress=False, embedder=model)
    assert onnx_embed.load_query_embedder(settings) is None  # nothing exported yet
    query = f"What does {docs[2]['title']} say?"
    before = [hit.chunk_id for hit in query_index(settings, query, k=5)]

    assert onnx_embed.export_query_model(settings, model, ["a sample question"]) is not None
    light = onnx_embed.load_query_embedder(settings)
    assert light is not None
    # Texts the export was not checked on: short questions, whole documents, and one text
    # longer than max_seq_length (both truncate it at 256 tokens).
    texts = [query, "refund?", " ".join(doc["text"] for doc in docs[:4])]
    texts += [doc["text"] for doc in docs]
    assert max(light.count_tokens(text) for text in texts) > model.max_seq_length
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    gap = 1.0 - np.sum(light.encode(texts) * expected, axis=1)
    assert float(gap.max()) <= onnx_embed.MAX_COSINE_GAP
    for text in texts:
        tokens = model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"]
        assert light.count_tokens(text) == len(tokens)
    assert [hit.chunk_id for hit in query_index(settings, query, k=5)] == before


def test_a_small_refresh_embeds_new_text_with_the_export_not_torch(demo_project, monkeypatch):
    import json

    import ragtune.index.embed as embed_module
    from ragtune.index import manifest

    settings = set_index_params(demo_project)
    docs = raw_docs(settings)[:12]
    write_docs_and_prepare(settings, docs[:10])
    model = load_embedder(settings.index)
    refresh_index(settings, show_progress=False, embedder=model)
    folder = onnx_embed.export_query_model(settings, model, ["a sample question"])
    assert folder is not None
    assert json.loads((folder / onnx_embed.CHECK_FILE).read_text(encoding="utf-8"))["long_text"]

    def no_torch(*_):
        raise AssertionError("a refresh of two documents loaded sentence-transformers")

    monkeypatch.setattr(embed_module, "load_embedder", no_torch)
    write_docs_and_prepare(settings, docs)  # two new documents
    result = refresh_index(settings, show_progress=False)
    assert 0 < result.counts["chunks_embedded"] <= onnx_embed.ONNX_MAX_TEXTS
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        new = manifest.docs_chunks(db, result.collection, [d["doc_id"] for d in docs[10:]])
        texts = [item.chunk.text for item in new]
        stored = manifest.cached_vectors(
            db, settings.index.embedding_model, [i.chunk.content_hash for i in new]
        )
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    got = np.stack([stored[item.chunk.content_hash] for item in new])
    assert float((1.0 - np.sum(got * expected, axis=1)).max()) <= onnx_embed.MAX_COSINE_GAP
