"""The index manifest: what each version holds, and vector caches keyed by content hash.

sqlite beside the data, not JSON. A refresh writes only what changed, not the whole corpus:

- a version (``collections`` row) is its status, data revision, params, chunk count and its
  document map ``doc_id → doc_hash``, stored as the changes to a base map (``doc_maps``) that
  versions share: a refresh writes a few bytes per changed document, and a new base (20,000
  docs: ~1 MB, read in ~10 ms) only once the changes outgrow 1/8 of it;
- a document's chunks (``doc_chunks``) are stored once per (doc id, doc hash, chunking), and
  shared by every version that holds that document unchanged;
- a chunk's text (``texts``) once per content hash.

So a refresh that edits 10 documents adds 10 documents' rows and one map, whatever the corpus
size, and dropping a version deletes only the documents no other version holds.
A version is recorded as ``building`` before its points are written and ``complete`` after,
so a killed refresh leaves an orphan that the next run recognises and deletes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.index.chunk import Chunk
from ragtune.index.sparse import SparseVector
from ragtune.index.version_maps import (
    ManifestConnection,
    doc_hashes,
    drop_unused_base_maps,
    forget_map,
    remember_map,
    stored_maps,
)

LOOKUP_BATCH = 500
"""Hashes per ``IN (...)`` lookup (sqlite allows 999 parameters in older builds)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, status TEXT NOT NULL, data_revision TEXT NOT NULL,
    params TEXT NOT NULL, created_at REAL NOT NULL,
    docs TEXT NOT NULL DEFAULT '{}', chunk_count INTEGER NOT NULL DEFAULT 0,
    lines TEXT NOT NULL DEFAULT '{}', base_map INTEGER, build TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS doc_maps (
    id INTEGER PRIMARY KEY, docs TEXT NOT NULL, lines TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc_chunks (
    doc_id TEXT NOT NULL, doc_hash TEXT NOT NULL, chunking TEXT NOT NULL,
    position INTEGER NOT NULL, chunk_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    title TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (doc_id, doc_hash, chunking, position)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_chunks_by_content ON doc_chunks (content_hash);
CREATE TABLE IF NOT EXISTS texts (content_hash TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL, content_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, content_hash));
CREATE TABLE IF NOT EXISTS sparse_vectors (
    encoder TEXT NOT NULL, content_hash TEXT NOT NULL, indices BLOB NOT NULL,
    vals BLOB NOT NULL, PRIMARY KEY (encoder, content_hash));
"""

_CHUNK_COLUMNS = "c.chunk_id, c.doc_id, c.position, t.text, c.content_hash, c.title, c.source"
_CHUNKS_OF_DOC = (
    f"SELECT {_CHUNK_COLUMNS} FROM doc_chunks AS c JOIN texts AS t "
    "ON t.content_hash = c.content_hash "
    "WHERE c.doc_id = ? AND c.doc_hash = ? AND c.chunking = ? ORDER BY c.position"
)


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk as recorded for one collection, with the hash of the document it came from."""

    chunk: Chunk
    doc_hash: str


def chunking_key(params: Mapping[str, Any]) -> str:
    """Key of the settings a document's chunks depend on (a version's params)."""
    encoded = json.dumps(dict(params), sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:16]


@contextmanager
def open_manifest(path: Path) -> Iterator[sqlite3.Connection]:
    """The manifest database, created on first use (each writer commits its own change)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, factory=ManifestConnection)
    try:
        # WAL without an fsync per commit: a killed process loses nothing, a power cut at most
        # the last commits. A version whose "complete" mark was lost is recovered from the
        # engine (recover.py); the alias file is fsynced on its own. A refresh commits ~6 times.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        # Some sqlite builds zero every freed page; dropping a version's 1 MB maps then
        # costs ~0.15 s. The manifest holds nothing secret.
        connection.execute("PRAGMA secure_delete=OFF")
        _upgrade(connection)
        connection.executescript(SCHEMA)
        yield connection
    finally:
        connection.close()


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


_ADDED_COLUMNS = {
    "docs": "TEXT NOT NULL DEFAULT '{}'",
    "chunk_count": "INTEGER NOT NULL DEFAULT 0",
    "lines": "TEXT NOT NULL DEFAULT '{}'",
    "base_map": "INTEGER",
    "build": "TEXT NOT NULL DEFAULT '{}'",
}


def _upgrade(db: sqlite3.Connection) -> None:
    """Bring a manifest of an earlier layout to this one, in one transaction (all or nothing).

    Earlier layouts stored every chunk of every version as a row (``chunks``), first with its
    text, later with the text in ``texts``. Their versions become document maps here.
    """
    old = _columns(db, "chunks")
    missing = _ADDED_COLUMNS.keys() - _columns(db, "collections")
    if not old and (not missing or not _columns(db, "collections")):
        return
    db.execute("BEGIN")
    try:
        for column in sorted(missing):
            db.execute(f"ALTER TABLE collections ADD COLUMN {column} {_ADDED_COLUMNS[column]}")
        for statement in SCHEMA.split(";"):  # executescript would commit: one by one
            if statement.strip():
                db.execute(statement)
        if old:
            _chunk_rows_to_documents(db, old)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _chunk_rows_to_documents(db: sqlite3.Connection, old: set[str]) -> None:
    """Each version's chunk rows become its document map and shared per-document rows."""
    if "text" in old:
        db.execute("INSERT OR IGNORE INTO texts SELECT content_hash, text FROM chunks")
    versions = db.execute("SELECT name, params FROM collections").fetchall()
    for name, params in versions:
        rows = db.execute(
            "SELECT chunk_id, doc_id, position, content_hash, doc_hash, title, source "
            "FROM chunks WHERE collection = ?",
            (name,),
        ).fetchall()
        chunking = chunking_key(json.loads(params))
        docs = _doc_map_of_rows(rows)
        db.executemany(
            "INSERT OR IGNORE INTO doc_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((r[1], docs[r[1]], chunking, r[2], r[0], r[3], r[5], r[6]) for r in rows),
        )
        db.execute(
            "UPDATE collections SET docs = ?, chunk_count = ? WHERE name = ?",
            (json.dumps(docs), len(rows), name),
        )
    db.execute("DROP TABLE chunks")


def _doc_map_of_rows(rows: Sequence[tuple[Any, ...]]) -> dict[str, str]:
    """doc_id → doc_hash of (chunk_id, doc_id, position, content_hash, doc_hash, ...) rows.

    A document recorded without its hash (recovered from the engine) gets one derived from
    its chunk ids, so two different recovered contents of one doc id never share rows.
    """
    ids: dict[str, list[str]] = defaultdict(list)
    docs: dict[str, str] = {}
    for chunk_id, doc_id, _position, _content, doc_hash, *_ in rows:
        ids[doc_id].append(chunk_id)
        docs[doc_id] = doc_hash
    for doc_id, doc_hash in docs.items():
        if not doc_hash:
            digest = hashlib.sha256("\n".join(sorted(ids[doc_id])).encode("utf-8"))
            docs[doc_id] = "unknown-" + digest.hexdigest()[:24]
    return docs


def record_collection(
    db: sqlite3.Connection,
    name: str,
    data_revision: str,
    params: dict[str, Any],
    chunks: Sequence[IndexedChunk],
) -> None:
    """Record a collection as ``building`` with every chunk it is about to hold."""
    rows = [
        (c.chunk_id, c.doc_id, c.position, c.content_hash, item.doc_hash)
        for item in chunks
        for c in (item.chunk,)
    ]
    docs = _doc_map_of_rows(rows)
    fixed = [
        IndexedChunk(item.chunk, docs[item.chunk.doc_id])
        if item.doc_hash != docs[item.chunk.doc_id]
        else item
        for item in chunks
    ]
    record_version(db, name, data_revision, params, docs, fixed, len(chunks))


def record_version(
    db: sqlite3.Connection,
    name: str,
    data_revision: str,
    params: dict[str, Any],
    docs: Mapping[str, str],
    new_chunks: Iterable[IndexedChunk],
    chunk_count: int,
    lines: Mapping[str, str] | None = None,
    parent: str | None = None,
) -> None:
    """Record a version as ``building``: its document map, and the chunks of its new documents.

    ``new_chunks``: the chunks of documents whose (doc id, doc hash) no recorded version holds
    yet with these params; rows already stored are kept as they are. ``lines``: digests of the
    prepared lines it was built from (see :mod:`ragtune.index.prepared`). ``parent``: the
    version it was diffed against; its base map is shared when the changes are few.
    """
    chunking = chunking_key(params)
    new_chunks = list(new_chunks)
    docs, lines = dict(docs), dict(lines or {})
    base_id, delta_docs, delta_lines = stored_maps(db, parent, docs, lines)
    db.execute(
        "INSERT OR REPLACE INTO collections (name, status, data_revision, params, created_at, "
        "docs, chunk_count, lines, base_map) VALUES (?, 'building', ?, ?, ?, ?, ?, ?, ?)",
        (
            name,
            data_revision,
            json.dumps(params, sort_keys=True),
            time.time(),
            json.dumps(delta_docs),
            chunk_count,
            json.dumps(delta_lines),
            base_id,
        ),
    )
    remember_map(db, name, docs)
    db.executemany(
        "INSERT OR IGNORE INTO texts VALUES (?, ?)",
        ((item.chunk.content_hash, item.chunk.text) for item in new_chunks),
    )
    db.executemany(
        "INSERT OR IGNORE INTO doc_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                c.doc_id,
                item.doc_hash,
                chunking,
                c.position,
                c.chunk_id,
                c.content_hash,
                c.title,
                c.source,
            )
            for item in new_chunks
            for c in (item.chunk,)
        ),
    )
    db.commit()


