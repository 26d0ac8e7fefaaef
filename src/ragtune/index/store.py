"""Qdrant access: an embedded engine under the project, or a server when QDRANT_URL is set.

``index.engine`` picks the embedded engine: ``edge`` (qdrant-edge-py shards, one directory per
index version, see :mod:`ragtune.index.edge`) or ``local`` (qdrant-client's local mode, which
one process at a time may open). The functions here take either client and dispatch, so the
code above this module is the same for all three. A client is opened per command through
:func:`open_store` and closed when the command ends.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ragtune.errors import RetrievalIndexError

if TYPE_CHECKING:
    import numpy as np
    from qdrant_client import QdrantClient

    from ragtune.config import Settings
    from ragtune.index.chunk import Chunk
    from ragtune.index.sparse import SparseVector

logger = logging.getLogger(__name__)

UPSERT_BATCH = 512
DENSE = "dense"
SPARSE = "bm25"
"""Names of a collection's two vectors: the embedding and the BM25 term weights."""


EDGE_DIR = "edge"
"""Subdirectory of a store folder holding the edge engine's versions and aliases."""


def edge_root(folder: Path) -> Path:
    """Where the edge engine keeps a store folder's versions (``<folder>/edge``)."""
    return folder / EDGE_DIR


@contextmanager
def open_store(settings: Settings) -> Iterator[QdrantClient]:
    """A client for this command: server at $QDRANT_URL, else the ``index.engine`` store."""
    url = os.environ.get("QDRANT_URL")
    if url:
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=os.environ.get("QDRANT_API_KEY"))
    elif settings.index.engine == "edge":
        from ragtune.index.edge import EdgeStore

        client = EdgeStore(edge_root(settings.path(settings.index.qdrant_path)))
    else:
        from qdrant_client import QdrantClient

        path = settings.path(settings.index.qdrant_path)
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as exc:
            raise RetrievalIndexError(
                f"{path}: Qdrant local storage is in use by another process ({exc}); wait for "
                "it to finish, or set QDRANT_URL to use a Qdrant server"
            ) from None
    try:
        yield client
    finally:
        client.close()


def open_path(folder: Path) -> Any:
    """A client on a store folder of either embedded engine (e.g. a release's index export)."""
    if edge_root(folder).is_dir():
        from ragtune.index.edge import EdgeStore

        return EdgeStore(edge_root(folder))
    from qdrant_client import QdrantClient

    return QdrantClient(path=str(folder))


def alias_target(settings: Settings, alias: str) -> str | None:
    """The collection ``alias`` names, without loading a local store's collections.

    Local mode keeps aliases in ``meta.json`` (replaced atomically on every change); reading
    it takes a millisecond where opening the client loads every point of every collection.
    """
    if os.environ.get("QDRANT_URL") or settings.index.engine == "edge":
        with open_store(settings) as client:
            return aliases(client).get(alias)
    meta_path = settings.path(settings.index.qdrant_path) / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    target = meta.get("aliases", {}).get(alias)
    return target if target in meta.get("collections", {}) else None


def is_local(client: QdrantClient) -> bool:
    """True for a qdrant-client local-mode client."""
    return type(getattr(client, "_client", None)).__name__ == "QdrantLocal"


def is_edge(client: Any) -> bool:
    """True for the qdrant-edge engine (:class:`ragtune.index.edge.EdgeStore`)."""
    return getattr(client, "engine", None) == "edge"


def aliases(client: QdrantClient) -> dict[str, str]:
    """Alias name → collection name."""
    if is_edge(client):
        return client.aliases()
    return {a.alias_name: a.collection_name for a in client.get_aliases().aliases}


def collection_names(client: QdrantClient, prefix: str) -> list[str]:
    """Collections named ``<prefix>-…``, oldest build number first."""
    every = (
        client.collection_names()
        if is_edge(client)
        else [c.name for c in client.get_collections().collections]
    )
    names = [name for name in every if name.startswith(prefix + "-")]
    return sorted(names, key=build_number)


def build_number(name: str) -> int:
    """The trailing ``-<n>`` of a versioned collection name (0 when absent)."""
    match = re.search(r"-(\d+)$", name)
    return int(match.group(1)) if match else 0


def create_collection(client: QdrantClient, name: str, dimension: int) -> None:
    """Cosine dense + IDF-weighted sparse vectors, with a keyword payload index on doc_id."""
    if is_edge(client):
        client.create_collection(name, dimension, DENSE, SPARSE)
        return
    from qdrant_client import models

    if is_local(client) and name not in client._client.collections:
        # A refresh killed before local mode saved meta.json can leave the folder with points
        # in it; local mode would load them into the new collection.
        shutil.rmtree(client._client._collection_path(name), ignore_errors=True)
    client.create_collection(
        name,
        vectors_config={
            DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)
        },
        sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    with warnings.catch_warnings():
        # Local mode has no payload indexes and says so; a server builds the index.
        warnings.simplefilter("ignore")
        client.create_payload_index(name, "doc_id", models.PayloadSchemaType.KEYWORD)
    if is_local(client):
        skip_local_fsync(client, name)


