"""`benchmarks/refresh.py --runner dask`: full-build embedding throughput on 1, 2, … Dask workers.

Each worker count gets its own LocalCluster of one-thread worker processes (models loaded
before timing) and a fresh index, and builds the same corpus through ``refresh_index`` with a
:class:`~ragtune.index.parallel.DaskEmbedder`; a one-thread in-process build runs first as the
baseline. Prints chunks/s of the embed phase and of the whole build, side by side.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def _fresh_index(settings: Any, label: str) -> Any:
    """A copy of ``settings`` whose Qdrant store and vector cache start empty."""
    copy = settings.model_copy(deep=True)
    copy.index.qdrant_path = Path(f"data/qdrant-{label}")
    copy.index.manifest_path = Path(f"data/index-{label}/manifest.sqlite")
    return copy


def _report(label: str, result: Any, seconds: float) -> tuple[float, float]:
    embedded = result.counts["chunks_embedded"]
    embed_rate = embedded / result.seconds["embed"]
    build_rate = embedded / seconds
    print(
        f"{label:<22}{embedded:>8}{result.seconds['embed']:>10.1f}{embed_rate:>12.1f}"
        f"{seconds:>10.1f}{build_rate:>12.1f}",
        flush=True,
    )
    return embed_rate, build_rate


def run(settings: Any, worker_counts: list[int], texts_per_task: int) -> None:
    """Build the prepared corpus once per setup and print the throughput table."""
    import torch
    from distributed import Client, LocalCluster

    from ragtune.index.embed import load_embedder
    from ragtune.index.parallel import DaskEmbedder, _worker_model
    from ragtune.index.refresh import refresh_index

    print(
        f"\n{'setup':<22}{'chunks':>8}{'embed s':>10}{'chunks/s':>12}{'build s':>10}{'build/s':>12}"
    )
    torch.set_num_threads(1)
    model = load_embedder(settings.index)
    started = time.perf_counter()
    local = refresh_index(_fresh_index(settings, "local"), False, model)
    base_rate, _ = _report("in-process, 1 thread", local, time.perf_counter() - started)
    for workers in worker_counts:
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            embedder = DaskEmbedder(client, settings.index, texts_per_task=texts_per_task)
            client.run(_worker_model, embedder.model_dir, 1)  # load the model on every worker
            started = time.perf_counter()
            result = refresh_index(_fresh_index(settings, f"dask{workers}"), False, embedder)
            rate, _ = _report(f"dask, {workers} worker(s)", result, time.perf_counter() - started)
            print(f"{'':<22}embed speed-up vs in-process 1 thread: {rate / base_rate:.2f}x")
