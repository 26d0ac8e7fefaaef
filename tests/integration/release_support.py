"""Shared steps of the release tests: a first release, new candidates, the live pointers."""

from __future__ import annotations

from pathlib import Path

import mlflow
from index_support import raw_docs, write_docs_and_prepare
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune import tracking
from ragtune.config import Settings, load_settings
from ragtune.index.refresh import refresh_index
from ragtune.release.aliases import LiveIndexAlias
from ragtune.release.promote import promote
from ragtune.stages import finetune_stage, validate_stage

MODEL = "ragtune-generator"


def record_evaluation(settings: Settings, version: str, collection: str, f1: float) -> str:
    """An evaluate run of (version, collection) with chosen gate scores (the gate's input)."""
    with tracking.stage_run(
        tracking.EXPERIMENT_EVALUATE,
        stage="evaluate",
        data_revision="rev-test",
        project_dir=settings.project_dir,
        tags={tracking.TAG_ADAPTER_VERSION: version, tracking.TAG_COLLECTION: collection},
    ) as run:
        mlflow.log_metrics(
            {tracking.METRIC_FT_RAG_F1: f1, tracking.METRIC_FT_RAG_CITATION_ACCURACY: 0.9}
        )
    return run.info.run_id


def live_pointers(settings: Settings) -> tuple[str | None, str | None]:
    """(champion version, collection behind the live alias), read from MLflow and Qdrant."""
    try:
        version = str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)
    except mlflow.exceptions.MlflowException:
        version = None
    return version, LiveIndexAlias(settings).current()


def new_candidate(settings: Settings, f1: float) -> tuple[str, str]:
    """Edit one document, refresh, fine-tune, and evaluate the pair with score ``f1``."""
    docs = raw_docs(settings)
    docs[0]["text"] += f" Revised with score {f1}."
    write_docs_and_prepare(settings, docs)
    validate_stage(settings)
    collection = refresh_index(settings, show_progress=False).collection
    version = finetune_stage(settings).version
    record_evaluation(settings, version, collection, f1)
    return version, collection


def release_first(demo_project: Path) -> Settings:
    """A project with release r0001 live (adapter v1 + the first collection)."""
    save_tiny_base(demo_project / "models" / "tiny")
    set_finetune_params(demo_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(demo_project)
    validate_stage(settings)
    collection = refresh_index(settings, show_progress=False).collection
    version = finetune_stage(settings).version
    record_evaluation(settings, version, collection, 0.6)
    result = promote(settings)
    assert result.promoted and result.manifest.release_id == "r0001"
    assert live_pointers(settings) == (version, collection)
    return settings
