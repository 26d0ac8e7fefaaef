"""`ragtune index refresh`: build the next collection from the previous one, then publish it.

Every refresh writes a new versioned collection ``<prefix>-<data-rev>-<n>``. Chunks of
unchanged documents are carried over without re-chunking; a vector is embedded only when no
collection has held its text before (the manifest caches vectors by content hash). The
staging alias moves only after the collection is complete, so readers never see a half-built
index, and a killed refresh leaves the previous collection answering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.data.schema import DOCS
from ragtune.data.versioning import data_revision
from ragtune.errors import RetrievalIndexError
from ragtune.index import manifest, sparse, store, version_maps
from ragtune.index.build import build_collection
from ragtune.index.chunk import Chunk, chunk_documents
from ragtune.index.diff import RefreshPlan, plan_refresh
from ragtune.index.embed import load_chunk_tokenizer
from ragtune.index.gc import collect_garbage, drop_orphans
from ragtune.index.lock import holding_index_lock
from ragtune.index.prepared import PreparedDocs, scan_prepared_docs

if TYPE_CHECKING:
    import sqlite3

    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    from ragtune.config import Settings
    from ragtune.index.manifest import IndexedChunk

logger = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    """What a refresh did: the collection behind the staging alias now, counts and timings."""

    collection: str
    previous: str | None
    data_revision: str
    built: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    deleted_collections: list[str] = field(default_factory=list)


class PhaseTimer:
    """Seconds per named phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    def finish(self) -> dict[str, float]:
        """The phases plus ``total`` wall seconds since the timer started."""
        return {**self.seconds, "total": time.perf_counter() - self.started}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def index_params(settings: Settings) -> dict[str, Any]:
    """The settings a collection's chunks depend on; a change forces re-chunking."""
    config = settings.index
    return {
        "embedding_model": config.embedding_model,
        "chunk_size": config.chunk_size,
        "chunk_overlap": config.chunk_overlap,
        "sparse_encoder": sparse.ENCODER,
    }


@holding_index_lock
def refresh_index(
    settings: Settings,
    show_progress: bool = True,
    embedder: SentenceTransformer | None = None,
    revision: str | None = None,
) -> RefreshResult:
    """Bring the staging alias up to date with the prepared documents.

    ``revision``: the data revision the caller already determined (default: computed here).
    """
    timer = PhaseTimer()
    with timer.phase("load"):
        if revision is None:
            revision = data_revision(settings.project_dir, settings.path(settings.data.raw_dir)).id
    params = index_params(settings)
    staging = settings.index.staging_alias
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        target = store.alias_target(settings, staging)
        with timer.phase("load"):  # lines the staging version was built from are not parsed
            lines, hashes = (
                (version_maps.known_lines(db, target), version_maps.doc_hashes(db, target))
                if target
                else ({}, {})
            )
            prepared = scan_prepared_docs(
                settings.path(settings.prepare.prepared_dir), lines, hashes
            )
        current = prepared.hashes
        # Nothing changed: answered without opening Qdrant (local mode loads every collection).
        if target and _holds(db, target, params, current):
            return _unchanged(target, revision, len(prepared), timer)
        with ExitStack() as stack:
            with timer.phase("open"):  # local mode loads every stored collection here
                client = stack.enter_context(store.open_store(settings))
            previous = store.aliases(client).get(staging)
            with timer.phase("diff"):
                # Checked above unless the alias moved since (a server, another host's writer).
                if previous and previous != target and _holds(db, previous, params, current):
                    return _unchanged(previous, revision, len(prepared), timer)
                drop_orphans(client, db, settings)
                plan = _plan(client, db, previous, params, settings, prepared)
                _refuse_empty(plan.chunk_count, settings)
            name = _next_name(client, db, settings.index.collection_prefix, revision)
            built = build_collection(
                client,
                db,
                name,
                plan,
                previous,
                revision,
                params,
                settings,
                embedder,
                show_progress,
                timer,
            )
            counts = {**plan.counts, **built}
            # Kept with the version: a later refresh that finds it up to date reports this build.
            manifest.record_build(db, name, {"previous": previous, "counts": counts})
            with timer.phase("publish"):
                store.move_alias(client, staging, name)
            with timer.phase("gc"):
                deleted = collect_garbage(client, db, settings)
    logger.info("refresh %s → %s: %s", previous, name, counts)
    return RefreshResult(name, previous, revision, True, counts, timer.finish(), deleted)


