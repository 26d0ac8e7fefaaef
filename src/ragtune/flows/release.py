"""Prefect flow: release = evaluate → gate → promote (both aliases and the manifest, or neither).

It runs :func:`ragtune.evaluate.stage.evaluate_stage` then :func:`ragtune.stages.promote_stage`,
the functions `ragtune evaluate` and `ragtune release promote` (and their DVC stages) run, with
each sub-step as a Prefect task. A candidate the gate rejects leaves the live release as it was;
the flow completes and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from ragtune.config import Settings, load_settings
from ragtune.evaluate.stage import evaluate_stage
from ragtune.flows.steps import prefect_steps
from ragtune.runtime import configure_environment
from ragtune.stages import promote_stage

DEPLOYMENT_NAME = "release-on-demand"


@flow(name="release")
def release_flow(project_dir: str = ".", evaluate: bool = True) -> dict[str, Any]:
    """Evaluate the latest adapter with the staging index, then try to promote the pair."""
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    logger = get_run_logger()
    run_step = prefect_steps()
    if evaluate:
        outcome = evaluate_stage(settings, run_step=run_step)
        logger.info("evaluated %s with %s: %s", outcome.adapter, outcome.collection, outcome.scores)
    result = promote_stage(settings, run_step=run_step)
    logger.info(result.gate.render())
    manifest = result.manifest
    if result.promoted:
        logger.info("release %s is live", manifest.release_id)
    else:
        logger.warning("not promoted; the live release is unchanged")
    return {"promoted": result.promoted, **manifest.as_dict()}


def build_deployment(settings: Settings) -> Any:
    """On demand (after a refresh or fine-tune worth releasing); one release at a time."""
    return release_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        parameters={"project_dir": str(settings.project_dir), "evaluate": True},
        concurrency_limit=1,
        description="Evaluate the four arms, then promote adapter + index together if the gate passes.",
        tags=["ragtune", "release"],
    )
