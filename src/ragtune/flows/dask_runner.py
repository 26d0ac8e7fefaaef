"""The refresh flow on a Dask cluster (prefect-dask's DaskTaskRunner): configuration only.

``refresh_on_dask(workers=2)`` starts a LocalCluster of one-thread worker processes for the
run; ``refresh_on_dask(address="tcp://scheduler:8786")`` uses an existing cluster. The flow's
tasks run on the workers, and the refresh task embeds new chunks in parts across all of them.
"""

from __future__ import annotations

from typing import Any

DEFAULT_WORKERS = 2


def dask_task_runner(address: str | None = None, workers: int = DEFAULT_WORKERS) -> Any:
    """A DaskTaskRunner on ``address``, or on a LocalCluster of ``workers`` one-thread workers."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "dashboard_address": None}
    )


def refresh_on_dask(address: str | None = None, workers: int = DEFAULT_WORKERS) -> Any:
    """The refresh-index flow with its tasks (and embedding) on a Dask cluster."""
    from ragtune.flows.refresh_index import refresh_index_flow

    return refresh_index_flow.with_options(task_runner=dask_task_runner(address, workers))
