"""Embedding scale-out on a real Dask LocalCluster: parts across workers, same vectors."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import Client, LocalCluster

from ragtune.config import IndexConfig, load_settings
from ragtune.data.load import load_dataset
from ragtune.data.schema import DOCS
from ragtune.flows.dask_runner import refresh_on_dask
from ragtune.index import store
from ragtune.index.embed import embed_texts, load_embedder
from ragtune.index.parallel import DaskEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


def test_parts_run_on_every_worker_and_match_local_vectors(client, demo_project) -> None:
    texts = [doc["text"][:400] for doc in load_dataset(DOCS, demo_project / "data" / "prepared")]
    texts = texts[:24]
    embedder = DaskEmbedder(client, IndexConfig(), texts_per_task=4)
    vectors = embed_texts(embedder, texts, batch_size=4, show_progress=False)
    assert embedder.workers_used == set(client.scheduler_info()["workers"])
    assert len(embedder.workers_used) == 2
    local = embed_texts(load_embedder(IndexConfig()), texts, batch_size=4, show_progress=False)
    assert vectors.shape == local.shape == (24, embedder.get_embedding_dimension())
    np.testing.assert_allclose(vectors, local, atol=1e-4)


@pytest.mark.usefixtures("harness")
def test_refresh_flow_on_a_dask_task_runner(demo_project) -> None:
    result = refresh_on_dask(workers=2)(project_dir=str(demo_project), snapshot=False)
    assert result["built"]
    assert result["counts"]["chunks_embedded"] == result["counts"]["chunks_total"] > 0
    assert result["scores"]["recall_at_5"] > 0.5
    settings = load_settings(demo_project)
    with store.open_store(settings) as client:  # the configured engine (edge by default)
        stored = client.count(result["collection"], exact=True).count
    assert stored == result["counts"]["chunks_total"]
