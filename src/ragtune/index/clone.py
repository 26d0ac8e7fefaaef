"""Start a new index version as a copy of the previous one, without copying points through Python.

On the edge engine (the default) a version is a shard directory, sealed before it is published,
so the copy is the filesystem's (:meth:`ragtune.index.edge.EdgeStore.copy_collection`). The rest
of this module is for Qdrant local mode.

A refresh then only deletes the points that went away and writes the ones that changed, so its
cost follows the change, not the corpus. Published versions stay immutable: the copy is a new
collection, and the alias moves to it only once it is complete.

Qdrant local mode keeps a collection as numpy arrays and Python lists in memory over one sqlite
file. The copy duplicates the arrays (memcpy), shallow-copies the lists (payload dicts are
replaced on update, never changed in place) and copies the sqlite file with sqlite's backup API
(page by page, in C). It depends on local mode's attributes, so it checks them first and
declines on any other layout; a Qdrant server declines too. The caller then falls back to
writing every point.
"""

from __future__ import annotations

import copy
import logging
import shutil
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.index import store

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

logger = logging.getLogger(__name__)

# The attributes of qdrant-client's LocalCollection this copy knows how to duplicate.
KNOWN_ATTRIBUTES = frozenset(
    {
        "vectors_config",
        "multivectors_config",
        "vectors",
        "sparse_vectors",
        "sparse_vectors_idf",
        "multivectors",
        "payload",
        "text_indexes",
        "deleted",
        "_all_vectors_keys",
        "deleted_per_vector",
        "ids",
        "ids_inv",
        "persistent",
        "storage",
        "config",
    }
)


def clone_collection(client: QdrantClient, source: str, target: str) -> bool:
    """Create ``target`` holding exactly the points of ``source``; False when not supported."""
    if store.is_edge(client):  # a byte copy of the sealed shard directory
        client.copy_collection(source, target)
        return True
    local = getattr(client, "_client", None)
    collections = getattr(local, "collections", None)
    if type(local).__name__ != "QdrantLocal" or not isinstance(collections, dict):
        return False
    original = collections.get(source)
    if original is None or set(vars(original)) != KNOWN_ATTRIBUTES or original.storage is None:
        logger.info("local-mode collection layout not recognised; copying points instead")
        return False
    if target in collections:
        raise ValueError(f"collection {target} already exists")
    path = Path(local._collection_path(target))
    # A refresh killed between making this folder and saving meta.json leaves it behind.
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    storage_file = Path(original.storage.location)
    with sqlite3.connect(path / storage_file.name) as destination:
        original.storage.storage.backup(destination)
    destination.close()
    collections[target] = _copy_in_memory(original, str(path))
    local._save()
    return True


def _copy_in_memory(original: Any, path: str) -> Any:
    """A LocalCollection sharing nothing mutable with ``original``, persisted at ``path``."""
    from qdrant_client.local.persistence import CollectionPersistence

    clone = copy.copy(original)
    clone.config = copy.deepcopy(original.config)
    clone.vectors_config = copy.deepcopy(original.vectors_config)
    clone.multivectors_config = copy.deepcopy(original.multivectors_config)
    clone.vectors = {name: array.copy() for name, array in original.vectors.items()}
    clone.sparse_vectors = {name: list(items) for name, items in original.sparse_vectors.items()}
    clone.sparse_vectors_idf = {
        name: defaultdict(int, counts) for name, counts in original.sparse_vectors_idf.items()
    }
    clone.multivectors = {name: list(items) for name, items in original.multivectors.items()}
    clone.payload = list(original.payload)
    clone.text_indexes = dict(original.text_indexes)
    clone.deleted = original.deleted.copy()
    clone.deleted_per_vector = {
        name: array.copy() for name, array in original.deleted_per_vector.items()
    }
    clone.ids = dict(original.ids)
    clone.ids_inv = list(original.ids_inv)
    clone._all_vectors_keys = list(original._all_vectors_keys)
    clone.storage = CollectionPersistence(path)
    return clone
