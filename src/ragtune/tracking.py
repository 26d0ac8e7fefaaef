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
# Fine-tune runs: per-step curves keep the Trainer's names (loss, eval_loss, learning_rate,
# grad_norm), so they are the charts MLflow shows first; single end-of-run values go under a
# prefix of their own, so no one-point chart sits beside a curve under the same title.
PREFIX_TRAINER_SUMMARY = "trainer/"
"""The Trainer's end-of-training log line: ``trainer/mean_loss``, ``trainer/runtime_seconds``…"""
PREFIX_RUN_SUMMARY = "summary/"
"""What the finetune stage measured around training: eval loss before/after, tokens/s…"""
TRAINER_SUMMARY_NAMES = {"train_loss": "mean_loss", "train_runtime": "runtime_seconds"}
TAG_BASE_MODEL_PATH = "base_model_path"
"""Where the base model was read on this machine: a tag, so comparing runs never shows it."""

# What the runs of each experiment are (MLflow shows the note as the experiment's description).
TAG_DESCRIPTION = "mlflow.note.content"
EXPERIMENT_DESCRIPTIONS = {
    EXPERIMENT_INDEX: (
        "One run per `ragtune index refresh`: a new Qdrant collection built incrementally from "
        "the prepared documents. Params: chunking and retrieval settings; metrics: recall@k, MRR, "
        "nDCG@10 on the eval split, chunks embedded/reused/deleted, seconds per phase; "
        "artifacts: the collection manifest. Tag dvc_rev: the data revision."
    ),
    EXPERIMENT_FINETUNE: (
        "One run per LoRA fine-tune of the generator (`ragtune finetune`). Per-step curves: "
        "loss, eval_loss, learning_rate, grad_norm; trainer/* the trainer's end-of-training "
        "summary; eval loss before and after. The logged `generator` model is registered as a "
        "new version of the generator model."
    ),
    EXPERIMENT_EVALUATE: (
        "One run per `ragtune evaluate`: four arms (base, base+RAG, fine-tuned, fine-tuned+RAG) "
        "answer the same held-out questions; F1, citation accuracy and latency per arm and slice "
        "(changed facts, stable facts, jargon). Tags name the adapter version and collection."
    ),
    EXPERIMENT_RELEASE: (
        "One run per `ragtune release promote`: the gate's verdict on an evaluated adapter + "
        "collection pair and, when it passed, the release that moved both aliases."
    ),
}
# Registered models by role (their names come from params.yaml `release:`).
MODEL_DESCRIPTIONS = {
    "generator": (
        "The LoRA adapter and a reference to its base model, as an MLflow pyfunc (question, "
        "optional context → answer citing [doc:ID]). One version per fine-tune run; the "
        "champion alias (release.champion_alias) marks the released one."
    ),
    "hybrid": (
        "A release as one model: the generator version and an exported copy of the index it "
        "was evaluated with (retrieval + answer). One version per promoted release."
    ),
}
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
    """Return the id of experiment ``name``, creating it with artefacts under the project.

    Its kind (which MLflow view opens it) and description are set when missing.
    """
    tags = {TAG_EXPERIMENT_KIND: EXPERIMENT_KINDS.get(name, DEFAULT_EXPERIMENT_KIND)}
    if name in EXPERIMENT_DESCRIPTIONS:
        tags[TAG_DESCRIPTION] = EXPERIMENT_DESCRIPTIONS[name]
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        client = mlflow.MlflowClient()
        for key, value in tags.items():
            if key not in experiment.tags:
                client.set_experiment_tag(experiment.experiment_id, key, value)
        return experiment.experiment_id
    tracking_uri = mlflow.get_tracking_uri()
    artifact_location = None
    if tracking_uri.startswith("sqlite:"):
        # A sqlite store has no artefact root of its own; keep artefacts beside it.
        artifact_location = (project_dir.resolve() / "mlartifacts" / name).as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location, tags=tags)


def describe_registered_model(name: str, role: str) -> None:
    """Give registered model ``name`` the description of its ``role`` when it has none."""
    client = mlflow.MlflowClient()
    if not client.get_registered_model(name).description:
        client.update_registered_model(name, description=MODEL_DESCRIPTIONS[role])


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


def trainer_summary_metric(key: str) -> str:
    """The MLflow name of a value of the Trainer's end-of-training summary (``train_loss``…)."""
    return PREFIX_TRAINER_SUMMARY + TRAINER_SUMMARY_NAMES.get(key, key.removeprefix("train_"))


def run_summary_metric(key: str) -> str:
    """The MLflow name of a single end-of-run value of the finetune stage."""
    return PREFIX_RUN_SUMMARY + key


def project_path(path: Path, project_dir: Path) -> str:
    """``path`` relative to the project (POSIX) when inside it, so runs compare across machines."""
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def log_data_input(
    run_id: str,
    name: str,
    data_revision: str,
    source: Path,
    rows: list[dict],
    context: str,
    project_dir: Path,
) -> None:
    """Log ``rows`` as an input dataset of run ``run_id``, its digest the DVC data revision.

    The runs table's Dataset column then shows which data revision each run read; the source
    is the file's path in the project.
    """
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    with warnings.catch_warnings():
        # MLflow hints about integer columns and ambiguous local sources; neither applies.
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(
            pd.DataFrame(rows),
            source=project_path(source, project_dir),
            name=name,
            digest=data_revision,
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
