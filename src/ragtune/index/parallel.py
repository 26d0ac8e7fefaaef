"""Embedding scale-out on a Dask cluster: new chunks are embedded in batches across workers.

:class:`DaskEmbedder` stands in for the SentenceTransformer that :func:`refresh_index` takes as
``embedder``: its ``encode`` sorts the texts by length (so batches pad little), splits them into
parts of ``texts_per_task`` and maps :func:`embed_part` over the cluster's workers, each of
which loads the packaged model once. The refresh itself (diff, manifest, Qdrant) is unchanged.
Point it at any cluster: a ``LocalCluster`` here, ``DaskTaskRunner(address=...)`` or a
``distributed.Client("tcp://scheduler:8786")`` elsewhere.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.index.embed import embedding_model_path

if TYPE_CHECKING:
    from distributed import Client

    from ragtune.config import IndexConfig, Settings
    from ragtune.index.refresh import RefreshResult

DEFAULT_TEXTS_PER_TASK = 256


@functools.lru_cache(maxsize=2)
def _worker_model(model_dir: str, threads: int) -> Any:
    """The model of this worker process, loaded on first use (one per path and thread count)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return SentenceTransformer(model_dir, device="cpu", local_files_only=True)


def embed_part(model_dir: str, texts: list[str], batch_size: int, threads: int) -> np.ndarray:
    """Runs on a worker: unit-length float32 vectors of ``texts``."""
    model = _worker_model(model_dir, threads)
    vectors = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
    )
    return np.asarray(vectors, dtype=np.float32)


def embedding_dimension(model_dir: str, threads: int) -> int:
    """Runs on a worker (and warms its model): the model's output dimension."""
    return int(_worker_model(model_dir, threads).get_embedding_dimension() or 0)


@dataclass(frozen=True)
class _Device:
    type: str = "dask"


@dataclass
class DaskEmbedder:
    """The part of SentenceTransformer's interface the refresh uses, computed on Dask workers."""

    client: Client
    config: IndexConfig
    texts_per_task: int = DEFAULT_TEXTS_PER_TASK
    threads_per_task: int = 1
    device: _Device = field(default_factory=_Device)
    workers_used: set[str] = field(default_factory=set)
    """Addresses of the workers that embedded the last ``encode`` call's parts."""

    @property
    def model_dir(self) -> str:
        return str(embedding_model_path(self.config.embedding_model))

    def get_embedding_dimension(self) -> int:
        future = self.client.submit(
            embedding_dimension, self.model_dir, self.threads_per_task, pure=False
        )
        return int(future.result())

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False, **_: Any
    ) -> np.ndarray:
        """Vectors in the order of ``texts``; parts of similar length run on the workers."""
        if not texts:
            return np.zeros((0, self.get_embedding_dimension()), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        parts = [
            order[start : start + self.texts_per_task]
            for start in range(0, len(order), self.texts_per_task)
        ]
        futures = [
            self.client.submit(
                embed_part,
                self.model_dir,
                [texts[i] for i in part],
                batch_size,
                self.threads_per_task,
                pure=False,
            )
            for part in parts
        ]
        if show_progress_bar:
            from distributed import as_completed
            from tqdm.auto import tqdm

            for _ in tqdm(as_completed(futures), total=len(futures), desc="Parts on Dask"):
                pass
        results = self.client.gather(futures)
        self.workers_used = {
            address for holders in self.client.who_has(futures).values() for address in holders
        }
        vectors = np.empty((len(texts), results[0].shape[1]), dtype=np.float32)
        for part, result in zip(parts, results, strict=True):
            vectors[part] = result
        return vectors


@contextmanager
def worker_embedder(config: IndexConfig) -> Iterator[DaskEmbedder | None]:
    """On a Dask worker (a task of a DaskTaskRunner flow), a DaskEmbedder for its cluster.

    ``worker_client`` secedes from the worker's thread pool while the parts run, so a
    one-thread worker can embed parts of the task that waits for them. Elsewhere: None (and
    ``distributed`` is not even imported: a worker process has it loaded already).
    """
    if "distributed" not in sys.modules:
        yield None
        return
    from distributed import get_worker, worker_client

    try:
        get_worker()
    except ValueError:
        yield None
        return
    with worker_client() as client:
        yield DaskEmbedder(client, config)


def refresh_index_on_cluster(
    settings: Settings, show_progress: bool = False, revision: str | None = None
) -> RefreshResult:
    """:func:`refresh_index`, embedding across the Dask cluster when it runs on a worker."""
    from ragtune.index.refresh import refresh_index

    with worker_embedder(settings.index) as embedder:
        return refresh_index(
            settings, show_progress=show_progress, embedder=embedder, revision=revision
        )
