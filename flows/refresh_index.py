"""Prefect flow: snapshot → prepare → validate → refresh → evaluate → log.

Each task calls the function `ragtune index refresh` and the DVC `index` stage call. The
deployment runs on ``index.schedule_cron`` with a concurrency limit of one (a refresh that
finds another still running is cancelled: the running one already picks up the changes).
Tasks that touch a remote (DVC push, a Qdrant server) retry ``index.retries`` times; a
refresh killed half-way is safe to retry, the next attempt drops the half-built collection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ragtune.config import Settings, load_settings
from ragtune.errors import ValidationFailed
from ragtune.index.refresh import RefreshResult
from ragtune.runtime import configure_environment

DEPLOYMENT_NAME = "refresh-index-scheduled"
RETRY_DELAY_SECONDS = 10


@task(name="snapshot-data", cache_policy=NO_CACHE)
def snapshot_task(settings: Settings, push: bool) -> str:
    """Record data/raw as a DVC revision (dvc add, push) and return its id."""
    from ragtune.data.versioning import snapshot

    return snapshot(settings.project_dir, settings.path(settings.data.raw_dir), push=push).id


@task(name="prepare-data", cache_policy=NO_CACHE)
def prepare_task(settings: Settings) -> dict[str, int]:
    """Raw files → normalised JSONL in data/prepared."""
    from ragtune.data.prepare import prepare

    raw_dir = settings.path(settings.data.raw_dir)
    return prepare(raw_dir, settings.path(settings.prepare.prepared_dir), settings.prepare)


@task(name="validate-data", cache_policy=NO_CACHE)
def validate_task(settings: Settings) -> None:
    """Great Expectations suites; bad data stops the flow before the index changes."""
    from ragtune.data.validate import validate_prepared

    config = settings.validate_
    report = validate_prepared(
        settings.path(settings.prepare.prepared_dir),
        config,
        reports_dir=settings.path(config.reports_dir),
        quarantine_dir=settings.path(config.quarantine_dir),
    )
    if not report.success:
        raise ValidationFailed(report.render())


@task(name="refresh-index", cache_policy=NO_CACHE)
def refresh_task(settings: Settings) -> RefreshResult:
    """Incremental refresh into a new collection; moves the staging alias when complete.

    Under a DaskTaskRunner (:func:`flows.dask_runner.refresh_on_dask`) new chunks are embedded
    in parts across the cluster's workers; otherwise in this process.
    """
    from ragtune.index.parallel import worker_embedder
    from ragtune.index.refresh import refresh_index

    with worker_embedder(settings.index) as embedder:
        return refresh_index(settings, show_progress=False, embedder=embedder)


@task(name="evaluate-retrieval", cache_policy=NO_CACHE)
def evaluate_task(settings: Settings, result: RefreshResult) -> dict[str, float]:
    """recall@k, MRR, nDCG@10 of the new collection on the QA split index.eval_split."""
    from ragtune.index.query import evaluate_retrieval

    return evaluate_retrieval(settings, result.collection)


@task(name="log-index-build", cache_policy=NO_CACHE)
def log_task(settings: Settings, result: RefreshResult, scores: dict[str, float]) -> str:
    """One MLflow run in `ragtune-index` with params, scores, counts, timings and manifest."""
    from ragtune.index.report import log_index_run

    return log_index_run(settings, result, scores)


@flow(name="refresh-index")
def refresh_index_flow(
    project_dir: str = ".", snapshot: bool = True, push: bool = True
) -> dict[str, Any]:
    """Refresh the retrieval index from data/raw; returns collection, counts, scores, run id."""
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    logger = get_run_logger()
    retry = {"retries": settings.index.retries, "retry_delay_seconds": RETRY_DELAY_SECONDS}
    if snapshot:
        revision = snapshot_task.with_options(**retry)(settings, push)
        logger.info("data revision %s", revision)
    prepare_task(settings)
    validate_task(settings)
    result = refresh_task.with_options(**retry)(settings)
    scores = evaluate_task.with_options(**retry)(settings, result)
    run_id = log_task.with_options(**retry)(settings, result, scores)
    logger.info(
        "%s %s: %s; %s",
        "built" if result.built else "kept",
        result.collection,
        result.counts,
        scores,
    )
    return {
        "collection": result.collection,
        "built": result.built,
        "data_revision": result.data_revision,
        "counts": result.counts,
        "scores": scores,
        "mlflow_run_id": run_id,
    }


def build_deployment(settings: Settings) -> Any:
    """Scheduled refresh (index.schedule_cron); a run colliding with a running one is cancelled."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return refresh_index_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        cron=settings.index.schedule_cron,
        parameters={"project_dir": str(settings.project_dir), "snapshot": True, "push": True},
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="Incremental refresh of the retrieval index into a new Qdrant collection.",
        tags=["ragtune", "index"],
    )
