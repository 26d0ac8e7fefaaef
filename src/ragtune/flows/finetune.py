"""Prefect flow: the finetune stage (gate → decide → base model → data → train → register).

It runs :func:`ragtune.stages.finetune_stage`, the function `ragtune finetune` and the DVC
`finetune` stage run, with each sub-step as a Prefect task. The stage refuses prepared data
that did not pass validation. The deployment runs `--if-needed` on a slow schedule
(``finetune.schedule_cron``, weekly by default); an on-demand run with ``if_needed=False``
always trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from ragtune.config import Settings, load_settings
from ragtune.flows.steps import prefect_steps
from ragtune.runtime import configure_environment
from ragtune.stages import finetune_stage

DEPLOYMENT_NAME = "finetune-scheduled"


@flow(name="finetune")
def finetune_flow(project_dir: str = ".", if_needed: bool = True) -> dict[str, Any]:
    """Occasional fine-tune of the generator; returns the summary written for DVC."""
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    outcome = finetune_stage(settings, if_needed=if_needed, run_step=prefect_steps())
    get_run_logger().info(outcome.decision.render())
    return outcome.as_dict()


def build_deployment(settings: Settings) -> Any:
    """Weekly (finetune.schedule_cron) `--if-needed` deployment; one run at a time."""
    return finetune_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        cron=settings.finetune.schedule_cron,
        parameters={"project_dir": str(settings.project_dir), "if_needed": True},
        concurrency_limit=1,
        description="Fine-tune the generator when the trigger policy says so.",
        tags=["ragtune", "finetune"],
    )