def _chunker(settings: Settings) -> Callable[[Sequence[dict[str, Any]]], list[Chunk]]:
    """Chunk documents with the model's tokenizer, loaded only if some document needs it.

    A refresh that only deletes documents never loads it (~0.5 s saved).
    """
    config = settings.index

    def chunk(batch: Sequence[dict[str, Any]]) -> list[Chunk]:
        if not batch:
            return []
        tokenizer = load_chunk_tokenizer(config)
        return chunk_documents(batch, tokenizer, config.chunk_size, config.chunk_overlap)

    return chunk


def _holds(
    db: sqlite3.Connection, name: str, params: dict[str, Any], current: dict[str, str]
) -> bool:
    """True when a complete collection was built with these params from exactly these docs."""
    info = manifest.collection_info(db, name)
    if info is None or info["status"] != "complete" or info["params"] != params:
        return False
    return manifest.doc_hashes(db, name) == current


def _unchanged(name: str, revision: str, docs: int, timer: PhaseTimer) -> RefreshResult:
    logger.info("nothing changed: %s already holds the %d prepared docs", name, docs)
    counts = {"docs_total": docs, "docs_unchanged": docs, "chunks_embedded": 0, "chunks_reused": 0}
    return RefreshResult(name, name, revision, False, counts, timer.finish())


def _plan(
    client: QdrantClient,
    db: sqlite3.Connection,
    previous: str | None,
    params: dict[str, Any],
    settings: Settings,
    prepared: PreparedDocs,
) -> RefreshPlan:
    """Diff the prepared docs against the previous version, from the manifest or (lost) Qdrant.

    A previous version built with other params (chunk size, model) has every document marked
    changed, so everything is re-chunked while its chunk ids still count as deleted.
    """
    hashes: dict[str, str] = {}
    count = 0
    if previous is not None:
        info = manifest.collection_info(db, previous)
        if info is None or info["status"] != "complete":
            from ragtune.index.recover import chunks_from_collection

            chunks_from_collection(client, db, previous, settings.index.embedding_model)
            info = manifest.collection_info(db, previous)
        hashes, count = manifest.doc_hashes(db, previous), info["chunks"]
        if info["params"] != params:
            hashes = dict.fromkeys(hashes, "")

    def chunks_of(doc_ids: Sequence[str]) -> list[IndexedChunk]:
        return manifest.docs_chunks(db, previous, doc_ids) if previous else []

    plan = plan_refresh(
        prepared.hashes, prepared.docs, hashes, chunks_of, count, _chunker(settings)
    )
    plan.lines = prepared.lines
    return plan


def _refuse_empty(chunk_count: int, settings: Settings) -> None:
    """Never publish an empty index."""
    if not chunk_count:
        prepared = settings.path(settings.prepare.prepared_dir) / DOCS.filename
        raise RetrievalIndexError(
            f"{prepared}: no document has text to index; run `ragtune data prepare`"
        )


def _next_name(client: QdrantClient, db: sqlite3.Connection, prefix: str, revision: str) -> str:
    """``<prefix>-<data-rev>-<n>``, n one above any build number seen in Qdrant or the manifest."""
    seen = store.collection_names(client, prefix) + sorted(manifest.recorded_collections(db))
    number = max((store.build_number(name) for name in seen), default=0) + 1
    return f"{prefix}-{revision}-{number}"
