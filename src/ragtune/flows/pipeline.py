"""Prefect flow: the whole pipeline, data to live release, composed from the stage flows.

snapshot → prepare → validate → refresh index (`refresh-index`) → fine-tune if needed
(`finetune`) → evaluate → gate → promote (`release`). Each stage flow runs the stage functions
the CLI and `dvc repro` run, so the Prefect UI shows every stage as a sub-flow with its tasks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from ragtune.config import Settings
from ragtune.flows.finetune import finetune_flow
from ragtune.flows.refresh_index import refresh_index_flow
from ragtune.flows.release import release_flow
from ragtune.runtime import configure_environment

DEPLOYMENT_NAME = "pipeline-on-demand"


@flow(name="pipeline")
def pipeline_flow(
    project_dir: str = ".",
    snapshot: bool = True,
    push: bool = True,
    if_needed: bool = True,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Run every stage in order; returns each stage's result and its wall seconds.

    ``show_progress``: the index build's progress bars on stderr (the demo turns them on).
    """
    configure_environment(Path(project_dir))
    logger = get_run_logger()
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    stages = (
        ("refresh-index", lambda: refresh_index_flow(project_dir, snapshot, push, show_progress)),
        ("finetune", lambda: finetune_flow(project_dir, if_needed)),
        ("release", lambda: release_flow(project_dir)),
    )
    for name, run in stages:
        started = time.perf_counter()
        results[name] = run()
        seconds[name] = round(time.perf_counter() - started, 1)
        logger.info("%s done in %.1fs", name, seconds[name])
    return {"stages": results, "seconds": seconds}


def build_deployment(settings: Settings) -> Any:
    """On demand: the whole pipeline; one run at a time."""
    return pipeline_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        parameters={"project_dir": str(settings.project_dir), "if_needed": True},
        concurrency_limit=1,
        description="Data to live release: refresh, fine-tune if needed, evaluate, promote.",
        tags=["ragtune", "pipeline"],
    )
