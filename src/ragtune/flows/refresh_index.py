"""Prefect flow: snapshot → prepare → validate → index (refresh, evaluate, log).

Every step is a stage function of :mod:`ragtune.stages`, the same the CLI and `dvc repro` run;
validation comes before anything downstream, so bad data never reaches the index. The
deployment runs on ``index.schedule_cron`` with a concurrency limit of one (a refresh that
finds another still running is cancelled: the running one already picks up the changes).
Steps that touch a remote (DVC push, a Qdrant server) retry ``index.retries`` times; a
refresh killed half-way is safe to retry, the next attempt drops the half-built collection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from ragtune.config import Settings, load_settings
from ragtune.flows.steps import prefect_steps
from ragtune.runtime import configure_environment
from ragtune.stages import index_stage, prepare_stage, validate_stage

DEPLOYMENT_NAME = "refresh-index-scheduled"
RETRIED_STEPS = ("snapshot-data", "refresh-index", "evaluate-retrieval", "log-index-build")


def snapshot_data(settings: Settings, push: bool) -> str:
    """Record data/raw as a DVC revision (dvc add, push) and return its id."""
    from ragtune.data.versioning import snapshot

    return snapshot(settings.project_dir, settings.path(settings.data.raw_dir), push=push).id


@flow(name="refresh-index")
def refresh_index_flow(
    project_dir: str = ".", snapshot: bool = True, push: bool = True, show_progress: bool = False
) -> dict[str, Any]:
    """Refresh the retrieval index from data/raw; returns collection, counts, scores, run id.

    ``show_progress``: embedding and writing progress bars on stderr (`ragtune demo` in a
    terminal); scheduled runs leave them off, their log says counts and timings.
    """
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    logger = get_run_logger()
    run_step = prefect_steps({name: settings.index.retries for name in RETRIED_STEPS})
    if snapshot:
        logger.info("data revision %s", run_step("snapshot-data", snapshot_data, settings, push))
    run_step("prepare-data", prepare_stage, settings)
    run_step("validate-data", validate_stage, settings)
    outcome = index_stage(settings, show_progress=show_progress, run_step=run_step)
    logger.info("%s; retrieval %s", outcome.refresh.collection, outcome.evaluation)
    return outcome.as_dict()


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
