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
        return [  # a document per chunk, its hash the text's: versions share unchanged docs
            manifest.IndexedChunk(Chunk(f"id-{h}", f"doc-{h}", 0, h, h, "title", "src"), h)
            for h in hashes
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


def _old_manifest(path, text_column: str, rows: str) -> None:
    """A manifest in the layout of a row per chunk and version; ``text_column`` inlines text."""
    import sqlite3

    with sqlite3.connect(path) as old:
        old.executescript(
            f"""
            CREATE TABLE collections (name TEXT PRIMARY KEY, status TEXT NOT NULL,
                data_revision TEXT NOT NULL, params TEXT NOT NULL, created_at REAL NOT NULL);
            CREATE TABLE chunks (collection TEXT NOT NULL, chunk_id TEXT NOT NULL,
                doc_id TEXT NOT NULL, position INTEGER NOT NULL, content_hash TEXT NOT NULL,
                doc_hash TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
                {text_column} PRIMARY KEY (collection, chunk_id));
            {rows}
            """
        )
    old.close()


def test_a_manifest_with_text_in_chunk_rows_is_upgraded_in_place(tmp_path) -> None:
    """Manifests of a row per chunk and version (text inline) keep every chunk and its text."""

    from ragtune.index import manifest

    path = tmp_path / "manifest.sqlite"
    _old_manifest(
        path,
        "text TEXT NOT NULL,",
        """
        INSERT INTO collections VALUES ('v1', 'complete', 'r1', '{}', 0);
        INSERT INTO chunks VALUES ('v1', 'c0', 'doc', 0, 'h0', 'dh', 'T', 's', 'first text');
        INSERT INTO chunks VALUES ('v1', 'c1', 'doc', 1, 'h1', 'dh', 'T', 's', 'second');
        """,
    )
    for _ in range(2):  # the second open finds nothing left to move
        with manifest.open_manifest(path) as db:
            chunks = manifest.collection_chunks(db, "v1")
            assert [(i.chunk.chunk_id, i.chunk.text) for i in chunks] == [
                ("c0", "first text"),
                ("c1", "second"),
            ]
            assert manifest.doc_hashes(db, "v1") == {"doc": "dh"}
            assert manifest.collection_info(db, "v1")["chunks"] == 2
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            assert "chunks" not in tables and "doc_chunks" in tables


def test_a_manifest_of_chunk_rows_per_version_becomes_document_maps(tmp_path) -> None:
    """The layout before document maps (chunk rows per version, texts apart) is upgraded.

    Versions share the rows of documents they hold unchanged, and forgetting one keeps them.
    """

    from ragtune.index import manifest

    path = tmp_path / "manifest.sqlite"
    params = json.dumps({"chunk_size": 64})
    _old_manifest(
        path,
        "",
        f"""
        CREATE TABLE texts (content_hash TEXT PRIMARY KEY, text TEXT NOT NULL);
        INSERT INTO texts VALUES ('h0', 'kept'), ('h1', 'old'), ('h2', 'new');
        INSERT INTO chunks VALUES ('v1', 'c0', 'a', 0, 'h0', 'a1', 'T', 's');
        INSERT INTO chunks VALUES ('v1', 'c1', 'b', 0, 'h1', 'b1', 'T', 's');
        INSERT INTO chunks VALUES ('v2', 'c0', 'a', 0, 'h0', 'a1', 'T', 's');
        INSERT INTO chunks VALUES ('v2', 'c2', 'b', 0, 'h2', 'b2', 'T', 's');
        INSERT INTO collections VALUES ('v1', 'complete', 'r', '{params}', 0);
        INSERT INTO collections VALUES ('v2', 'complete', 'r', '{params}', 0);
        """,
    )
    with manifest.open_manifest(path) as db:
        assert manifest.doc_hashes(db, "v1") == {"a": "a1", "b": "b1"}
        assert [i.chunk.text for i in manifest.collection_chunks(db, "v2")] == ["kept", "new"]
        assert [i.chunk.text for i in manifest.docs_chunks(db, "v1", ["b", "zz"])] == ["old"]
        assert db.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0] == 3
        manifest.forget_collections(db, ["v1"])
        assert [i.chunk.text for i in manifest.collection_chunks(db, "v2")] == ["kept", "new"]
        texts = [row[0] for row in db.execute("SELECT text FROM texts ORDER BY 1")]
        assert texts == ["kept", "new"]


