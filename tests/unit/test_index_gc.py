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
            vectors = {h: np.full(2, 1.0, dtype=np.float32) for h in "abcde"}
            manifest.store_vectors(db, model, vectors)
        manifest.store_sparse(db, "bm25", {h: terms for h in "abcde"})

        manifest.forget_collections(db, ["old"])

        for model in ("model-1", "model-2"):
            assert set(manifest.cached_vectors(db, model, "abcde")) == {"b", "c", "d"}
        assert set(manifest.cached_sparse(db, "bm25", "abcde")) == {"b", "c", "d"}
        assert manifest.recorded_collections(db) == {"new"}
