"""Release manifests protect the collections they name from garbage collection."""

from __future__ import annotations

import json

from ragtune.index.gc import release_collections
from ragtune.index.store import build_number


def test_release_files_name_collections(tmp_path) -> None:
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / "current.json").write_text(json.dumps({"collection": "ragtune-r1-3"}))
    (releases / "history.json").write_text(
        json.dumps([{"index": {"collection": "ragtune-r0-1"}}, {"collection": "ragtune-r1-2"}])
    )
    assert release_collections(tmp_path) == {"ragtune-r1-3", "ragtune-r0-1", "ragtune-r1-2"}


def test_no_releases_dir(tmp_path) -> None:
    assert release_collections(tmp_path) == set()


def test_unreadable_release_protects_everything(tmp_path) -> None:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "broken.json").write_text("{not json")
    assert release_collections(tmp_path) == {"*"}


def test_build_number() -> None:
    assert build_number("ragtune-wip-abc123-12") == 12
    assert build_number("ragtune-live") == 0


def test_forgetting_a_collection_drops_the_vectors_no_collection_uses(tmp_path) -> None:
    import numpy as np

    from ragtune.index import manifest
    from ragtune.index.chunk import Chunk
    from ragtune.index.sparse import SparseVector

    def chunks(*hashes: str) -> list[manifest.IndexedChunk]:
        return [
            manifest.IndexedChunk(Chunk(f"id-{h}", "doc", i, h, h, "title", "src"), "doc-hash")
            for i, h in enumerate(hashes)
        ]

    terms = SparseVector(np.array([1], dtype=np.uint32), np.array([1.0], dtype=np.float32))
    with manifest.open_manifest(tmp_path / "manifest.sqlite") as db:
        manifest.record_collection(db, "old", "r1", {}, chunks("a", "b", "c"))
        manifest.record_collection(db, "new", "r2", {}, chunks("b", "c", "d"))
        for model in ("model-1", "model-2"):  # vectors of an earlier model are cached too
            vectors = {h: np.full(2, 1.0, dtype=np.float32) for h in "abcd"}
            manifest.store_vectors(db, model, vectors)
        manifest.store_sparse(db, "bm25", {h: terms for h in "abcd"})

        manifest.forget_collections(db, ["old"])

        for model in ("model-1", "model-2"):
            assert set(manifest.cached_vectors(db, model, "abcde")) == {"b", "c", "d"}
        assert set(manifest.cached_sparse(db, "bm25", "abcde")) == {"b", "c", "d"}
        assert manifest.recorded_collections(db) == {"new"}
        # Texts are stored once per content hash; the dropped version's own text goes too.
        assert [item.chunk.text for item in manifest.collection_chunks(db, "new")] == list("bcd")
        assert [row[0] for row in db.execute("SELECT content_hash FROM texts ORDER BY 1")] == [
            "b",
            "c",
            "d",
        ]


def test_a_manifest_with_text_in_chunk_rows_is_upgraded_in_place(tmp_path) -> None:
    """Manifests written before the ``texts`` table keep every chunk and its text."""
    import sqlite3

    from ragtune.index import manifest

    path = tmp_path / "manifest.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE collections (name TEXT PRIMARY KEY, status TEXT NOT NULL,
                data_revision TEXT NOT NULL, params TEXT NOT NULL, created_at REAL NOT NULL);
            CREATE TABLE chunks (collection TEXT NOT NULL, chunk_id TEXT NOT NULL,
                doc_id TEXT NOT NULL, position INTEGER NOT NULL, content_hash TEXT NOT NULL,
                doc_hash TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
                text TEXT NOT NULL, PRIMARY KEY (collection, chunk_id));
            INSERT INTO collections VALUES ('v1', 'complete', 'r1', '{}', 0);
            INSERT INTO chunks VALUES ('v1', 'c0', 'doc', 0, 'h0', 'dh', 'T', 's', 'first text');
            INSERT INTO chunks VALUES ('v1', 'c1', 'doc', 1, 'h1', 'dh', 'T', 's', 'second');
            """
        )
    old.close()
    for _ in range(2):  # the second open finds nothing left to move
        with manifest.open_manifest(path) as db:
            chunks = manifest.collection_chunks(db, "v1")
            assert [(i.chunk.chunk_id, i.chunk.text) for i in chunks] == [
                ("c0", "first text"),
                ("c1", "second"),
            ]
            assert manifest.doc_hashes(db, "v1") == {"doc": "dh"}
            columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
            assert "text" not in columns
