"""The one module that knows MLflow's run layout: experiments, tags, artefact paths.

Everything else starts runs through :func:`stage_run`. The tracking store is whatever
``MLFLOW_TRACKING_URI`` says; :func:`ragtune.runtime.configure_environment` defaults it to a
sqlite file in the project directory, with artefacts under ``mlartifacts/``.
"""

from __future__ import annotations

import subprocess
import warnings
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
TAG_CORPUS_REVISION = "corpus_revision"
"""Newest QA/behaviour ``revision`` in the training data: facts newer than it are unseen."""

# The evaluate stage logs one score in [0, 1] per arm; the finetune policy reads the
# fine-tuned arms (fine-tuned model alone, and with retrieval) of the latest evaluate run.
METRIC_FT_SCORE = "ft_score"
METRIC_FT_RAG_SCORE = "ft_rag_score"
FINETUNED_ARM_METRICS = (METRIC_FT_SCORE, METRIC_FT_RAG_SCORE)
# What the release gate compares (release/gate.py): the arm serving answers with.
METRIC_FT_RAG_F1 = "ft_rag/all/f1"
METRIC_FT_RAG_CITATION_ACCURACY = "ft_rag/all/citation_accuracy"
# Tags of an evaluate run naming what it evaluated; a release pairs exactly these.
TAG_ADAPTER_VERSION = "adapter_version"
TAG_COLLECTION = "collection"
EXPERIMENT_RELEASE = "ragtune-release"
MODEL_ARTIFACT_PATH = "generator"
TAG_PROMPT = "prompt"
"""``prompts:/<name>/<version>`` of the house prompt a run answered with."""
PROMPT_NAME = "ragtune-house-style"

# MLflow 3's UI opens an experiment in the view its kind names: evaluations read best in the
# GenAI view (evaluation runs, traces); index builds and fine-tunes in the runs table.
TAG_EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_KINDS = {EXPERIMENT_EVALUATE: "genai_development"}
DEFAULT_EXPERIMENT_KIND = "custom_model_development"


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
    kind = EXPERIMENT_KINDS.get(name, DEFAULT_EXPERIMENT_KIND)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        if TAG_EXPERIMENT_KIND not in experiment.tags:
            mlflow.MlflowClient().set_experiment_tag(
                experiment.experiment_id, TAG_EXPERIMENT_KIND, kind
            )
        return experiment.experiment_id
    tracking_uri = mlflow.get_tracking_uri()
    artifact_location = None
    if tracking_uri.startswith("sqlite:"):
        # A sqlite store has no artefact root of its own; keep artefacts beside it.
        artifact_location = (project_dir.resolve() / "mlartifacts" / name).as_uri()
    return mlflow.create_experiment(
        name, artifact_location=artifact_location, tags={TAG_EXPERIMENT_KIND: kind}
    )


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


def log_data_input(
    run_id: str, name: str, data_revision: str, source: Path, rows: list[dict], context: str
) -> None:
    """Log ``rows`` as an input dataset of run ``run_id``, its digest the DVC data revision.

    The runs table's Dataset column then shows which data revision each run read.
    """
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources; neither applies.
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(
            pd.DataFrame(rows), source=str(source.resolve()), name=name, digest=data_revision
        )
    entry = DatasetInput(dataset._to_mlflow_entity(), [InputTag(MLFLOW_DATASET_CONTEXT, context)])
    mlflow.MlflowClient().log_inputs(run_id, datasets=[entry])


def house_prompt_version() -> str:
    """Register the house prompt (a new version only when it changed); return its URI."""
    import mlflow.genai

    from ragtune.train.prompt import prompt_template

    template = prompt_template()
    latest = mlflow.genai.load_prompt(
        f"prompts:/{PROMPT_NAME}@latest",
        allow_missing=True,
        link_to_model=False,
        cache_ttl_seconds=0,
    )
    if latest is None or latest.template != template:
        latest = mlflow.genai.register_prompt(
            PROMPT_NAME, template, commit_message="ragtune house answer style"
        )
    return f"prompts:/{PROMPT_NAME}/{latest.version}"
