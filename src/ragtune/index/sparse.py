"""BM25 sparse vectors: the keyword half of hybrid retrieval.

A chunk's sparse vector holds, per term, BM25's saturated term frequency; the engine applies
the IDF part at query time (Qdrant's ``Modifier.IDF``), so a vector depends only on its own
text. That is what lets a refresh cache it by content hash and reuse it in every later
collection, exactly like the dense vectors. Terms are hashed to 32-bit indices (crc32), so no
vocabulary has to be stored or kept in step across collections.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

ENCODER = "bm25-v1"
"""Names tokenisation and weighting; part of the index params, so a change rebuilds."""

K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 128.0
"""Fixed average chunk length in terms (a corpus average would make vectors depend on the
corpus and spoil reuse across refreshes); ~what a 256-token chunk holds after stop words."""

# Words joined by '.', '-' or '_' stay one term as well as their parts, so exact names
# ("qdrant-client", "1.20.0", "read_csv", "--no-deps") match as a whole and in part.
_WORD = re.compile(r"[^\W_]+(?:[._\-][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class SparseVector:
    """Sorted unique term indices and their weights."""

    indices: np.ndarray
    values: np.ndarray

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(indices, values) as little-endian uint32 / float32 blobs."""
        return self.indices.astype("<u4").tobytes(), self.values.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, indices: bytes, values: bytes) -> SparseVector:
        """The inverse of :meth:`to_bytes`."""
        return cls(np.frombuffer(indices, dtype="<u4"), np.frombuffer(values, dtype="<f4"))


def tokenize(text: str) -> list[str]:
    """Lower-cased terms without stop words; compound words yield the whole and the parts."""
    terms: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        parts = _PART.findall(word)
        for term in (word, *parts) if len(parts) > 1 else (word,):
            if term not in STOP_WORDS and (len(term) > 1 or term.isdigit()):
                terms.append(term)
    return terms


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = np.fromiter(sorted(weights), dtype=np.uint32, count=len(weights))
    values = np.fromiter((weights[i] for i in indices.tolist()), np.float32, len(weights))
    return SparseVector(indices, values)


def _index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def encode_document(text: str) -> SparseVector:
    """BM25 term-frequency weights of one chunk (the IDF is applied by the engine)."""
    counts = Counter(tokenize(text))
    norm = K1 * (1 - B + B * sum(counts.values()) / AVERAGE_LENGTH)
    weights: dict[int, float] = {}
    for term, count in counts.items():
        index = _index(term)  # two terms on one hash share a slot: add, never overwrite
        weights[index] = weights.get(index, 0.0) + count * (K1 + 1) / (count + norm)
    return _vector(weights)


def encode_query(text: str) -> SparseVector:
    """Each distinct query term once, weight 1: the score is the sum of IDF x document weight."""
    weights: dict[int, float] = {}
    for term in set(tokenize(text)):
        index = _index(term)
        weights[index] = weights.get(index, 0.0) + 1.0
    return _vector(weights)
