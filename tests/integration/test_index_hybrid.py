"""Hybrid retrieval on the real embedded engine: BM25 sparse vectors reused across refreshes."""

from __future__ import annotations

import numpy as np
import pytest
from index_support import raw_docs, set_index_params, write_docs_and_prepare
from qdrant_client import QdrantClient, models

from ragtune.errors import RetrievalIndexError
from ragtune.index import manifest, sparse, store
from ragtune.index.embed import load_embedder
from ragtune.index.query import query_collection, query_index
from ragtune.index.refresh import refresh_index

pytestmark = pytest.mark.slow

RARE = "Zorbexic"


@pytest.fixture(scope="module")
def embedder():
    from ragtune.config import IndexConfig

    return load_embedder(IndexConfig())


def test_edited_chunk_gets_new_sparse_vector_and_others_are_reused(
    demo_project, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = set_index_params(demo_project, retrieval="hybrid")
    docs = raw_docs(settings)[:10]
    write_docs_and_prepare(settings, docs)
    first = refresh_index(settings, show_progress=False, embedder=embedder)

    encoded: list[str] = []
    original = sparse.encode_document

    def counting(text: str) -> sparse.SparseVector:
        encoded.append(text)
        return original(text)

    monkeypatch.setattr(sparse, "encode_document", counting)
    docs[3]["text"] += f" The {RARE} gateway replaced the old relay last spring."
    write_docs_and_prepare(settings, docs)
    second = refresh_index(settings, show_progress=False, embedder=embedder)
    assert second.counts["chunks_embedded"] == 1
    assert len(encoded) == 1 and RARE in encoded[0]  # only the new text got a BM25 vector

    for retrieval in ("sparse", "hybrid"):
        settings.index.retrieval = retrieval
        hits = query_index(settings, f"{RARE} gateway", k=3)
        assert hits[0].doc_id == docs[3]["doc_id"], retrieval

    # Every point of the new collection carries the cached sparse vector of its text.
    manifest_path = settings.path(settings.index.manifest_path)
    with manifest.open_manifest(manifest_path) as db, store.open_store(settings) as client:
        points = list(store.scroll_points(client, second.collection, with_vectors=True))
        hashes = [p.payload["content_hash"] for p in points]
        cached = manifest.cached_sparse(db, sparse.ENCODER, hashes)
        assert len(points) == first.counts["chunks_total"]
        for point in points:
            stored = point.vector[store.SPARSE]
            expected = cached[point.payload["content_hash"]]
            assert list(stored.indices) == expected.indices.tolist()
            assert np.allclose(stored.values, expected.values)


def test_collection_without_sparse_vectors_is_searched_dense_only(tmp_path, embedder) -> None:
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    try:
        client.create_collection(
            "legacy", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
        )
        texts = ["The refund window is thirty days.", "Lounge hours are nine to five."]
        vectors = embedder.encode(texts, normalize_embeddings=True)
        client.upsert(
            "legacy",
            points=[
                models.PointStruct(id=i, vector=v.tolist(), payload={"doc_id": f"d{i}"})
                for i, v in enumerate(vectors)
            ],
        )
        hits = query_collection(
            client, "legacy", embedder, ["refund window"], 1, retrieval="hybrid"
        )
        assert hits[0][0].doc_id == "d0"
        with pytest.raises(RetrievalIndexError, match="no sparse vectors"):
            query_collection(client, "legacy", None, ["refund"], 1, retrieval="sparse")
    finally:
        client.close()
