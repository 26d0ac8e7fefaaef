"""Fill a new collection: start from an engine-side copy of the previous one, write the rest.

Vectors come from the manifest's caches by content hash (dense and BM25); only text no
collection has held before is embedded, in the main thread, while cached points are written in
a worker thread.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.index import manifest, sparse, store
from ragtune.index.chunk import Chunk
from ragtune.index.clone import clone_collection
from ragtune.index.embed import embed_texts
from ragtune.index.gc import recyclable
from ragtune.index.onnx_embed import load_document_embedder

if TYPE_CHECKING:
    import sqlite3

    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    from ragtune.config import Settings
    from ragtune.index.diff import RefreshPlan
    from ragtune.index.refresh import PhaseTimer

logger = logging.getLogger(__name__)


def build_collection(
    client: QdrantClient,
    db: sqlite3.Connection,
    name: str,
    plan: RefreshPlan,
    previous: str | None,
    revision: str,
    params: dict[str, Any],
    settings: Settings,
    embedder: SentenceTransformer | None,
    show_progress: bool,
    timer: PhaseTimer,
) -> dict[str, int]:
    """Fill the new collection as ``plan`` says; return counts (embedded, reused, written).

    It starts as a copy of the previous collection where the engine can copy without Python
    touching every point (see :mod:`ragtune.index.clone`); then only the points of changed and
    deleted documents are deleted and only their new chunks written. Otherwise it starts empty
    and every chunk is written. Vectors come from the cache by content hash; cached points are
    written in a worker thread while the main thread embeds the texts never seen before.
    """
    model_key = settings.index.embedding_model
    with timer.phase("manifest"):  # the document map, and the rows of changed documents
        manifest.record_version(
            db,
            name,
            revision,
            params,
            plan.docs,
            plan.fresh,
            plan.chunk_count,
            plan.lines,
            parent=previous,
        )
    with timer.phase("copy"):
        base = _start_from(client, db, previous, name, params, settings)
        if base is not None:
            before, after = _differing_chunks(db, base, name)
            store.delete_points(client, name, [i for i in before if i not in after])
            # Chunk equality covers id, text, title, source and position, so a changed
            # payload is rewritten even when its id (doc, position, text hash) stayed the same.
            to_write = [c for c in after.values() if before.get(c.chunk_id) != c]
        else:
            to_write = [item.chunk for item in manifest.collection_chunks(db, name)]
    cache = manifest.cached_vectors(db, model_key, (c.content_hash for c in to_write))
    terms = _sparse_vectors(db, to_write)
    missing = {c.content_hash: c.text for c in to_write if c.content_hash not in cache}
    with timer.phase("model"):  # when text is new: the ONNX export for a few, else torch
        model = (embedder or load_document_embedder(settings, len(missing))) if missing else None
    if base is None:
        dimension = model.get_embedding_dimension() if model else len(next(iter(cache.values())))
        store.create_collection(client, name, dimension)
    carried = [c for c in to_write if c.content_hash in cache]
    fresh = [c for c in to_write if c.content_hash not in cache]
    with ThreadPoolExecutor(max_workers=1) as pool:
        copying = pool.submit(
            store.upsert_chunks,
            client,
            name,
            carried,
            _stack(cache, carried),
            [terms[chunk.content_hash] for chunk in carried],
            revision,
            show_progress and model is None,
        )
        with timer.phase("embed"):
            if model is not None:
                texts = list(missing.values())
                vectors = embed_texts(model, texts, settings.index.batch_size, show_progress)
                new = dict(zip(missing, vectors, strict=True))
                manifest.store_vectors(db, model_key, new)
                cache.update(new)
        with timer.phase("write"):
            copying.result()
    with timer.phase("write"):
        store.upsert_chunks(
            client,
            name,
            fresh,
            _stack(cache, fresh),
            [terms[chunk.content_hash] for chunk in fresh],
            revision,
            show_progress,
        )
    with timer.phase("seal"):
        store.seal_collection(client, name)
        manifest.mark_complete(db, name)
    return {
        "chunks_embedded": len(missing),
        "chunks_reused": plan.chunk_count - len(fresh),
        "points_written": len(to_write),
        "points_copied_by_engine": 0 if base is None else plan.chunk_count - len(to_write),
    }


def _start_from(
    client: QdrantClient,
    db: sqlite3.Connection,
    previous: str | None,
    name: str,
    params: dict[str, Any],
    settings: Settings,
) -> str | None:
    """Make ``name`` hold an earlier version's points; which one, or None when it starts empty.

    Only when the previous collection is complete and built with these same params: its
    points then carry exactly the payload and both vectors this build would write for the
    same chunk. On edge an old version that GC would delete after this publish, and that no
    process has open, is renamed and updated in place (no copy, no delete); otherwise the
    previous version is copied by the engine.
    """
    if previous is None:
        return None
    info = manifest.collection_info(db, previous)
    if info is None or info["status"] != "complete" or info["params"] != params:
        return None
    if store.is_edge(client):
        recycled = client.recycle_collection(recyclable(client, db, settings, params), name)
        if recycled is not None:
            logger.info("%s starts as %s, updated in place (GC would delete it)", name, recycled)
            return recycled
    if not clone_collection(client, previous, name):
        return None
    if store.is_local(client):
        store.skip_local_fsync(client, name)
    return previous


def _differing_chunks(
    db: sqlite3.Connection, base: str, name: str
) -> tuple[dict[str, Chunk], dict[str, Chunk]]:
    """Chunks by id of the documents ``base`` and ``name`` hold differently: (base's, name's)."""
    old, new = manifest.doc_hashes(db, base), manifest.doc_hashes(db, name)
    changed = {doc_id for doc_id, _ in old.items() ^ new.items()}  # set operation in C
    before = {item.chunk.chunk_id: item.chunk for item in manifest.docs_chunks(db, base, changed)}
    after = {item.chunk.chunk_id: item.chunk for item in manifest.docs_chunks(db, name, changed)}
    return before, after


def _sparse_vectors(db: sqlite3.Connection, chunks: list[Chunk]) -> dict[str, sparse.SparseVector]:
    """BM25 vectors by content hash: cached ones reused, the others encoded and cached."""
    texts = {chunk.content_hash: chunk.text for chunk in chunks}
    found = manifest.cached_sparse(db, sparse.ENCODER, texts)
    new = {h: sparse.encode_document(text) for h, text in texts.items() if h not in found}
    manifest.store_sparse(db, sparse.ENCODER, new)
    return {**found, **new}


def _stack(cache: dict[str, np.ndarray], chunks: list[Chunk]) -> np.ndarray:
    """Vectors of ``chunks`` in order, from the content-hash cache."""
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([cache[chunk.content_hash] for chunk in chunks])
