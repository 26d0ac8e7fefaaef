"""The index manifest: what each collection holds, and a vector cache keyed by content hash.

sqlite beside the data, not JSON: one refresh reads and writes ~10,000 rows in a few ms.
A chunk's text is stored once per content hash (``texts``), not once per version: every kept
version lists nearly the same chunks, and repeating their text made each version's rows ~7x
larger (250 MB for three versions of 20,000 docs) and dropping a version cost a second.
A collection is recorded as ``building`` before its points are written and ``complete``
after, so a killed refresh leaves an orphan that the next run recognises and deletes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.index.chunk import Chunk
from ragtune.index.sparse import SparseVector

LOOKUP_BATCH = 500
"""Hashes per ``IN (...)`` lookup (sqlite allows 999 parameters in older builds)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, status TEXT NOT NULL, data_revision TEXT NOT NULL,
    params TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    position INTEGER NOT NULL, content_hash TEXT NOT NULL, doc_hash TEXT NOT NULL,
    title TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (collection, chunk_id));
CREATE TABLE IF NOT EXISTS texts (content_hash TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL, content_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, content_hash));
CREATE TABLE IF NOT EXISTS sparse_vectors (
    encoder TEXT NOT NULL, content_hash TEXT NOT NULL, indices BLOB NOT NULL,
    vals BLOB NOT NULL, PRIMARY KEY (encoder, content_hash));
"""


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk as recorded for one collection, with the hash of the document it came from."""

    chunk: Chunk
    doc_hash: str


@contextmanager
def open_manifest(path: Path) -> Iterator[sqlite3.Connection]:
    """The manifest database, created on first use (each writer commits its own change)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        # WAL without an fsync per commit: a killed process loses nothing, a power cut at most
        # the last commits. A version whose "complete" mark was lost is recovered from the
        # engine (recover.py); the alias file is fsynced on its own. A refresh commits ~6 times.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(SCHEMA)
        _move_texts_out_of_chunks(connection)
        yield connection
    finally:
        connection.close()


def _move_texts_out_of_chunks(db: sqlite3.Connection) -> None:
    """Upgrade a manifest written before ``texts`` existed (one transaction: all or nothing)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
    if "text" not in columns:
        return
    db.execute("INSERT OR IGNORE INTO texts SELECT content_hash, text FROM chunks")
    db.execute("ALTER TABLE chunks DROP COLUMN text")
    db.commit()


def record_collection(
    db: sqlite3.Connection,
    name: str,
    data_revision: str,
    params: dict[str, Any],
    chunks: Sequence[IndexedChunk],
) -> None:
    """Record a collection as ``building`` with the chunks it is about to hold."""
    db.execute(
        "INSERT OR REPLACE INTO collections VALUES (?, 'building', ?, ?, ?)",
        (name, data_revision, json.dumps(params, sort_keys=True), time.time()),
    )
    db.execute("DELETE FROM chunks WHERE collection = ?", (name,))
    db.executemany(
        "INSERT OR IGNORE INTO texts VALUES (?, ?)",
        ((item.chunk.content_hash, item.chunk.text) for item in chunks),
    )
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                name,
                c.chunk_id,
                c.doc_id,
                c.position,
                c.content_hash,
                item.doc_hash,
                c.title,
                c.source,
            )
            for item in chunks
            for c in (item.chunk,)
        ),
    )
    db.commit()


def mark_complete(db: sqlite3.Connection, name: str) -> None:
    """The collection holds every point it was recorded with."""
    db.execute("UPDATE collections SET status = 'complete' WHERE name = ?", (name,))
    db.commit()


