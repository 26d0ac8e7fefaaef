"""MLflow side of fine-tuning: run params/metrics/artifacts, the logged pyfunc, the registry.

A version is registered only as the very last step, after the model has been logged in full,
so a run killed mid-training (or mid-logging) never leaves a registered version behind.
"""

from __future__ import annotations

import json
import logging
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, Schema

from ragtune import tracking
from ragtune.config import Settings
from ragtune.train.model import PACKAGED_MODELS, BaseModelSource
from ragtune.train.pyfunc import GeneratorModel

logger = logging.getLogger(__name__)

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "question"), ColSpec("string", "context", required=False)]),
    outputs=Schema([ColSpec("string")]),
)
REQUIREMENTS = ("torch", "transformers", "peft", "mlflow", "gguf", "ragtune")


def log_step_metrics(metrics: dict[str, float], step: int) -> None:
    """Trainer log line → MLflow metrics at ``step``.

    Per-step lines keep their names (the curves: loss, eval_loss, learning_rate, grad_norm);
    the end-of-training summary (the only line with ``train_loss``) goes under ``trainer/``
    with distinct names (its ``train_loss`` is the mean over all steps).
    """
    if "train_loss" in metrics:
        metrics = {tracking.trainer_summary_metric(key): value for key, value in metrics.items()}
    mlflow.log_metrics(metrics, step=step)


def log_training_params(
    settings: Settings, source: BaseModelSource, data_revision: str, counts: dict[str, int]
) -> None:
    """Base model, LoRA config, data revision and dataset sizes as run params.

    No param holds a path of this machine; where the base model was read is a tag.
    """
    config = settings.finetune
    mlflow.set_tag(tracking.TAG_BASE_MODEL_PATH, str(source.path))
    mlflow.log_params(
        {
            "base_model": source.name,
            "base_model_fingerprint": source.fingerprint,
            "lora_r": config.lora.r,
            "lora_alpha": config.lora.alpha,
            "lora_dropout": config.lora.dropout,
            "lora_target_modules": ",".join(config.lora.target_modules),
            "data_revision": data_revision,
            "seed": config.seed,
            "max_steps": config.max_steps,
            "learning_rate": config.learning_rate,
            "batch_size": config.batch_size,
            "max_seq_length": config.max_seq_length,
            "context_chunks": config.context_chunks,
            "distractor_only_probability": config.distractor_only_probability,
            **{f"data_{name}": count for name, count in sorted(counts.items())},
        }
    )


def log_data_sample(examples: list[dict[str, Any]], rows: int) -> None:
    """The first ``rows`` training examples as a readable artifact."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "train_sample.jsonl"
        path.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in examples[:rows]),
            encoding="utf-8",
        )
        mlflow.log_artifact(str(path), artifact_path="data")


def pinned_requirements() -> list[str]:
    """The packages a logged ragtune model needs, pinned to the versions installed here."""
    pinned = []
    for name in REQUIREMENTS:
        try:
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pinned.append(name)
    return pinned


def generator_artifacts(source: BaseModelSource, adapter_dir: Path) -> tuple[dict, dict]:
    """Artifacts and model config of a logged generator, with no path of this machine in them.

    A packaged base model is found again by name wherever ragtune is installed; any other base
    (a local directory or .gguf file) travels inside the logged model as the ``base`` artifact.
    """
    artifacts = {"adapter": str(adapter_dir)}
    packaged = source.name.replace("_", "-") in PACKAGED_MODELS
    if packaged:
        base_ref = source.name
    else:
        artifacts["base"] = str(source.path)
        base_ref = ""
    config = {"base_model_ref": base_ref, "base_model_fingerprint": source.fingerprint}
    return artifacts, config


def log_generator(settings: Settings, source: BaseModelSource, adapter_dir: Path) -> str:
    """Log adapter + base reference as a pyfunc in the active run; return its model URI."""
    artifacts, config = generator_artifacts(source, adapter_dir)
    info = mlflow.pyfunc.log_model(
        name=tracking.MODEL_ARTIFACT_PATH,
        python_model=GeneratorModel(),
        artifacts=artifacts,
        model_config={**config, "max_new_tokens": settings.finetune.max_new_tokens},
        signature=SIGNATURE,
        pip_requirements=pinned_requirements(),
    )
    return info.model_uri


def register_generator(model_uri: str, registered_model: str, tags: dict[str, str]) -> str:
    """Register ``model_uri`` as a new version of ``registered_model`` with ``tags``."""
    registered = mlflow.register_model(model_uri, registered_model, tags=tags)
    tracking.describe_registered_model(registered_model, "generator")
    logger.info("registered %s version %s", registered_model, registered.version)
    return str(registered.version)
