"""Prepare-phase checks: the adapter loads, the collection holds what the index manifest says."""

from __future__ import annotations

from typing import Any

from ragtune.config import Settings
from ragtune.errors import ReleaseError
from ragtune.index import manifest, store


def check_adapter(settings: Settings, version: str) -> Any:
    """Load registered version ``version`` of the generator as MLflow would serve it."""
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    model = settings.release.registered_model
    try:
        return mlflow.pyfunc.load_model(f"models:/{model}/{version}")
    except MlflowException as exc:
        raise ReleaseError(
            f"adapter {model} version {version} does not load ({exc.message.splitlines()[0]}); "
            "check `ragtune finetune` registered it"
        ) from None


def _dense_size(vectors: Any) -> int:
    """Dimension of the collection's dense vectors (unnamed, or the first named one)."""
    if isinstance(vectors, dict):
        vectors = vectors.get("dense") or next(iter(vectors.values()))
    return int(vectors.size)


def expected_dimension(settings: Settings) -> int:
    """Output dimension of the configured embedding model."""
    from ragtune.index.embed import load_embedder

    return int(load_embedder(settings.index).get_embedding_dimension())


def check_collection(settings: Settings, collection: str) -> tuple[int, int]:
    """The collection exists, is complete, and has the recorded points and the model's dimension.

    Returns (points, dimension).
    """
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        info = manifest.collection_info(db, collection)
        recorded = info["chunks"] if info else 0
    if info is None or info["status"] != "complete":
        state = "unknown to" if info is None else f"'{info['status']}' in"
        raise ReleaseError(
            f"collection {collection} is {state} the index manifest; only a completed "
            "`ragtune index refresh` can be released"
        )
    with store.open_store(settings) as client:
        if not client.collection_exists(collection):
            raise ReleaseError(
                f"Qdrant has no collection {collection}; run `ragtune index refresh`"
            )
        points = client.count(collection, exact=True).count
        dimension = _dense_size(client.get_collection(collection).config.params.vectors)
    if points != recorded:
        raise ReleaseError(
            f"collection {collection} holds {points} points but the index manifest recorded "
            f"{recorded}; run `ragtune index refresh` to build a complete one"
        )
    expected = expected_dimension(settings)
    if dimension != expected:
        raise ReleaseError(
            f"collection {collection} has {dimension}-d vectors but {settings.index.embedding_model} "
            f"embeds {expected}-d; refresh the index with the configured model"
        )
    return points, dimension
