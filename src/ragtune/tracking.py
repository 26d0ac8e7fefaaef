"""The one module that knows MLflow's run layout: experiments, tags, artefact paths.

Everything else starts runs through :func:`stage_run`. The tracking store is whatever
``MLFLOW_TRACKING_URI`` says; :func:`ragtune.runtime.configure_environment` defaults it to a
sqlite file in the project directory, with artefacts under ``mlartifacts/``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow

EXPERIMENT_INDEX = "ragtune-index"
EXPERIMENT_FINETUNE = "ragtune-finetune"
EXPERIMENT_EVALUATE = "ragtune-evaluate"
EXPERIMENT_VALIDATE = "ragtune-validate"
REGISTERED_MODEL = "ragtune-generator"

TAG_STAGE = "stage"
TAG_DATA_REVISION = "dvc_rev"
TAG_GIT_COMMIT = "git_commit"
TAG_RETRIEVAL_EVALUATION = "retrieval_evaluation"
"""Index runs: how retrieval was scored, or why it was skipped (e.g. no questions)."""

# Registered generator versions carry what the finetune trigger policy compares (train/policy.py).
TAG_BASE_MODEL = "base_model"
TAG_TRAINING_DATA_HASH = "training_data_hash"
"""Hash of the rows fine-tuning learns from: behaviour, train-split QA, glossary docs."""
TAG_TRAINING_DATA_PART = "training_data_hash.{part}"
TAG_FINETUNE_CONFIG_HASH = "finetune_config_hash"
TAG_RAW_FILE_MD5 = "raw_md5.{name}"
TAG_RUN_ID = "run_id"

# The evaluate stage logs one score in [0, 1] per arm; the finetune policy reads the
# fine-tuned arms (fine-tuned model alone, and with retrieval) of the latest evaluate run.
METRIC_FT_SCORE = "ft_score"
METRIC_FT_RAG_SCORE = "ft_rag_score"
FINETUNED_ARM_METRICS = (METRIC_FT_SCORE, METRIC_FT_RAG_SCORE)
MODEL_ARTIFACT_PATH = "generator"


def git_commit(project_dir: Path) -> str:
    """The project's current git commit, or 'unknown' outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def ensure_experiment(name: str, project_dir: Path) -> str:
    """Return the id of experiment ``name``, creating it with artefacts under the project."""
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    tracking_uri = mlflow.get_tracking_uri()
    artifact_location = None
    if tracking_uri.startswith("sqlite:"):
        # A sqlite store has no artefact root of its own; keep artefacts beside it.
        artifact_location = (project_dir.resolve() / "mlartifacts" / name).as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


@contextmanager
def stage_run(
    experiment: str,
    stage: str,
    data_revision: str,
    project_dir: Path,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Start an MLflow run for one pipeline stage, tagged with the data and code revisions."""
    experiment_id = ensure_experiment(experiment, project_dir)
    all_tags = {
        TAG_STAGE: stage,
        TAG_DATA_REVISION: data_revision,
        TAG_GIT_COMMIT: git_commit(project_dir),
        **(tags or {}),
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags) as run:
        yield run
