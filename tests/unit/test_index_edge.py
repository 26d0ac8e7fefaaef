"""The edge engine on real qdrant-edge shards: sealed versions, byte copies, the alias file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from ragtune.errors import RetrievalIndexError
from ragtune.index import search, sparse, store
from ragtune.index.chunk import Chunk
from ragtune.index.clone import clone_collection
from ragtune.index.edge import EdgeStore
from ragtune.index.files import copy_sparse_tree

TEXTS = [
    "The refund window is thirty days from delivery.",
    "Lounge hours are nine to five on weekdays.",
    "The Zorbexic gateway replaced the old relay.",
    "Travel over two thousand euros needs approval.",
]


def _chunks() -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"00000000-0000-0000-0000-00000000000{i}",
            doc_id=f"doc-{i}",
            position=0,
            text=text,
            content_hash=f"h{i}",
            title=f"Doc {i}",
            source="test",
        )
        for i, text in enumerate(TEXTS)
    ]


def _vectors(count: int) -> np.ndarray:
    vectors = np.eye(count, 8, dtype=np.float32)  # orthogonal unit vectors: exact nearest hits
    return vectors


def _write(client: EdgeStore, name: str, chunks: list[Chunk]) -> None:
    store.create_collection(client, name, 8)
    terms = [sparse.encode_document(chunk.text) for chunk in chunks]
    vectors = _vectors(len(chunks))
    store.upsert_chunks(client, name, chunks, vectors, terms, "rev", show_progress=False)
    store.seal_collection(client, name)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_sealed_version_is_never_changed_by_readers_or_by_its_copy(tmp_path: Path) -> None:
    client = EdgeStore(tmp_path / "edge")
    chunks = _chunks()
    _write(client, "v-1", chunks)
    sealed = _digest(client.path("v-1"))

    # qdrant-edge documents one open EdgeShard per directory; ragtune lets several readers
    # (processes) open a sealed version, which holds only if opening, querying and closing
    # leave every byte as it was. Two readers at once, as two processes would.
    readers = [EdgeStore(tmp_path / "edge"), EdgeStore(tmp_path / "edge")]
    for reader in readers:
        assert reader.count("v-1").count == len(chunks)
        assert search.search(reader, "v-1", "hybrid", _vectors(1), None, 2)[0]
    for reader in readers:
        reader.close()

    assert clone_collection(client, "v-1", "v-2")
    store.delete_points(client, "v-2", [chunks[0].chunk_id])
    edited = Chunk(**{**chunks[1].__dict__, "text": "Lounge hours changed."})
    vectors = _vectors(2)[1:]
    terms = [sparse.encode_document(edited.text)]
    store.upsert_chunks(client, "v-2", [edited], vectors, terms, "rev2", show_progress=False)
    store.seal_collection(client, "v-2")
    client.close()

    assert _digest(client.path("v-1")) == sealed
    again = EdgeStore(tmp_path / "edge")
    try:
        assert again.count("v-1").count == len(chunks)
        assert again.count("v-2").count == len(chunks) - 1
        texts = {p.id: p.payload["text"] for p in store.scroll_points(again, "v-2", False)}
        assert chunks[0].chunk_id not in texts and texts[edited.chunk_id] == edited.text
    finally:
        again.close()


@pytest.mark.parametrize("retrieval", ["dense", "sparse", "hybrid"])
def test_search_finds_the_matching_point(tmp_path: Path, retrieval: str) -> None:
    client = EdgeStore(tmp_path / "edge")
    chunks = _chunks()
    _write(client, "v-1", chunks)
    try:
        assert search.has_sparse(client, "v-1")
        dense = _vectors(len(chunks))[2:3]
        terms = [sparse.encode_query("Zorbexic gateway")]
        found = search.search(client, "v-1", retrieval, dense, terms, 2)
        assert found[0][0].id == chunks[2].chunk_id
        assert found[0][0].payload["doc_id"] == "doc-2"
        # Only one text holds the query's terms; the dense leg ranks every point.
        assert len(found[0]) == (1 if retrieval == "sparse" else 2)
    finally:
        client.close()


def test_aliases_move_atomically_and_never_name_a_missing_version(tmp_path: Path) -> None:
    client = EdgeStore(tmp_path / "edge")
    _write(client, "ragtune-r-1", _chunks())
    _write(client, "ragtune-r-2", _chunks()[:2])
    store.move_alias(client, "staging", "ragtune-r-1")
    store.move_alias(client, "staging", "ragtune-r-2")
    store.move_alias(client, "live", "ragtune-r-1")
    assert store.aliases(client) == {"staging": "ragtune-r-2", "live": "ragtune-r-1"}
    assert not [p for p in (tmp_path / "edge").iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(RetrievalIndexError, match="missing collection"):
        store.move_alias(client, "staging", "ragtune-r-9")
    store.delete_alias(client, "live")
    client.delete_collection("ragtune-r-2")
    assert store.aliases(client) == {}  # staging named a version that is gone
    assert store.collection_names(client, "ragtune") == ["ragtune-r-1"]


def test_half_copied_version_is_not_listed_and_is_replaced(tmp_path: Path) -> None:
    client = EdgeStore(tmp_path / "edge")
    _write(client, "ragtune-r-1", _chunks())
    leftover = client.path("ragtune-r-2.partial")
    leftover.mkdir()
    (leftover / "junk").write_text("killed mid-copy")
    assert store.collection_names(client, "ragtune") == ["ragtune-r-1"]
    assert clone_collection(client, "ragtune-r-1", "ragtune-r-2")
    assert not leftover.exists()
    assert client.count("ragtune-r-2").count == len(_chunks())
    client.close()


def test_open_path_reads_an_edge_export(tmp_path: Path) -> None:
    client = EdgeStore(store.edge_root(tmp_path / "export"))
    _write(client, "v-1", _chunks())
    client.close()
    opened = store.open_path(tmp_path / "export")
    try:
        assert store.is_edge(opened) and opened.count("v-1").count == len(_chunks())
    finally:
        opened.close()
    assert os.path.isdir(tmp_path / "export" / "edge" / "collections" / "v-1")


def test_sparse_copy_keeps_bytes_and_holes(tmp_path: Path) -> None:
    source = tmp_path / "shard" / "segments" / "s1"
    source.mkdir(parents=True)
    with open(source / "chunk_0.mmap", "wb") as handle:  # 32 MB apparent, two small extents
        handle.write(b"head")
        handle.seek(20 * 2**20)
        handle.write(b"middle" * 1000)
        handle.truncate(32 * 2**20)
    (source / "empty.dat").write_bytes(b"")
    copy_sparse_tree(tmp_path / "shard", tmp_path / "copy")
    copied = tmp_path / "copy" / "segments" / "s1" / "chunk_0.mmap"
    assert copied.read_bytes() == (source / "chunk_0.mmap").read_bytes()
    assert copied.stat().st_blocks * 512 < 2**20  # the holes stayed holes
    assert (tmp_path / "copy" / "segments" / "s1" / "empty.dat").read_bytes() == b""