def skip_local_fsync(client: QdrantClient, name: str) -> None:
    """Local mode commits every point on its own; make those commits cheap for this collection.

    WAL with synchronous=NORMAL keeps the file consistent when the process is killed at any
    point (and through a power cut, losing at most the last commits), and the alias is not
    moved to a collection before it is complete. Copying 10,000 points takes ~2.5 s instead
    of ~10 s with the default rollback journal and an fsync per point.
    """
    try:
        connection = client._client.collections[name].storage.storage
    except (AttributeError, KeyError):  # a different qdrant-client layout: keep its default
        return
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def point_payload(chunk: Chunk, data_revision: str) -> dict[str, Any]:
    """The payload stored with each point."""
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "text": chunk.text,
        "source": chunk.source,
        "position": chunk.position,
        "content_hash": chunk.content_hash,
        "data_revision": data_revision,
    }


def upsert_chunks(
    client: QdrantClient,
    name: str,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    sparse: Sequence[SparseVector],
    data_revision: str,
    show_progress: bool = True,
) -> None:
    """Write chunks with their dense and sparse vectors as points, in batches."""
    if not chunks:
        return
    with tqdm(total=len(chunks), desc=f"upsert {name}", disable=not show_progress) as bar:
        for start in range(0, len(chunks), UPSERT_BATCH):
            batch = chunks[start : start + UPSERT_BATCH]
            end = start + len(batch)
            if is_edge(client):
                client.upsert(
                    name,
                    [chunk.chunk_id for chunk in batch],
                    [
                        {
                            DENSE: dense.tolist(),
                            SPARSE: (terms.indices.tolist(), terms.values.tolist()),
                        }
                        for dense, terms in zip(vectors[start:end], sparse[start:end], strict=True)
                    ],
                    [point_payload(chunk, data_revision) for chunk in batch],
                )
                bar.update(len(batch))
                continue
            from qdrant_client import models

            client.upsert(
                name,
                points=models.Batch(
                    ids=[chunk.chunk_id for chunk in batch],
                    vectors={
                        DENSE: vectors[start:end].tolist(),
                        SPARSE: [sparse_vector(vector) for vector in sparse[start:end]],
                    },
                    payloads=[point_payload(chunk, data_revision) for chunk in batch],
                ),
                wait=True,
            )
            bar.update(len(batch))


def move_alias(client: QdrantClient, alias: str, collection: str) -> None:
    """Point ``alias`` at ``collection`` in one call (atomic on a server and on edge)."""
    if is_edge(client):
        client.set_alias(alias, collection)
        return
    from qdrant_client import models

    operations: list[Any] = []
    if alias in aliases(client):
        operations.append(
            models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        )
    operations.append(
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
        )
    )
    client.update_collection_aliases(change_aliases_operations=operations)


def delete_alias(client: QdrantClient, alias: str) -> None:
    """Remove ``alias`` if it exists."""
    if is_edge(client):
        client.set_alias(alias, None)
        return
    from qdrant_client import models

    if alias in aliases(client):
        operation = models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        client.update_collection_aliases(change_aliases_operations=[operation])


def scroll_points(client: QdrantClient, name: str, with_vectors: bool) -> Iterator[Any]:
    """Every point of a collection, page by page."""
    if is_edge(client):
        yield from client.scroll(name, with_vectors)
        return
    offset = None
    while True:
        points, offset = client.scroll(
            name, limit=1024, offset=offset, with_payload=True, with_vectors=with_vectors
        )
        yield from points
        if offset is None:
            return


def sparse_vector(vector: SparseVector) -> Any:
    """The Qdrant form of a BM25 vector."""
    from qdrant_client import models

    return models.SparseVector(indices=vector.indices.tolist(), values=vector.values.tolist())


def delete_points(client: QdrantClient, name: str, ids: Sequence[str]) -> None:
    """Delete points by id, in batches (one call each; one call in all on edge)."""
    if is_edge(client):
        client.delete(name, list(ids))
        return
    from qdrant_client import models

    for start in range(0, len(ids), UPSERT_BATCH):
        batch = list(ids[start : start + UPSERT_BATCH])
        client.delete(name, points_selector=models.PointIdsList(points=batch), wait=True)


def seal_collection(client: QdrantClient, name: str) -> None:
    """Make a fully written collection immutable on disk before an alias may name it (edge)."""
    if is_edge(client):
        client.seal(name)
