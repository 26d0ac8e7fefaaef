"""Search a collection: dense, BM25 sparse, or both fused by reciprocal rank fusion (RRF).

Fusion runs inside Qdrant (the Query API's prefetch + RRF), so a server, local mode and the
edge engine rank the same way; the sparse leg's IDF comes from the collection itself (``Modifier.IDF``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ragtune.errors import RetrievalIndexError
from ragtune.index.store import DENSE, SPARSE, is_edge, sparse_vector

if TYPE_CHECKING:
    import numpy as np
    from qdrant_client import QdrantClient

    from ragtune.index.sparse import SparseVector

logger = logging.getLogger(__name__)

RRF_K = 60
"""Reciprocal rank fusion constant (Cormack et al. 2009): score = sum 1 / (60 + rank)."""
PREFETCH_MIN = 50
"""Candidates each retriever hands to the fusion, at least."""
TIE_MARGIN = 10
"""Points fetched beyond ``limit`` so that ties at the cut are broken by id, not by chance."""


def has_sparse(client: QdrantClient, collection: str) -> bool:
    """True when the collection holds named dense + sparse vectors (built since hybrid)."""
    if is_edge(client):
        return SPARSE in client.vector_config(collection)[1]
    params = client.get_collection(collection).config.params
    return isinstance(params.vectors, dict) and SPARSE in (params.sparse_vectors or {})


def _request(
    retrieval: str, dense: np.ndarray | None, sparse: SparseVector | None, limit: int
) -> Any:
    """One query: a single leg searched directly, or dense + sparse fused by RRF."""
    from qdrant_client import models

    legs: list[tuple[Any, str | None]] = []
    if dense is not None and retrieval in ("dense", "hybrid"):
        legs.append((dense.tolist(), DENSE))
    if sparse is not None and retrieval in ("sparse", "hybrid"):
        legs.append((sparse_vector(sparse), SPARSE))
    if len(legs) == 1:
        query, using = legs[0]
        return models.QueryRequest(query=query, using=using, limit=limit, with_payload=True)
    depth = max(limit, PREFETCH_MIN)
    return models.QueryRequest(
        prefetch=[models.Prefetch(query=q, using=using, limit=depth) for q, using in legs],
        query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
        limit=limit,
        with_payload=True,
    )


def _edge_request(
    retrieval: str, dense: np.ndarray | None, sparse: SparseVector | None, limit: int
) -> Any:
    """The qdrant-edge form of :func:`_request`: one leg, or both fused by RRF."""
    import qdrant_edge as edge

    legs: list[Any] = []
    if dense is not None and retrieval in ("dense", "hybrid"):
        legs.append(edge.Query.Nearest(dense.tolist(), using=DENSE))
    if sparse is not None and retrieval in ("sparse", "hybrid"):
        terms = edge.SparseVector(sparse.indices.tolist(), sparse.values.tolist())
        legs.append(edge.Query.Nearest(terms, using=SPARSE))
    if len(legs) == 1:
        return edge.QueryRequest(limit=limit, query=legs[0], with_payload=True)
    depth = max(limit, PREFETCH_MIN)
    return edge.QueryRequest(
        limit=limit,
        prefetches=[edge.Prefetch(limit=depth, query=leg) for leg in legs],
        query=edge.Fusion.Rrf(k=RRF_K),
        with_payload=True,
    )


def search(
    client: QdrantClient,
    collection: str,
    retrieval: str,
    dense: np.ndarray | None,
    sparse: Sequence[SparseVector] | None,
    limit: int,
) -> list[list[Any]]:
    """Top ``limit`` points (with payload) per query: dense, sparse, or both fused by RRF.

    Pass the query vectors ``retrieval`` needs (``dense`` rows or ``sparse`` items, one per
    query). Collections built before sparse vectors existed hold one unnamed dense vector: a
    release may pin one, so they are searched dense-only, with a warning when more was asked.
    """
    queries = len(dense) if dense is not None else len(sparse or [])
    fetch = limit + TIE_MARGIN  # ties at the cut are broken by id (``_top``), not by chance

    def each(build: Any) -> list[Any]:
        """One request per query, from its dense row and its sparse item (where given)."""
        return [
            build(
                retrieval,
                dense[i] if dense is not None else None,
                sparse[i] if sparse is not None else None,
                fetch,
            )
            for i in range(queries)
        ]

    if is_edge(client):  # every edge version holds both vectors; qdrant_client is not imported
        return _top(client.query_batch(collection, each(_edge_request)), limit)
    from qdrant_client import models

    if has_sparse(client, collection):
        requests = each(_request)
    elif dense is not None:
        if retrieval != "dense":
            logger.warning("%s has no sparse vectors; searching it dense-only", collection)
        requests = [
            models.QueryRequest(query=v.tolist(), limit=fetch, with_payload=True) for v in dense
        ]
    else:
        raise RetrievalIndexError(
            f"{collection} holds no sparse vectors for index.retrieval = {retrieval!r}; "
            "run `ragtune index refresh` to rebuild it, or set index.retrieval: dense"
        )
    responses = client.query_batch_points(collection, requests=requests)
    return _top([response.points for response in responses], limit)


def _top(found: list[list[Any]], limit: int) -> list[list[Any]]:
    """The first ``limit`` points of each list, by descending score, equal scores by point id.

    RRF scores tie exactly (ranks 1 and 2 score the same as ranks 2 and 1), and the engine
    orders tied points differently from one process to the next (hash-map order), which made
    the same index score a different MRR on each run.
    """
    return [sorted(points, key=lambda p: (-p.score, str(p.id)))[:limit] for points in found]
