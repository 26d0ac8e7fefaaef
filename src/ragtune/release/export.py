"""A release's index as its own read-only store: what serving and the hybrid MLflow model open.

The serving process must keep answering while scheduled refreshes write
``index.qdrant_path``, and the MLflow model must carry its index, so each release exports its
collection into ``releases/index/<release_id>/``: on edge a byte copy of the sealed shard
directory, in local mode (one process per store folder) or from a server a point-by-point copy
into a local-mode store of its own, paid once per release, never per refresh. Only the server
(or the MLflow model) opens that copy; refreshes, promotions and rollbacks never touch it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ragtune.config import Settings
from ragtune.errors import ReleaseError
from ragtune.index import store
from ragtune.release.manifest import releases_dir

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from ragtune.index.edge import EdgeStore

logger = logging.getLogger(__name__)

EXPORT_DIR = "index"
COPY_BATCH = 512


def export_dir(project_dir: Path, release_id: str) -> Path:
    """Where release ``release_id`` keeps its exported index."""
    return releases_dir(project_dir) / EXPORT_DIR / release_id


def export_collection(settings: Settings, collection: str, target: Path) -> int:
    """Copy ``collection`` (vectors, sparse vectors, payloads) into a new store at ``target``.

    Written beside ``target`` and renamed into place, so a killed export leaves no store that
    looks complete. Returns the number of points copied.
    """
    started = time.perf_counter()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with store.open_store(settings) as source:
        if not source.collection_exists(collection):
            raise ReleaseError(f"Qdrant has no collection {collection} to export")
        if store.is_edge(source):
            copied = _copy_edge_version(source, collection, partial)
        else:
            copied = _copy_points(source, collection, partial)
    if target.exists():
        shutil.rmtree(target)
    os.replace(partial, target)
    logger.info(
        "exported %s (%d points) to %s in %.2fs",
        collection,
        copied,
        target,
        time.perf_counter() - started,
    )
    return copied


def _copy_edge_version(source: EdgeStore, collection: str, partial: Path) -> int:
    """A sealed edge version never changes: copy its shard directory as it is."""
    from ragtune.index.edge import EdgeStore
    from ragtune.index.files import copy_sparse_tree

    copy = EdgeStore(store.edge_root(partial))
    copy_sparse_tree(source.path(collection), copy.path(collection))
    try:
        return copy.count(collection).count
    finally:
        copy.close()


def _copy_points(source: QdrantClient, collection: str, partial: Path) -> int:
    """Copy a collection point by point into a new local-mode store (local mode, a server)."""
    from qdrant_client import QdrantClient, models

    params = source.get_collection(collection).config.params
    copy = QdrantClient(path=str(partial))
    try:
        copy.create_collection(
            collection,
            vectors_config=params.vectors,
            sparse_vectors_config=params.sparse_vectors,
        )
        batch: list[models.PointStruct] = []
        for point in store.scroll_points(source, collection, with_vectors=True):
            batch.append(
                models.PointStruct(id=point.id, vector=point.vector, payload=point.payload)
            )
            if len(batch) == COPY_BATCH:
                copy.upsert(collection, batch, wait=True)
                batch = []
        if batch:
            copy.upsert(collection, batch, wait=True)
        return copy.count(collection, exact=True).count
    finally:
        copy.close()


def remove_export(project_dir: Path, release_id: str) -> None:
    """Delete the export of a release that never became live."""
    shutil.rmtree(export_dir(project_dir, release_id), ignore_errors=True)
