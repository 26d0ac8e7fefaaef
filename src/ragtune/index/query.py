"""Querying the index: the people-facing `ragtune index query` and the retrieval evaluation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ragtune.data.load import load_dataset
from ragtune.data.schema import QA
from ragtune.errors import RetrievalIndexError
from ragtune.index import search, sparse, store
from ragtune.index.embed import count_tokens, embed_texts, load_embedder, max_query_tokens
from ragtune.index.metrics import dedupe, retrieval_scores
from ragtune.index.onnx_embed import load_query_embedder
from ragtune.runtime import quiet_model_loading

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    from ragtune.config import IndexConfig, Settings

logger = logging.getLogger(__name__)

# Chunks fetched per question: enough distinct docs for nDCG@10 after deduplication.
EVAL_DEPTH = 30


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk."""

    score: float
    doc_id: str
    title: str
    position: int
    chunk_id: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hits(points: Sequence[Any]) -> list[Hit]:
    return [
        Hit(
            score=float(point.score),
            doc_id=str(point.payload.get("doc_id", "")),
            title=str(point.payload.get("title", "")),
            position=int(point.payload.get("position", 0)),
            chunk_id=str(point.id),
            text=str(point.payload.get("text", "")),
        )
        for point in points
    ]


def resolve(client: QdrantClient, name: str) -> str:
    """The collection behind an alias (or the collection itself); error when neither exists."""
    target = store.aliases(client).get(name, name)
    if not client.collection_exists(target):
        raise RetrievalIndexError(
            f"Qdrant has no collection or alias '{name}'; run `ragtune index refresh` first"
        )
    return target


def query_collection(
    client: QdrantClient,
    collection: str,
    embedder: SentenceTransformer | None,
    questions: Sequence[str],
    k: int,
    batch_size: int = 64,
    retrieval: str = "dense",
) -> list[list[Hit]]:
    """Top ``k`` chunks for each question from an open client (``embedder``: None for sparse)."""
    dense = None
    if retrieval != "sparse":
        if embedder is None:
            raise ValueError(f"retrieval {retrieval!r} needs the embedding model")
        dense = embed_texts(embedder, questions, batch_size, show_progress=False)
    terms = [sparse.encode_query(q) for q in questions] if retrieval != "dense" else None
    found = search.search(client, collection, retrieval, dense, terms, k)
    return [_hits(points) for points in found]


def refuse_long_query(config: IndexConfig, text: str) -> None:
    """The embedding model reads ``max_seq_length`` tokens and drops the rest without a word;
    refuse a longer query. Checked without loading the model."""
    limit = max_query_tokens(config)
    tokens = count_tokens(config, text)
    if tokens > limit:
        raise RetrievalIndexError(
            f"the query is {tokens} tokens ({len(text):,} characters) but the embedding model "
            f"{config.embedding_model} reads at most {limit}; the rest would be silently "
            "ignored, so shorten it to the question itself"
        )


def query_index(
    settings: Settings,
    text: str,
    k: int | None = None,
    collection: str | None = None,
    show_progress: bool = False,
) -> list[Hit]:
    """Top ``k`` chunks for ``text`` from the staging alias (or a named collection).

    The cheap checks come first (the text, its length in tokens, the collection), so a bad
    query or a missing collection is answered without loading the embedding model.
    ``show_progress``: the model's loading bars (off: a query prints its hits only).
    """
    if not text.strip():
        raise RetrievalIndexError("the query text is empty; pass a question, e.g. 'How do I …?'")
    config = settings.index
    dense = config.retrieval != "sparse"  # BM25 reads every term; only the embedder truncates
    if dense:
        refuse_long_query(config, text)
    with store.open_store(settings) as client:
        target = resolve(client, collection or config.staging_alias)
        embedder = None
        if dense:
            # A fresh process: the checked ONNX export embeds one question without importing
            # torch or transformers (quiet_model_loading imports transformers: ~0.5 s).
            embedder = load_query_embedder(settings)
            if embedder is None:
                with nullcontext() if show_progress else quiet_model_loading():
                    embedder = load_embedder(config)
        return query_collection(
            client, target, embedder, [text], k or config.k, retrieval=config.retrieval
        )[0]


def eval_questions(settings: Settings) -> list[dict[str, Any]]:
    """The prepared QA rows of split ``index.eval_split`` (retrieval is scored on these)."""
    rows = load_dataset(QA, settings.path(settings.prepare.prepared_dir))
    return [row for row in rows if row["split"] == settings.index.eval_split]


def no_questions_reason(settings: Settings) -> str:
    """One line saying why retrieval cannot be scored: the QA split has no rows."""
    path = settings.path(settings.prepare.prepared_dir) / QA.filename
    return (
        f"{path}: no '{settings.index.eval_split}' questions to evaluate retrieval with; import "
        "some with `ragtune data import-qa` or set index.eval_split to a split that has rows"
    )


def evaluate_retrieval(
    settings: Settings,
    collection: str | None = None,
    embedder: SentenceTransformer | None = None,
) -> dict[str, float]:
    """recall@k, MRR and nDCG@10 of the index on the QA split ``index.eval_split``."""
    config = settings.index
    questions = eval_questions(settings)
    if not questions:
        raise RetrievalIndexError(no_questions_reason(settings))
    model = embedder or (load_embedder(config) if config.retrieval != "sparse" else None)
    with store.open_store(settings) as client:
        target = resolve(client, collection or config.staging_alias)
        hits = query_collection(
            client,
            target,
            model,
            [row["question"] for row in questions],
            EVAL_DEPTH,
            config.batch_size,
            config.retrieval,
        )
    rankings = [dedupe([hit.doc_id for hit in found]) for found in hits]
    scores = retrieval_scores(rankings, [row["doc_ids"] for row in questions], config.k)
    logger.info(
        "%s retrieval on %d %s questions of %s: %s",
        config.retrieval,
        len(questions),
        config.eval_split,
        target,
        scores,
    )
    return scores
