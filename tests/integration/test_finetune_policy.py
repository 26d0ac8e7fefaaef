"""The trigger policy against a real MLflow registry: what retrains and what does not."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow import MlflowClient
from train_support import append_to_first, edit_raw_and_prepare

from ragtune import tracking
from ragtune.config import Settings, load_settings
from ragtune.train.policy import decide, training_data_hashes, version_tags
from ragtune.train.run import load_tables

MODEL = "ragtune-generator"


def register_current(settings: Settings) -> str:
    """A registered version tagged with today's training data and settings."""
    client = MlflowClient()
    if not client.search_registered_models(f"name='{MODEL}'"):
        client.create_registered_model(MODEL)
    tags = version_tags(training_data_hashes(load_tables(settings)), settings.finetune)
    tags[tracking.TAG_DATA_REVISION] = "rev-test"
    version = client.create_model_version(MODEL, source="file:///nowhere", tags=tags)
    return version.version


def decision(settings: Settings, now: float | None = None):
    return decide(load_tables(settings), settings.finetune, MODEL, MlflowClient(), now=now)


@pytest.fixture
def registered(demo_project, settings: Settings) -> Settings:
    assert decision(settings).train  # nothing registered yet
    register_current(settings)
    return settings


def test_no_version_trains_and_unchanged_data_skips(demo_project, settings: Settings) -> None:
    first = decision(settings)
    assert first.train and "no registered version" in first.reason
    register_current(settings)
    again = decision(settings)
    assert not again.train
    assert again.render().startswith("skipped: ") and "version 1" in again.reason


def test_document_edits_never_trigger(registered: Settings) -> None:
    edit_raw_and_prepare(registered, "docs", append_to_first("text", " Prices changed today."))
    glossary = append_to_first(
        "text", " Also spelt brieost.", lambda row: row["source"] == "glossary"
    )
    edit_raw_and_prepare(registered, "docs", glossary)
    assert not decision(registered).train


def test_held_out_questions_are_not_training_data(registered: Settings) -> None:
    dev_edit = append_to_first("answer", " Updated.", lambda row: row["split"] == "dev")
    edit_raw_and_prepare(registered, "qa", dev_edit)
    assert not decision(registered).train


@pytest.mark.parametrize(
    ("dataset", "where", "part"),
    [
        ("behaviour", lambda row: True, "behaviour"),
        ("qa", lambda row: row["split"] == "train" and row["kind"] == "glossary", "qa_train"),
    ],
)
def test_training_data_changes_trigger(registered: Settings, dataset, where, part) -> None:
    edit_raw_and_prepare(registered, dataset, append_to_first("question", " Always?", where))
    result = decision(registered)
    assert result.train and "training data changed since version 1" in result.reason
    assert part in result.reason


def test_settings_age_and_evaluation_trigger(registered: Settings, project_dir) -> None:
    week = 7 * 86_400
    assert not decision(registered, now=time.time() + week).train
    old = decision(registered, now=time.time() + (registered.finetune.max_age_days + 1) * 86_400)
    assert old.train and "days old" in old.reason

    with tracking.stage_run(tracking.EXPERIMENT_EVALUATE, "evaluate", "rev-test", project_dir):
        mlflow.log_metrics({tracking.METRIC_FT_RAG_SCORE: 0.9, tracking.METRIC_FT_SCORE: 0.7})
    assert not decision(registered).train
    with tracking.stage_run(tracking.EXPERIMENT_EVALUATE, "evaluate", "rev-test", project_dir):
        mlflow.log_metrics({tracking.METRIC_FT_RAG_SCORE: 0.2, tracking.METRIC_FT_SCORE: 0.7})
    low = decision(registered)
    assert low.train and "ft_rag_score=0.200" in low.reason and "ft_score" not in low.reason

    params = (
        (project_dir / "params.yaml")
        .read_text()
        .replace("  seed: 7\n  max_steps", "  seed: 8\n  max_steps")
    )
    (project_dir / "params.yaml").write_text(params)
    changed = decision(load_settings(project_dir))
    assert changed.train and "finetune settings changed" in changed.reason
