"""Pure diff of the prepared documents against what a collection holds."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
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
    """The chunks the new collection will hold, and how they relate to the previous one."""

    chunks: list[IndexedChunk]
    counts: dict[str, int] = field(default_factory=dict)


def plan_refresh(
    docs: Sequence[dict[str, Any]],
    previous: Sequence[IndexedChunk],
    chunker: Chunker,
    current_hash: dict[str, str] | None = None,
) -> RefreshPlan:
    """Keep the chunks of unchanged docs as they are; chunk only new and changed docs.

    ``current_hash``: doc_id → :func:`doc_hash` of ``docs``, when the caller has it already.
    """
    previous_by_doc: dict[str, list[IndexedChunk]] = defaultdict(list)
    for item in previous:
        previous_by_doc[item.chunk.doc_id].append(item)
    previous_hash = {doc_id: items[0].doc_hash for doc_id, items in previous_by_doc.items()}
    if current_hash is None:
        current_hash = {str(doc["doc_id"]): doc_hash(doc) for doc in docs}

    unchanged = [d for d, h in current_hash.items() if previous_hash.get(d) == h]
    to_chunk = [
        doc
        for doc in docs
        if previous_hash.get(str(doc["doc_id"])) != current_hash[str(doc["doc_id"])]
    ]
    kept = [item for doc_id in unchanged for item in previous_by_doc[doc_id]]
    fresh = [IndexedChunk(chunk, current_hash[chunk.doc_id]) for chunk in chunker(to_chunk)]
    chunks = sorted(kept + fresh, key=lambda item: (item.chunk.doc_id, item.chunk.position))

    added_docs = set(current_hash) - set(previous_hash)
    deleted_docs = set(previous_hash) - set(current_hash)
    deleted_hashes = {previous_hash[d] for d in deleted_docs}
    old_ids = {item.chunk.chunk_id for item in previous}
    new_ids = {item.chunk.chunk_id for item in chunks}
    counts = {
        "docs_total": len(current_hash),
        "docs_added": len(added_docs),
        "docs_updated": len(set(current_hash) & set(previous_hash)) - len(unchanged),
        "docs_deleted": len(deleted_docs),
        "docs_renamed": sum(1 for d in added_docs if current_hash[d] in deleted_hashes),
        "docs_unchanged": len(unchanged),
        "chunks_total": len(new_ids),
        "chunks_added": len(new_ids - old_ids),
        "chunks_deleted": len(old_ids - new_ids),
        "chunks_unchanged": len(new_ids & old_ids),
    }
    return RefreshPlan(chunks=chunks, counts=counts)
