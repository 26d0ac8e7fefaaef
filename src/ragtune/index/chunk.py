"""Token-aware chunking with stable chunk ids.

Windows are counted in the embedding model's own tokens, so a chunk never gets truncated
when it is embedded. ``chunk_size`` includes the model's special tokens ([CLS], [SEP]).
A chunk's id is derived from its doc id, position and content hash: an unchanged chunk keeps
its id across runs, and a changed one gets a new id, so a stale version can never be
overwritten in place and mistaken for the new one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CHUNK_NAMESPACE = uuid.UUID("6f1c3c1e-8d2a-4f0b-9a57-2f8e4d1b7c90")


@dataclass(frozen=True)
class Chunk:
    """One window of a document's text, as stored in the index."""

    chunk_id: str
    """UUID derived from doc id, position and content hash (Qdrant accepts it as a point id)."""
    doc_id: str
    position: int
    """0-based index of the window inside its document."""
    text: str
    """A verbatim span of the document text; this is what gets embedded."""
    content_hash: str
    """sha256 (hex, 32 chars) of ``text``: equal text, equal vector."""
    title: str = ""
    source: str = ""


def content_hash(text: str) -> str:
    """Hash of the text that gets embedded; vectors are reused by this key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def chunk_id(doc_id: str, position: int, text_hash: str) -> str:
    """Stable point id of a chunk."""
    return str(uuid.uuid5(CHUNK_NAMESPACE, f"{doc_id}\x1f{position}\x1f{text_hash}"))


def token_windows(length: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """``[start, end)`` token ranges of ``window`` tokens, consecutive ones sharing ``overlap``."""
    if window < 1 or not 0 <= overlap < window:
        raise ValueError(f"need window >= 1 and 0 <= overlap < window, got {window}, {overlap}")
    spans: list[tuple[int, int]] = []
    start = 0
    while start < length:
        end = min(start + window, length)
        spans.append((start, end))
        if end == length:
            break
        start = end - overlap
    return spans


def _window_size(tokenizer: Any, chunk_size: int, overlap: int) -> int:
    window = chunk_size - tokenizer.num_special_tokens_to_add(pair=False)
    if window <= overlap:
        raise ValueError(
            f"index.chunk_size = {chunk_size} leaves {window} tokens after special tokens, "
            f"not more than index.chunk_overlap = {overlap}; raise chunk_size or lower the overlap"
        )
    return window


def chunk_documents(
    docs: Sequence[dict[str, Any]], tokenizer: Any, chunk_size: int, overlap: int
) -> list[Chunk]:
    """Chunk many documents with one batched tokenizer call (fast tokenizers only)."""
    window = _window_size(tokenizer, chunk_size, overlap)
    if not docs:
        return []
    texts = [str(doc["text"]) for doc in docs]
    # The Rust backend directly: BatchEncoding's Python-side offset lists cost as much again.
    # transformers itself resets the backend's truncation/padding on every call, as we do here.
    backend = tokenizer.backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    encodings = backend.encode_batch(texts, add_special_tokens=False)
    chunks: list[Chunk] = []
    for doc, text, offsets in zip(docs, texts, (e.offsets for e in encodings), strict=True):
        chunks.extend(_doc_chunks(doc, text, offsets, window, overlap))
    return chunks


def _doc_chunks(
    doc: dict[str, Any], text: str, offsets: Sequence[tuple[int, int]], window: int, overlap: int
) -> Iterable[Chunk]:
    doc_id = str(doc["doc_id"])
    for position, (start, end) in enumerate(token_windows(len(offsets), window, overlap)):
        span = text[offsets[start][0] : offsets[end - 1][1]]
        text_hash = content_hash(span)
        yield Chunk(
            chunk_id=chunk_id(doc_id, position, text_hash),
            doc_id=doc_id,
            position=position,
            text=span,
            content_hash=text_hash,
            title=str(doc.get("title", "")),
            source=str(doc.get("source", "")),
        )


def chunk_document(
    doc: dict[str, Any], tokenizer: Any, chunk_size: int, overlap: int
) -> list[Chunk]:
    """Split one document (needs ``doc_id`` and ``text``) into overlapping token windows."""
    return chunk_documents([doc], tokenizer, chunk_size, overlap)
