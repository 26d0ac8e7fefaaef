"""Recycling on edge: a version GC would delete becomes the next one, updated in place.

The next version must then hold exactly what a copy would have held, a version a process has
open or a release names is never taken, and GC has nothing left to delete.
"""

from __future__ import annotations

import json
import logging
import signal
import time

import numpy as np
import pytest
from index_support import (
    collections,
    points_behind,
    query_process,
    raw_docs,
    set_index_params,
    start_refresh,
    wait_for_embedding,
    write_docs_and_prepare,
)

from ragtune.errors import RetrievalIndexError
from ragtune.index import manifest, store
from ragtune.index.edge import EdgeStore
from ragtune.index.embed import load_embedder
from ragtune.index.refresh import refresh_index

pytestmark = pytest.mark.slow


def _version(root, name: str, ids: list[str]) -> None:
    writer = EdgeStore(root)
    writer.create_collection(name, 4, store.DENSE, store.SPARSE)
    vectors = [{store.DENSE: [1.0, 0.0, 0.0, float(i)]} for i in range(len(ids))]
    writer.upsert(name, ids, vectors, [{"doc_id": i} for i in ids])
    writer.seal(name)
    writer.close()


def test_a_version_some_process_has_open_is_never_recycled(tmp_path) -> None:
    ids = ["00000000-0000-0000-0000-00000000000" + str(i) for i in range(3)]
    for name in ("v-1", "v-2"):
        _version(tmp_path, name, ids)
    reader = EdgeStore(tmp_path)
    assert reader.count("v-1").count == 3  # holds v-1 open (its reader lock, shared)

    writer = EdgeStore(tmp_path)
    assert writer.recycle_collection(["v-1", "v-2"], "v-3") == "v-2"
    assert writer.collection_names() == ["v-1", "v-3"]
    with pytest.raises(RetrievalIndexError, match="no such index version"):
        EdgeStore(tmp_path).shard("v-2")  # a name once recycled is gone for every reader
    assert writer.recycle_collection(["v-1"], "v-4") is None  # still open
    assert reader.count("v-1").count == 3

    reader.close()  # lock released
    assert writer.recycle_collection(["v-1"], "v-4") == "v-1"
    assert writer.count("v-4").count == 3
    writer.close()


def test_a_store_where_no_reader_lock_can_be_created_still_answers(tmp_path, monkeypatch) -> None:
    import os

    _version(tmp_path, "v-1", ["00000000-0000-0000-0000-000000000001"])
    opening = os.open

    def read_only(path, flags, *args):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Read-only file system", str(path))
        return opening(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    reader = EdgeStore(tmp_path)
    assert reader.count("v-1").count == 1
    reader.close()


@pytest.fixture(scope="module")
def embedder():
    from ragtune.config import IndexConfig

    return load_embedder(IndexConfig())


def _check_holds_exactly_its_manifest(settings, name: str) -> None:
    """Every point is a recorded chunk with its payload and cached vector; no other point."""
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        chunks = {item.chunk.chunk_id: item.chunk for item in manifest.collection_chunks(db, name)}
        cached = manifest.cached_vectors(
            db, settings.index.embedding_model, {c.content_hash for c in chunks.values()}
        )
    with store.open_store(settings) as client:
        points = list(store.scroll_points(client, name, with_vectors=True))
    assert sorted(str(p.id) for p in points) == sorted(chunks)
    for point in points:
        chunk = chunks[str(point.id)]
        assert point.payload["text"] == chunk.text and point.payload["title"] == chunk.title
        assert point.payload["position"] == chunk.position
        assert np.allclose(point.vector[store.DENSE], cached[chunk.content_hash], atol=1e-5)


def test_refresh_recycles_the_version_gc_would_delete(demo_project, embedder, caplog) -> None:
    settings = set_index_params(
        demo_project, chunk_size=128, chunk_overlap=16, engine="edge", keep_collections=2
    )
    docs = raw_docs(settings)
    built = []
    caplog.set_level(logging.INFO, logger="ragtune.index.build")
    for step in range(4):
        if step == 3:  # a release pins the oldest kept version: it is neither taken nor deleted
            (demo_project / "releases").mkdir(exist_ok=True)
            pinned = {"index": {"collection": built[-2].collection}}
            (demo_project / "releases" / "r0001.json").write_text(json.dumps(pinned))
        if step:
            docs[step]["text"] += f" Amendment {step}: the Orvelle desk opens at {step + 6}."
            docs.pop(10 + step)
            write_docs_and_prepare(settings, docs)
        caplog.clear()
        result = refresh_index(settings, show_progress=False, embedder=embedder)
        built.append(result)
        _check_holds_exactly_its_manifest(settings, result.collection)
        recycled = [r.getMessage() for r in caplog.records if "updated in place" in r.getMessage()]
        if step == 2:  # v1 is beyond keep_collections once v3 is published, and unaliased
            assert recycled == [f"{result.collection} starts as {built[0].collection}, "
                                "updated in place (GC would delete it)"]  # fmt: skip
            assert result.deleted_collections == []  # nothing left for GC to delete
            assert collections(settings) == sorted([built[1].collection, result.collection])
        else:
            assert recycled == []
    assert collections(settings) == sorted(r.collection for r in built[1:])
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        assert manifest.recorded_collections(db) == {r.collection for r in built[1:]}


def test_sigkill_while_updating_a_recycled_version(validated_project) -> None:
    """Killed mid-build in a recycled directory: staging keeps answering, the rerun is exact."""
    from ragtune.stages import validate_stage

    settings = set_index_params(
        validated_project, chunk_size=128, chunk_overlap=16, engine="edge", keep_collections=2
    )
    first = refresh_index(settings, show_progress=False)
    docs = raw_docs(settings)
    docs[0]["text"] += " Amendment: the Orvelle desk opens at seven."
    write_docs_and_prepare(settings, docs)
    validate_stage(settings)
    second = refresh_index(settings, show_progress=False)
    _, kept = points_behind(settings, settings.index.staging_alias)

    # Every document gains a sentence: the next refresh (into first's directory, renamed)
    # embeds for seconds, and is killed while it does.
    for doc in docs:
        doc["text"] += f" Reviewed again in week {len(doc['doc_id'])} by the Kelvara board."
    write_docs_and_prepare(settings, docs)
    validate_stage(settings)
    process, lines = start_refresh(validated_project)
    wait_for_embedding(process, lines)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert first.collection not in collections(settings)  # it was taken for the next version

    collection, points = points_behind(settings, settings.index.staging_alias)
    assert collection == second.collection
    assert sorted(p.id for p in points) == sorted(p.id for p in kept)
    _check_holds_exactly_its_manifest(settings, second.collection)
    hits = query_process(validated_project, docs[0]["title"])
    assert len(hits) == 3 and {hit["chunk_id"] for hit in hits} <= {p.id for p in points}

    again = refresh_index(settings, show_progress=False)
    assert again.built and again.previous == second.collection
    _check_holds_exactly_its_manifest(settings, again.collection)
    assert collections(settings) == sorted([second.collection, again.collection])
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        assert manifest.recorded_collections(db) == {second.collection, again.collection}
