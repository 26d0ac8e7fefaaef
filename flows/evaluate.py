"""Prefect flow: the four-arm evaluation, the same stage function as `ragtune evaluate`.

Run after an index refresh or a fine-tune; it logs one MLflow run in ``ragtune-evaluate``
whose fine-tuned-arm scores the finetune trigger policy reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ragtune.config import Settings, load_settings
from ragtune.evaluate.stage import EvaluationOutcome, evaluate_stage
from ragtune.runtime import configure_environment


@task(name="evaluate-four-arms", cache_policy=NO_CACHE)
def evaluate_task(
    settings: Settings, collection: str | None, version: str | None, max_questions: int | None
) -> EvaluationOutcome:
    """base, base+RAG, FT, FT+RAG on evaluate.split; one MLflow run, report files."""
    return evaluate_stage(settings, collection, version, max_questions)


@flow(name="evaluate")
def evaluate_flow(
    project_dir: str = ".",
    collection: str | None = None,
    version: str | None = None,
    max_questions: int | None = None,
) -> dict[str, Any]:
    """Evaluate the latest adapter with the staging index (or the given ones)."""
    configure_environment(Path(project_dir))
    settings = load_settings(Path(project_dir))
    outcome = evaluate_task(settings, collection, version, max_questions)
    get_run_logger().info(
        "%s with %s: %s (mlflow run %s)",
        outcome.adapter,
        outcome.collection,
        outcome.scores,
        outcome.run_id,
    )
    return {"run_id": outcome.run_id, "adapter": outcome.adapter, **outcome.scores}
