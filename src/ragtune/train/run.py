"""The sub-steps of the finetune stage: decide → check base model → build data → train → register.

:func:`ragtune.stages.finetune_stage` chains them; the CLI, DVC and Prefect call that.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune import tracking
from ragtune.config import Settings
from ragtune.data.load import load_all
from ragtune.data.versioning import data_revision
from ragtune.train.dataset import (
    TRAIN_FILE,
    FinetuneData,
    build_finetune_data,
    write_finetune_data,
)
from ragtune.train.model import BaseModelSource, materialize_base, resolve_base_model
from ragtune.train.policy import Decision, decide, training_data_hashes, version_tags

logger = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"
TRACKED_RAW_FILES = ("behaviour.jsonl", "qa.jsonl")


@dataclass
class BuiltData:
    """Training data written for one run, with what identifies it."""

    data: FinetuneData
    paths: dict[str, Path]
    hashes: dict[str, str]
    data_revision: str
    raw_md5s: dict[str, str]
    corpus_revision: int = 0
    """Newest ``revision`` among the QA and behaviour rows (the facts the model may know)."""


@dataclass
class TrainedRun:
    """A finished MLflow training run whose adapter is ready to log and register."""

    run_id: str
    adapter_dir: Path
    metrics: dict[str, float]


@dataclass
class FinetuneOutcome:
    """What `ragtune finetune` did: the decision, and the run/version when it trained."""

    decision: Decision
    run_id: str | None = None
    version: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (reports/finetune/summary.json; metrics.json holds the numbers)."""
        return {
            "trained": self.decision.train,
            "reason": self.decision.reason,
            "run_id": self.run_id,
            "version": self.version,
            **self.metrics,
        }


def load_tables(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The prepared docs, QA and behaviour rows."""
    return load_all(settings.path(settings.prepare.prepared_dir))


def _client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


def decide_training(settings: Settings, tables: dict[str, list[dict[str, Any]]]) -> Decision:
    """The trigger policy against the latest registered version."""
    return decide(tables, settings.finetune, settings.release.registered_model, _client())


def preflight(settings: Settings) -> tuple[BaseModelSource, Path]:
    """Resolve the base model and check the LoRA settings against it, before any training."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from ragtune.train.lora import lora_config

    source = resolve_base_model(settings.finetune.base_model, settings.project_dir)
    base_dir = materialize_base(source, settings.path(settings.finetune.base_cache_dir))
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(base_dir)))
    lora_config(settings.finetune.lora, skeleton)
    return source, base_dir


def build_data(
    settings: Settings, base_dir: Path, tables: dict[str, list[dict[str, Any]]]
) -> BuiltData:
    """RAFT examples from the prepared tables, written to finetune.data_dir."""
    from transformers import AutoTokenizer

    from ragtune.index.embed import load_tokenizer

    started = time.perf_counter()
    data = build_finetune_data(
        tables,
        settings.finetune,
        load_tokenizer(settings.index),
        AutoTokenizer.from_pretrained(str(base_dir)),
    )
    paths = write_finetune_data(data, settings.path(settings.finetune.data_dir))
    revision = data_revision(settings.project_dir, settings.path(settings.data.raw_dir))
    logger.info("wrote %s in %.1fs", data.counts, time.perf_counter() - started)
    return BuiltData(
        data=data,
        paths=paths,
        hashes=training_data_hashes(tables),
        data_revision=revision.id,
        raw_md5s={name: revision.files.get(name, "") for name in TRACKED_RAW_FILES},
        corpus_revision=max(
            (row["revision"] for name in ("qa", "behaviour") for row in tables.get(name, [])),
            default=0,
        ),
    )


