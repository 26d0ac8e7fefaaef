"""The embedded engine: qdrant-edge-py shards, one directory per index version, aliases in a file.

Layout under ``<root>`` (``<index.qdrant_path>/edge``)::

    aliases.json               {"ragtune-staging": "ragtune-<rev>-<n>", ...}, replaced atomically
    collections/<name>/        one EdgeShard per index version

A version is written once, by one refresh holding the index lock, and sealed before any alias
names it (:meth:`EdgeStore.seal`: flushed, closed, opened and closed once more so every journal
is folded in); from then on no process changes its files, so any number of processes may open
it at once, and the next version starts as a byte copy of its directory (the filesystem copies,
Python never touches a point). Shards are created without a write-ahead log: a version only
counts once sealed, and a killed build is deleted by the next refresh (``gc.drop_orphans``).

:class:`EdgeStore` answers the few QdrantClient calls the code above ``store`` makes
(``collection_exists``, ``count``, ``get_collection``, ``delete_collection``, ``close``);
everything else goes through :mod:`ragtune.index.store`, which dispatches on the engine.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ragtune.errors import RetrievalIndexError
from ragtune.index.files import copy_sparse_tree, fsync_tree, write_atomically

logger = logging.getLogger(__name__)

ALIASES_FILE = "aliases.json"
COLLECTIONS_DIR = "collections"
READERS_DIR = "readers"
"""``<name>.lock`` per opened version: shared locks of the processes that have it open."""
PARTIAL_SUFFIX = ".partial"
SCROLL_PAGE = 1024
UNINDEXED_LIMIT = 10_000
"""Points a sealed version may hold outside an HNSW index; above it, sealing optimises.