def test_recovered_versions_of_one_document_never_share_rows(tmp_path) -> None:
    """Chunks read back from the engine have no doc hash; each content gets its own key."""
    from ragtune.index import manifest
    from ragtune.index.chunk import Chunk

    def recovered(text: str) -> list[manifest.IndexedChunk]:
        return [manifest.IndexedChunk(Chunk(f"id-{text}", "doc", 0, text, text), "")]

    with manifest.open_manifest(tmp_path / "manifest.sqlite") as db:
        manifest.record_collection(db, "one", "recovered", {}, recovered("first"))
        manifest.record_collection(db, "two", "recovered", {}, recovered("second"))
        assert [i.chunk.text for i in manifest.collection_chunks(db, "one")] == ["first"]
        assert [i.chunk.text for i in manifest.collection_chunks(db, "two")] == ["second"]
        assert manifest.doc_hashes(db, "one") != manifest.doc_hashes(db, "two")


def test_versions_store_their_maps_as_changes_to_a_shared_base(tmp_path) -> None:
    """A small change writes a delta; a large one a new base; GC drops bases nobody uses."""
    from ragtune.index import manifest, version_maps

    def record(db, name: str, docs: dict[str, str], parent: str | None) -> None:
        lines = {f"line-{doc_id}-{doc_hash}": doc_id for doc_id, doc_hash in docs.items()}
        manifest.record_version(db, name, "r", {}, docs, [], len(docs), lines, parent=parent)

    path = tmp_path / "manifest.sqlite"
    first = {f"d{i}": f"h{i}" for i in range(100)}
    second = {**first, "d1": "edited", "new": "h-new"}
    del second["d2"]
    third = {f"d{i}": f"other{i}" for i in range(100)}  # everything changed
    with manifest.open_manifest(path) as db:
        record(db, "v1", first, None)
        record(db, "v2", second, "v1")
        record(db, "v3", third, "v2")
        bases = [row[0] for row in db.execute("SELECT base_map FROM collections ORDER BY name")]
        assert bases[0] == bases[1] != bases[2]  # v2 shares v1's base, v3 starts its own
        stored = json.loads(
            db.execute("SELECT docs FROM collections WHERE name = 'v2'").fetchone()[0]
        )
        assert stored == {"set": {"d1": "edited", "new": "h-new"}, "del": ["d2"]}
    with manifest.open_manifest(path) as db:  # a new connection decodes them again
        assert manifest.doc_hashes(db, "v2") == second
        assert version_maps.known_lines(db, "v2") == {
            f"line-{doc_id}-{doc_hash}": doc_id for doc_id, doc_hash in second.items()
        }
        assert manifest.doc_hashes(db, "v3") == third
        manifest.forget_collections(db, ["v1"])
        assert db.execute("SELECT COUNT(*) FROM doc_maps").fetchone()[0] == 2  # v2 still needs it
        manifest.forget_collections(db, ["v2"])
        assert db.execute("SELECT COUNT(*) FROM doc_maps").fetchone()[0] == 1
        assert manifest.doc_hashes(db, "v3") == third


def test_versions_with_whole_maps_are_read_and_extended(tmp_path) -> None:
    """Manifests written before base maps (whole maps in the version row) keep working."""
    import sqlite3

    from ragtune.index import manifest, version_maps

    path = tmp_path / "manifest.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE collections (name TEXT PRIMARY KEY, status TEXT NOT NULL,
                data_revision TEXT NOT NULL, params TEXT NOT NULL, created_at REAL NOT NULL,
                docs TEXT NOT NULL DEFAULT '{}', chunk_count INTEGER NOT NULL DEFAULT 0,
                lines TEXT NOT NULL DEFAULT '{}');
            INSERT INTO collections VALUES
                ('v1', 'complete', 'r', '{}', 0, '{"a": "a1", "b": "b1"}', 2, '{"l1": "a"}');
            """
        )
    old.close()
    with manifest.open_manifest(path) as db:
        assert manifest.doc_hashes(db, "v1") == {"a": "a1", "b": "b1"}
        assert version_maps.known_lines(db, "v1") == {"l1": "a"}
        manifest.record_version(db, "v2", "r", {}, {"a": "a2"}, [], 1, {"l2": "a"}, parent="v1")
        manifest.mark_complete(db, "v2")
        assert manifest.collection_info(db, "v2") == {
            "status": "complete",
            "data_revision": "r",
            "params": {},
            "chunks": 1,
        }
    with manifest.open_manifest(path) as db:
        assert manifest.doc_hashes(db, "v2") == {"a": "a2"}
        assert version_maps.known_lines(db, "v2") == {"l2": "a"}
