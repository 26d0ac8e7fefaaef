"""Pure diff of the prepared documents against what a collection holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragtune.index.chunk import Chunk
from ragtune.index.manifest import IndexedChunk

Chunker = Callable[[Sequence[dict[str, Any]]], list[Chunk]]


def doc_hash(doc: dict[str, Any]) -> str:
    """Hash of what a document contributes to the index (not its id: renames keep it)."""
    content = json.dumps([doc["title"], doc["text"], doc["source"]], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]


@dataclass
class RefreshPlan:
    """How the new version differs from the previous one, document by document.

    Only changed documents are chunked and looked at: unchanged ones stay as the previous
    version holds them, in the engine and in the manifest.
    """

    docs: dict[str, str]
    """doc_id → doc_hash of every document of the new version."""
    fresh: list[IndexedChunk]
    """Chunks of new and changed documents."""
    gone: list[IndexedChunk]
    """The previous version's chunks of changed and deleted documents."""
    chunk_count: int
    counts: dict[str, int] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    """Digests of the prepared lines the new version is built from (see ``index.prepared``)."""


def plan_refresh(
    current_hash: dict[str, str],
    docs_of: Callable[[Iterable[str]], list[dict[str, Any]]],
    previous_hash: dict[str, str],
    previous_chunks_of: Callable[[Sequence[str]], Sequence[IndexedChunk]],
    previous_count: int,
    chunker: Chunker,
) -> RefreshPlan:
    """Chunk only new and changed docs; read the previous chunks only of changed and deleted ones.

    ``current_hash``: doc_id → :func:`doc_hash` of the prepared docs; ``docs_of(doc_ids)``:
    their rows. ``previous_hash``: doc_id → doc_hash of the previous version ("" for a
    document to re-chunk whatever its hash); ``previous_chunks_of(doc_ids)``: its chunks of
    those documents; ``previous_count``: how many chunks it holds.
    """
    changed = {d for d, _ in current_hash.items() - previous_hash.items()}  # set operation in C
    deleted_docs = previous_hash.keys() - current_hash.keys()
    gone = list(previous_chunks_of(sorted((changed & previous_hash.keys()) | deleted_docs)))
    fresh = [IndexedChunk(chunk, current_hash[chunk.doc_id]) for chunk in chunker(docs_of(changed))]

    added_docs = current_hash.keys() - previous_hash.keys()
    deleted_hashes = {previous_hash[d] for d in deleted_docs}
    gone_ids = {item.chunk.chunk_id for item in gone}
    fresh_ids = {item.chunk.chunk_id for item in fresh}
    chunk_count = previous_count - len(gone) + len(fresh)
    counts = {
        "docs_total": len(current_hash),
        "docs_added": len(added_docs),
        "docs_updated": len(changed) - len(added_docs),
        "docs_deleted": len(deleted_docs),
        "docs_renamed": sum(1 for d in added_docs if current_hash[d] in deleted_hashes),
        "docs_unchanged": len(current_hash) - len(changed),
        "chunks_total": chunk_count,
        "chunks_added": len(fresh_ids - gone_ids),
        "chunks_deleted": len(gone_ids - fresh_ids),
        "chunks_unchanged": chunk_count - len(fresh_ids - gone_ids),
    }
    return RefreshPlan(dict(current_hash), fresh, gone, chunk_count, counts)