def collection_info(db: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    """Status, data revision and params of a recorded collection."""
    row = db.execute(
        "SELECT status, data_revision, params FROM collections WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    return {"status": row[0], "data_revision": row[1], "params": json.loads(row[2])}


def complete_collections(db: sqlite3.Connection) -> set[str]:
    """Names of collections recorded as complete."""
    return {row[0] for row in db.execute("SELECT name FROM collections WHERE status = 'complete'")}


def recorded_collections(db: sqlite3.Connection) -> set[str]:
    """Every collection name the manifest knows, built or being built."""
    return {row[0] for row in db.execute("SELECT name FROM collections")}


def collection_chunks(db: sqlite3.Connection, name: str) -> list[IndexedChunk]:
    """The chunks recorded for a collection, in document and position order."""
    rows = db.execute(
        "SELECT c.chunk_id, c.doc_id, c.position, t.text, c.content_hash, c.title, c.source, "
        "c.doc_hash FROM chunks AS c JOIN texts AS t ON t.content_hash = c.content_hash "
        "WHERE c.collection = ? ORDER BY c.doc_id, c.position",
        (name,),
    )
    return [IndexedChunk(Chunk(*row[:7]), row[7]) for row in rows]


def doc_hashes(db: sqlite3.Connection, name: str) -> dict[str, str]:
    """doc_id → doc_hash of every document in a collection."""
    rows = db.execute("SELECT DISTINCT doc_id, doc_hash FROM chunks WHERE collection = ?", (name,))
    return dict(rows.fetchall())


def forget_collections(db: sqlite3.Connection, names: Iterable[str]) -> None:
    """Drop the records of deleted collections, and the texts and vectors no remaining one uses.

    Only the dropped collections' content hashes can have become unused (a vector is cached
    after its chunk is recorded), so only those are looked up, by primary key.
    """
    names = list(names)
    if not names:
        return
    dropped: set[str] = set()
    for name in names:
        rows = db.execute("SELECT content_hash FROM chunks WHERE collection = ?", (name,))
        dropped.update(row[0] for row in rows)
    db.executemany("DELETE FROM chunks WHERE collection = ?", ((n,) for n in names))
    db.executemany("DELETE FROM collections WHERE name = ?", ((n,) for n in names))
    if dropped:
        unused = dropped - {row[0] for row in db.execute("SELECT content_hash FROM chunks")}
        db.executemany("DELETE FROM texts WHERE content_hash = ?", ((h,) for h in unused))
        for table, key in (("vectors", "model"), ("sparse_vectors", "encoder")):
            keys = [row[0] for row in db.execute(f"SELECT DISTINCT {key} FROM {table}")]
            db.executemany(
                f"DELETE FROM {table} WHERE {key} = ? AND content_hash = ?",
                ((k, h) for k in keys for h in unused),
            )
    db.commit()


def _by_hash(
    db: sqlite3.Connection, query: str, key: str, hashes: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``query`` (``... WHERE <key column> = ? AND content_hash IN (%s)``) per batch.

    Looked up by primary key, so a refresh that changed a few chunks reads a few rows, not
    every vector the cache holds.
    """
    wanted = sorted(set(hashes))
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        yield from db.execute(query % ",".join("?" * len(batch)), (key, *batch))


def cached_vectors(
    db: sqlite3.Connection, model: str, hashes: Iterable[str]
) -> dict[str, np.ndarray]:
    """Stored vectors of the given content hashes (those present)."""
    query = "SELECT content_hash, vector FROM vectors WHERE model = ? AND content_hash IN (%s)"
    return {
        content_hash: np.frombuffer(blob, dtype=np.float32)
        for content_hash, blob in _by_hash(db, query, model, hashes)
    }


def store_vectors(db: sqlite3.Connection, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Cache vectors by content hash for later refreshes."""
    db.executemany(
        "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
        ((model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()),
    )
    db.commit()


def cached_sparse(
    db: sqlite3.Connection, encoder: str, hashes: Iterable[str]
) -> dict[str, SparseVector]:
    """Stored sparse vectors of the given content hashes (those present)."""
    query = (
        "SELECT content_hash, indices, vals FROM sparse_vectors "
        "WHERE encoder = ? AND content_hash IN (%s)"
    )
    return {
        content_hash: SparseVector.from_bytes(indices, values)
        for content_hash, indices, values in _by_hash(db, query, encoder, hashes)
    }


def store_sparse(db: sqlite3.Connection, encoder: str, vectors: dict[str, SparseVector]) -> None:
    """Cache sparse vectors by content hash for later refreshes."""
    db.executemany(
        "INSERT OR REPLACE INTO sparse_vectors VALUES (?, ?, ?, ?)",
        ((encoder, h, *v.to_bytes()) for h, v in vectors.items()),
    )
    db.commit()
