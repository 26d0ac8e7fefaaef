"""Prefect flow: the evaluate stage (gate → adapter and index → four arms → MLflow run, reports).

It runs :func:`ragtune.evaluate.stage.evaluate_stage`, the function `ragtune evaluate` and
the DVC `evaluate` stage run, with the gate, the model load and each arm as Prefect tasks.
Run it after an index refresh or a fine-tune; the finetune trigger policy reads the scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from ragtune.config import load_settings
from ragtune.evaluate.stage import evaluate_stage
from ragtune.flows.steps import prefect_steps
from ragtune.runtime import configure_environment


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
    outcome = evaluate_stage(settings, collection, version, max_questions, prefect_steps())
    get_run_logger().info(
        "%s with %s: %s (mlflow run %s)",
        outcome.adapter,
        outcome.collection,
        outcome.scores,
        outcome.run_id,
    )
    return {"run_id": outcome.run_id, "adapter": outcome.adapter, **outcome.scores}