def train(
    settings: Settings, source: BaseModelSource, base_dir: Path, built: BuiltData
) -> TrainedRun:
    """Train the adapter inside an MLflow run, logging params, step metrics and artifacts."""
    import mlflow

    from ragtune.train.lora import train_lora
    from ragtune.train.model import load_base_model
    from ragtune.train.orphans import claim_run
    from ragtune.train.registry import log_data_sample, log_step_metrics, log_training_params

    config = settings.finetune
    with tracking.stage_run(
        tracking.EXPERIMENT_FINETUNE,
        stage="finetune",
        data_revision=built.data_revision,
        project_dir=settings.project_dir,
        run_name=f"finetune-{built.data_revision}",
        tags={tracking.TAG_BASE_MODEL: source.name, **claim_run(settings)},
    ) as run:
        log_training_params(settings, source, built.data_revision, built.data.counts)
        tracking.log_data_input(
            run.info.run_id,
            "finetune-data",
            built.data_revision,
            built.paths["train"],
            [],
            context="training",
            project_dir=settings.project_dir,
        )
        log_data_sample(built.data.train, config.sample_rows)
        model, tokenizer = load_base_model(base_dir)
        output_dir = settings.path(config.output_dir) / run.info.run_id
        _, result = train_lora(
            model,
            tokenizer,
            built.data.train,
            built.data.eval,
            config,
            output_dir,
            log_step_metrics,
        )
        metrics = {
            "eval_loss_before": result.eval_loss_before,
            "eval_loss_after": result.eval_loss_after,
            "eval_loss_reduction": result.eval_loss_before - result.eval_loss_after,
            "train_tokens": float(result.train_tokens),
            "train_seconds": result.train_seconds,
            "tokens_per_second": result.tokens_per_second,
            "peak_memory_mb": result.peak_memory_mb,
        }
        mlflow.log_metrics({tracking.run_summary_metric(k): v for k, v in metrics.items()})
        mlflow.log_artifacts(str(result.adapter_dir), artifact_path="adapter")
        shutil.rmtree(output_dir / "trainer", ignore_errors=True)
    return TrainedRun(run_id=run.info.run_id, adapter_dir=result.adapter_dir, metrics=metrics)


def register(
    settings: Settings, source: BaseModelSource, built: BuiltData, trained: TrainedRun
) -> str:
    """Log the pyfunc into the training run, then register it: the last step, so it is atomic."""
    import mlflow

    from ragtune.train.registry import log_generator, register_generator

    tags = {
        tracking.TAG_DATA_REVISION: built.data_revision,
        tracking.TAG_BASE_MODEL: source.name,
        tracking.TAG_RUN_ID: trained.run_id,
        tracking.TAG_CORPUS_REVISION: str(built.corpus_revision),
        **version_tags(built.hashes, settings.finetune),
        **{tracking.TAG_RAW_FILE_MD5.format(name=k): v for k, v in built.raw_md5s.items()},
    }
    with mlflow.start_run(run_id=trained.run_id):
        model_uri = log_generator(settings, source, trained.adapter_dir)
        version = register_generator(model_uri, settings.release.registered_model, tags)
        mlflow.set_tag("registered_version", version)
    return version


def finetune_data_present(settings: Settings) -> bool:
    """True when finetune.data_dir holds training data (the DVC output of the stage)."""
    return (settings.path(settings.finetune.data_dir) / TRAIN_FILE).exists()


def write_empty_data(settings: Settings) -> dict[str, Path]:
    """Empty train/eval files: a skipped stage on a corpus without training rows still has its
    DVC output, and it says truthfully that there was nothing to train on."""
    return write_finetune_data(FinetuneData([], []), settings.path(settings.finetune.data_dir))


def finish(settings: Settings, outcome: FinetuneOutcome) -> FinetuneOutcome:
    """Write reports/finetune/: summary.json (the decision, and run, version, metrics when
    trained) and the DVC metrics and loss curves of the latest version; return the outcome."""
    from ragtune.train.reports import write_version_reports

    reports_dir = settings.path(settings.finetune.reports_dir)
    write_version_reports(
        reports_dir, settings.release.registered_model, outcome.decision.train, _client()
    )
    path = reports_dir / SUMMARY_FILE
    path.write_text(json.dumps(outcome.as_dict(), indent=2) + "\n", encoding="utf-8")
    return outcome
