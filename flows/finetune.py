"""Prefect flow: decide → build RAFT data → train (MLflow run) → log and register.

Tasks call the same functions as `ragtune finetune` and the DVC `finetune` stage. The
deployment runs `--if-needed` on a slow schedule (``finetune.schedule_cron``, weekly by
default); an on-demand run with ``if_needed=False`` always trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ragtune.config import Settings, load_settings
from ragtune.runtime import configure_environment
from ragtune.train import run as stage
from ragtune.train.policy import Decision

DEPLOYMENT_NAME = "finetune-scheduled"


@task(name="decide-finetune", cache_policy=NO_CACHE)
def decide_task(
    settings: Settings, tables: dict[str, list[dict[str, Any]]], if_needed: bool
) -> Decision:
    """The trigger policy (or an unconditional 'train' when not if_needed)."""
    if not if_needed:
        return Decision(True, "requested (on-demand run)")
    return stage.decide_training(settings, tables)


@task(name="check-base-model", cache_policy=NO_CACHE)
def preflight_task(settings: Settings) -> tuple[Any, Path]:
    """Resolve (and cache) the base model; reject bad LoRA settings before training."""
    return stage.preflight(settings)


@task(name="build-finetune-data", cache_policy=NO_CACHE)
def build_data_task(
    settings: Settings, base_dir: Path, tables: dict[str, list[dict[str, Any]]]
) -> stage.BuiltData:
    """RAFT examples → data/finetune/{train,eval}.jsonl."""
    return stage.build_data(settings, base_dir, tables)


@task(name="train-adapter", cache_policy=NO_CACHE)
def train_task(
    settings: Settings, source: Any, base_dir: Path, built: stage.BuiltData
) -> stage.TrainedRun:
    """LoRA training inside an MLflow run (loss, eval loss, learning rate per step)."""
    return stage.train(settings, source, base_dir, built)


@task(name="register-generator", cache_policy=NO_CACHE)
def register_task(
    settings: Settings, source: Any, built: stage.BuiltData, trained: stage.TrainedRun
) -> str:
    """Log the pyfunc and register a new version of the generator (last step)."""
    return stage.register(settings, source, built, trained)


@flow(name="finetune")
def finetune_flow(project_dir: str = ".", if_needed: bool = True) -> dict[str, Any]:
    """Occasional fine-tune of the generator; returns the summary written for DVC."""
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    logger = get_run_logger()
    tables = stage.load_tables(settings)
    decision = decide_task(settings, tables, if_needed)
    logger.info(decision.render())
    if not decision.train:
        outcome = stage.FinetuneOutcome(decision)
    else:
        source, base_dir = preflight_task(settings)
        built = build_data_task(settings, base_dir, tables)
        trained = train_task(settings, source, base_dir, built)
        version = register_task(settings, source, built, trained)
        outcome = stage.FinetuneOutcome(decision, trained.run_id, version, trained.metrics)
    stage.write_summary(settings, outcome)
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