def mark_complete(db: sqlite3.Connection, name: str) -> None:
    """The collection holds every point it was recorded with."""
    db.execute("UPDATE collections SET status = 'complete' WHERE name = ?", (name,))
    db.commit()


def record_build(db: sqlite3.Connection, name: str, build: dict[str, Any]) -> None:
    """What the refresh that built a version did (previous version, counts), for its reports."""
    db.execute("UPDATE collections SET build = ? WHERE name = ?", (json.dumps(build), name))
    db.commit()


def build_record(db: sqlite3.Connection, name: str) -> dict[str, Any]:
    """What :func:`record_build` stored for a version (empty when nothing was)."""
    row = db.execute("SELECT build FROM collections WHERE name = ?", (name,)).fetchone()
    try:
        record = json.loads(row[0]) if row else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def collection_info(db: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    """Status, data revision, params and chunk count of a recorded collection."""
    row = db.execute(
        "SELECT status, data_revision, params, chunk_count FROM collections WHERE name = ?",
        (name,),
    ).fetchone()
    if row is None:
        return None
    return {
        "status": row[0],
        "data_revision": row[1],
        "params": json.loads(row[2]),
        "chunks": row[3],
    }


def complete_collections(db: sqlite3.Connection) -> set[str]:
    """Names of collections recorded as complete."""
    return {row[0] for row in db.execute("SELECT name FROM collections WHERE status = 'complete'")}


def recorded_collections(db: sqlite3.Connection) -> set[str]:
    """Every collection name the manifest knows, built or being built."""
    return {row[0] for row in db.execute("SELECT name FROM collections")}


def _chunking_of(db: sqlite3.Connection, name: str) -> str:
    row = db.execute("SELECT params FROM collections WHERE name = ?", (name,)).fetchone()
    return chunking_key(json.loads(row[0])) if row else ""


def docs_chunks(db: sqlite3.Connection, name: str, doc_ids: Iterable[str]) -> list[IndexedChunk]:
    """The chunks a collection holds of the given documents (those it holds), in doc order.

    One primary-key lookup per document: a refresh reads the documents it changes, not the
    corpus.
    """
    docs = doc_hashes(db, name)
    chunking = _chunking_of(db, name)
    chunks: list[IndexedChunk] = []
    for doc_id in sorted(set(doc_ids) & docs.keys()):
        rows = db.execute(_CHUNKS_OF_DOC, (doc_id, docs[doc_id], chunking))
        chunks.extend(IndexedChunk(Chunk(*row), docs[doc_id]) for row in rows)
    return chunks


def collection_chunks(db: sqlite3.Connection, name: str) -> list[IndexedChunk]:
    """Every chunk recorded for a collection, in document and position order."""
    docs = doc_hashes(db, name)
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS}, c.doc_hash FROM doc_chunks AS c JOIN texts AS t "
        "ON t.content_hash = c.content_hash WHERE c.chunking = ? "
        "ORDER BY c.doc_id, c.position",
        (_chunking_of(db, name),),
    )
    return [IndexedChunk(Chunk(*row[:7]), row[7]) for row in rows if docs.get(row[1]) == row[7]]


