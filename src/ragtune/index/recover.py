"""Rebuild the manifest's view of a collection from Qdrant itself (manifest lost or new machine)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ragtune.index import manifest, sparse, store
from ragtune.index.chunk import Chunk

if TYPE_CHECKING:
    import sqlite3

    from qdrant_client import QdrantClient

logger = logging.getLogger(__name__)


def chunks_from_collection(
    client: QdrantClient, db: sqlite3.Connection, name: str, model_key: str
) -> list[manifest.IndexedChunk]:
    """A collection's chunks read from its payloads; its vectors go into the vector cache.

    Doc hashes are unknown, so every document gets re-chunked once, but no text whose vector
    the collection already holds is embedded again.
    """
    chunks: list[manifest.IndexedChunk] = []
    vectors: dict[str, np.ndarray] = {}
    terms: dict[str, sparse.SparseVector] = {}
    for point in store.scroll_points(client, name, with_vectors=True):
        payload = point.payload or {}
        chunk = Chunk(
            chunk_id=str(point.id),
            doc_id=str(payload.get("doc_id", "")),
            position=int(payload.get("position", 0)),
            text=str(payload.get("text", "")),
            content_hash=str(payload.get("content_hash", "")),
            title=str(payload.get("title", "")),
            source=str(payload.get("source", "")),
        )
        chunks.append(manifest.IndexedChunk(chunk, ""))
        if not chunk.content_hash:
            continue
        # Collections since hybrid retrieval hold named dense + sparse vectors; older ones
        # one unnamed dense vector.
        named = point.vector if isinstance(point.vector, dict) else {store.DENSE: point.vector}
        if isinstance(named.get(store.DENSE), list):
            vectors[chunk.content_hash] = np.asarray(named[store.DENSE], dtype=np.float32)
        stored = named.get(store.SPARSE)
        if stored is not None:
            terms[chunk.content_hash] = sparse.SparseVector(
                np.asarray(stored.indices, dtype=np.uint32),
                np.asarray(stored.values, dtype=np.float32),
            )
    manifest.store_vectors(db, model_key, vectors)
    manifest.store_sparse(db, sparse.ENCODER, terms)
    # Recorded (with unknown params) so the cached vectors count as in use until GC drops it.
    manifest.record_collection(db, name, "recovered", {}, chunks)
    manifest.mark_complete(db, name)
    logger.info("recovered %d chunks of %s from Qdrant (not in the manifest)", len(chunks), name)
    return chunks