An exact scan of this many 384-d vectors takes a few milliseconds, and optimising only once
this many accumulated keeps a small refresh from rewriting segments (cost ~ the change)."""


@dataclass
class EdgePoint:
    """A point as the code above the store reads it (id as a string, named vectors)."""

    id: str
    payload: dict[str, Any]
    vector: dict[str, Any] | None = None
    score: float = 0.0


@dataclass
class EdgeStore:
    """A directory of qdrant-edge shards (index versions) plus the alias file."""

    root: Path
    _shards: dict[str, Any] = field(default_factory=dict)
    _reading: dict[str, int] = field(default_factory=dict)
    """Open version → descriptor of its reader lock (held shared while it is open)."""
    engine = "edge"

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    # -- versions ------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """The shard directory of collection ``name``."""
        return self.root / COLLECTIONS_DIR / name

    def collection_names(self) -> list[str]:
        """Every collection directory (half-copied ``*.partial`` ones excluded)."""
        folder = self.root / COLLECTIONS_DIR
        if not folder.is_dir():
            return []
        return sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.is_dir() and not entry.name.endswith(PARTIAL_SUFFIX)
        )

    def collection_exists(self, name: str) -> bool:
        return self.path(name).is_dir()

    def create_collection(self, name: str, dimension: int, dense: str, sparse: str) -> None:
        """A new empty shard: cosine dense vectors, IDF sparse vectors, keyword index on doc_id."""
        import qdrant_edge as edge

        self._clear(name)
        # Cold: vectors and the inverted index are mapped, not read in, when a version is
        # opened; the page cache serves them to queries (see README, "Performance").
        config = edge.EdgeConfig(
            vectors={
                dense: edge.EdgeVectorParams(
                    size=dimension, distance=edge.Distance.Cosine, memory=edge.Memory.Cold
                )
            },
            sparse_vectors={
                sparse: edge.EdgeSparseVectorParams(
                    modifier=edge.Modifier.Idf, memory=edge.Memory.Cold
                )
            },
            wal_enabled=False,
        )
        shard = edge.EdgeShard.create(str(self.path(name)), config)
        shard.update(
            edge.UpdateOperation.create_field_index("doc_id", edge.PayloadSchemaType.Keyword)
        )
        self._shards[name] = shard

    def copy_collection(self, source: str, target: str) -> None:
        """``target`` as a byte copy of sealed version ``source`` (written aside, then renamed)."""
        if not self.collection_exists(source):
            raise RetrievalIndexError(f"{self.path(source)}: no such index version to copy")
        self._clear(target)
        partial = self.path(target + PARTIAL_SUFFIX)
        copy_sparse_tree(self.path(source), partial)
        os.replace(partial, self.path(target))

    def recycle_collection(self, candidates: Sequence[str], target: str) -> str | None:
        """Rename the first of ``candidates`` that no process has open to ``target``.

        Candidates are versions garbage collection deletes once ``target`` is published; the
        refresh then brings one up to date in place instead of copying the previous version
        and deleting it. A process that opens a version holds its reader lock shared
        (:meth:`shard`), so a version some reader has open is never taken. Returns the name
        taken, or None.
        """
        self._clear(target)
        for name in candidates:
            if name in self._shards or not self.collection_exists(name):
                continue
            descriptor = os.open(self._reader_lock_path(name), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                os.replace(self.path(name), self.path(target))
                self._reader_lock_path(name).unlink(missing_ok=True)
                return name
            finally:
                os.close(descriptor)
        return None

    def _reader_lock_path(self, name: str) -> Path:
        folder = self.root / READERS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{name}.lock"

    def seal(self, name: str) -> None:
        """Flush and close ``name`` and fold its journals in: from now on its files never change."""
        import qdrant_edge as edge

        shard = self._shards.get(name)
        if shard is not None:
            if self._unindexed(name, shard) > UNINDEXED_LIMIT:
                shard.optimize()  # HNSW for the points written since the last optimisation
            shard.flush()
            self._close(name)
        # The first load after writing compacts the payload trackers' journals; after it,
        # loading and closing leave every byte as it was (so readers may share the files).
        edge.EdgeShard.load(str(self.path(name))).close()
        fsync_tree(self.path(name))

    def _unindexed(self, name: str, shard: Any) -> int:
        """Vectors not in an index: sparse ones always are, dense ones once optimised."""
        dense, sparse = self.vector_config(name)
        info = shard.info()
        return (len(dense) + len(sparse)) * info.points_count - info.indexed_vectors_count

    def delete_collection(self, name: str) -> None:
        self._close(name)
        shutil.rmtree(self.path(name), ignore_errors=True)
        # After the directory: a reader that locks the old file then finds no version.
        (self.root / READERS_DIR / f"{name}.lock").unlink(missing_ok=True)

    def _close(self, name: str) -> None:
        shard = self._shards.pop(name, None)
        if shard is not None:
            shard.close()
        descriptor = self._reading.pop(name, None)
        if descriptor is not None:
            os.close(descriptor)  # releases the shared reader lock

    def _clear(self, name: str) -> None:
        """Remove what a killed build left under ``name`` (the caller holds the index lock)."""
        if name in self._shards:
            raise ValueError(f"collection {name} already exists")
        shutil.rmtree(self.path(name), ignore_errors=True)
        shutil.rmtree(self.path(name + PARTIAL_SUFFIX), ignore_errors=True)
        self.path(name).parent.mkdir(parents=True, exist_ok=True)

    def shard(self, name: str) -> Any:
        """The open shard of ``name``, loaded on first use."""
        import qdrant_edge as edge

        if name not in self._shards:
            # Shared while open: a refresh never recycles a version a process reads. It blocks
            # only while a refresh renames that version away; then the check below fails.
            descriptor = self._lock_for_reading(name)
            try:
                if not self.collection_exists(name):
                    raise RetrievalIndexError(f"{self.path(name)}: no such index version")
                self._shards[name] = edge.EdgeShard.load(str(self.path(name)))
            except BaseException:
                if descriptor is not None:
                    os.close(descriptor)
                raise
            if descriptor is not None:
                self._reading[name] = descriptor
        return self._shards[name]

    def _lock_for_reading(self, name: str) -> int | None:
        """The version's reader lock, held shared; None where it cannot be created.

        A read-only copy of the store (a server's read-only volume) still answers; no refresh
        writes there, so there is nothing to hold off.
        """
        try:
            descriptor = os.open(self._reader_lock_path(name), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            logger.debug("no reader lock for %s (%s); reading without it", name, exc)
            return None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    # -- aliases -------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """Alias → collection, as last written (aliases of vanished collections dropped)."""
        try:
            named = json.loads((self.root / ALIASES_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise RetrievalIndexError(
                f"{self.root / ALIASES_FILE}: unreadable ({exc}); it is replaced atomically, so "
                "something else wrote it; restore it or delete it and run `ragtune index refresh`"
            ) from None
        return {alias: name for alias, name in named.items() if self.collection_exists(name)}

    def set_alias(self, alias: str, collection: str | None) -> None:
        """Point ``alias`` at ``collection`` (None removes it): one atomic file replacement."""
        if collection is not None and not self.collection_exists(collection):
            raise RetrievalIndexError(f"cannot point {alias} at missing collection {collection}")
        named = self.aliases()
        if collection is None:
            named.pop(alias, None)
        else:
            named[alias] = collection
        write_atomically(self.root / ALIASES_FILE, json.dumps(named, indent=2, sort_keys=True))

    # -- points --------------------------------------------------------------------------
    def upsert(
        self,
        name: str,
        ids: Sequence[str],
        vectors: Sequence[dict[str, Any]],
        payloads: Sequence[dict[str, Any]],
    ) -> None:
        """Write points; a vector dict maps names to a list (dense) or (indices, values)."""
        import qdrant_edge as edge

        points = [
            edge.Point(point_id, _edge_vector(edge, vector), payload)
            for point_id, vector, payload in zip(ids, vectors, payloads, strict=True)
        ]
        self.shard(name).update(edge.UpdateOperation.upsert_points(points))

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Delete points by id, one engine call."""
        import qdrant_edge as edge

        if ids:
            self.shard(name).update(edge.UpdateOperation.delete_points(list(ids)))

    def scroll(self, name: str, with_vectors: bool) -> Iterator[EdgePoint]:
        """Every point of ``name``, page by page."""
        import qdrant_edge as edge

        shard, offset = self.shard(name), None
        while True:
            records, offset = shard.scroll(
                edge.ScrollRequest(
                    offset=offset, limit=SCROLL_PAGE, with_payload=True, with_vector=with_vectors
                )
            )
            for record in records:
                yield EdgePoint(str(record.id), dict(record.payload or {}), record.vector)
            if offset is None:
                return

    def query_batch(self, name: str, requests: list[Any]) -> list[list[EdgePoint]]:
        """Run qdrant-edge ``QueryRequest`` objects as one batch."""
        import qdrant_edge as edge

        found = self.shard(name).query_batch(edge.QueryBatchRequest(requests))
        return [
            [EdgePoint(str(p.id), dict(p.payload or {}), score=p.score) for p in points]
            for points in found
        ]

    def vector_config(self, name: str) -> tuple[dict[str, int], list[str]]:
        """(dense vector name → size, sparse vector names) of a version, from its config file."""
        config = json.loads((self.path(name) / "edge_config.json").read_text(encoding="utf-8"))
        dense = {key: int(value["size"]) for key, value in config.get("vectors", {}).items()}
        return dense, list(config.get("sparse_vectors", {}))

    # -- the QdrantClient calls made above the store ---------------------------------------
    def count(self, name: str, exact: bool = True) -> SimpleNamespace:
        import qdrant_edge as edge

        return SimpleNamespace(count=self.shard(name).count(edge.CountRequest(exact=exact)))

    def get_collection(self, name: str) -> SimpleNamespace:
        """The ``config.params`` shape of qdrant-client (vector sizes, sparse vector names)."""
        dense, sparse = self.vector_config(name)
        params = SimpleNamespace(
            vectors={key: SimpleNamespace(size=size) for key, size in dense.items()},
            sparse_vectors={key: SimpleNamespace() for key in sparse},
        )
        return SimpleNamespace(config=SimpleNamespace(params=params))

    def close(self) -> None:
        for name in list(self._shards):
            self._close(name)


def _edge_vector(edge: Any, vector: dict[str, Any]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for key, value in vector.items():
        if isinstance(value, tuple):
            indices, values = value
            named[key] = edge.SparseVector(list(indices), list(values))
        else:
            named[key] = value
    return named