def forget_collections(db: sqlite3.Connection, names: Iterable[str]) -> None:
    """Drop the records of deleted collections, and what no remaining one uses.

    A dropped version's documents that no remaining version holds (same doc id, doc hash and
    chunking) lose their chunk rows; of those chunks' content hashes, the ones no remaining
    chunk row has lose their text and cached vectors. Only the dropped documents are looked
    up, by key.
    """
    names = list(names)
    if not names:
        return
    going = {name: (_chunking_of(db, name), doc_hashes(db, name).items()) for name in names}
    db.executemany("DELETE FROM collections WHERE name = ?", ((n,) for n in names))
    for name in names:
        forget_map(db, name)
    staying = [(_chunking_of(db, name), name) for name in recorded_collections(db)]
    dropped: set[tuple[str, str, str]] = set()
    for chunking, docs in going.values():
        for other in (name for key, name in staying if key == chunking):
            docs = docs - doc_hashes(db, other).items()  # set difference in C
        dropped.update((doc_id, doc_hash, chunking) for doc_id, doc_hash in docs)
    hashes: set[str] = set()
    for key in dropped:
        rows = db.execute(
            "SELECT content_hash FROM doc_chunks WHERE doc_id = ? AND doc_hash = ? AND chunking = ?",
            key,
        )
        hashes.update(row[0] for row in rows)
    db.executemany(
        "DELETE FROM doc_chunks WHERE doc_id = ? AND doc_hash = ? AND chunking = ?", dropped
    )
    drop_unused_base_maps(db)
    used = "SELECT 1 FROM doc_chunks WHERE content_hash = ? LIMIT 1"
    unused = [h for h in hashes if db.execute(used, (h,)).fetchone() is None]
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
