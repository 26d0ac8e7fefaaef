"""Copying a collection in Qdrant local mode: the copy is independent and survives a reopen."""

from __future__ import annotations

import numpy as np
from qdrant_client import QdrantClient

from ragtune.index import sparse, store
from ragtune.index.chunk import Chunk
from ragtune.index.clone import clone_collection


def _chunks(count: int, tag: str = "") -> list[Chunk]:
    return [
        Chunk(
            f"{i:08d}-0000-0000-0000-000000000000",
            f"d{i}",
            0,
            f"text {i}{tag}",
            f"h{i}{tag}",
            "t",
            "s",
        )
        for i in range(count)
    ]


def _write(client: QdrantClient, name: str, chunks: list[Chunk], seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((len(chunks), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    terms = [sparse.encode_document(c.text) for c in chunks]
    store.upsert_chunks(client, name, chunks, vectors, terms, "rev", show_progress=False)
    return vectors


def _snapshot(client: QdrantClient, name: str) -> dict[str, tuple[str, list[float]]]:
    return {
        str(p.id): (p.payload["text"], np.round(p.vector[store.DENSE], 5).tolist())
        for p in store.scroll_points(client, name, with_vectors=True)
    }


def test_clone_is_independent_of_its_source_and_persists(tmp_path) -> None:
    path = str(tmp_path / "qdrant")
    client = QdrantClient(path=path)
    try:
        store.create_collection(client, "v-1", 8)
        chunks = _chunks(50)
        _write(client, "v-1", chunks, seed=1)
        before = _snapshot(client, "v-1")

        assert clone_collection(client, "v-1", "v-2")
        assert _snapshot(client, "v-2") == before
        store.delete_points(client, "v-2", [chunks[0].chunk_id, chunks[1].chunk_id])
        changed = _chunks(3, tag=" edited")[2:]
        _write(client, "v-2", changed, seed=2)
        after = _snapshot(client, "v-2")
        assert _snapshot(client, "v-1") == before  # the published version did not move
        assert len(after) == 48 and after[changed[0].chunk_id][0] == "text 2 edited"
        hits = client.query_points("v-2", query=sparse_query("edited"), using=store.SPARSE).points
        assert [str(h.id) for h in hits] == [changed[0].chunk_id]
    finally:
        client.close()

    reopened = QdrantClient(path=path)  # what another process would load from disk
    try:
        assert _snapshot(reopened, "v-1") == before
        assert _snapshot(reopened, "v-2") == after
    finally:
        reopened.close()


def sparse_query(text: str):
    return store.sparse_vector(sparse.encode_query(text))


def test_server_or_unknown_layout_declines(tmp_path) -> None:
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    try:
        store.create_collection(client, "v-1", 8)
        client._client.collections["v-1"].unexpected = True  # a qdrant-client we do not know
        assert not clone_collection(client, "v-1", "v-2")
        assert not client.collection_exists("v-2")
    finally:
        client.close()


def test_folder_left_by_a_killed_refresh_is_not_loaded_into_a_new_collection(tmp_path) -> None:
    import shutil

    path = tmp_path / "qdrant"
    client = QdrantClient(path=str(path))
    try:
        store.create_collection(client, "v-1", 8)
        _write(client, "v-1", _chunks(5), seed=1)
    finally:
        client.close()
    # Killed after writing the folder, before meta.json named it.
    shutil.copytree(path / "collection" / "v-1", path / "collection" / "v-2")
    shutil.copytree(path / "collection" / "v-1", path / "collection" / "v-3")
    client = QdrantClient(path=str(path))
    try:
        store.create_collection(client, "v-2", 8)
        assert client.count("v-2").count == 0
        assert clone_collection(client, "v-2", "v-3")
        assert client.count("v-3").count == 0
    finally:
        client.close()
