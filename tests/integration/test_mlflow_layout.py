"""What an MLflow user sees, read back through MlflowClient from a real sqlite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_support import set_index_params
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune import tracking
from ragtune.config import load_settings
from ragtune.errors import RetrievalIndexError
from ragtune.stages import finetune_stage, index_stage

pytestmark = pytest.mark.slow


def runs_of(experiment: str) -> list:
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])


def assert_no_machine_paths(run) -> None:
    """No param is an absolute path; the run's datasets name files inside the project."""
    absolute = {k: v for k, v in run.data.params.items() if Path(v).is_absolute()}
    assert not absolute, absolute
    for dataset_input in run.inputs.dataset_inputs:
        assert '"/' not in dataset_input.dataset.source, dataset_input.dataset.source


def assert_described(experiment: str) -> None:
    found = MlflowClient().get_experiment_by_name(experiment)
    assert found.tags[tracking.TAG_DESCRIPTION] == tracking.EXPERIMENT_DESCRIPTIONS[experiment]


def test_index_run_spans_the_build_and_ends_failed_with_it(validated_project) -> None:
    outcome = index_stage(load_settings(validated_project))
    run = MlflowClient().get_run(outcome.run_id)
    build_ms = outcome.refresh.seconds["total"] * 1000
    assert run.info.status == "FINISHED"
    assert run.info.end_time - run.info.start_time >= build_ms > 1000
    assert run.info.run_name == outcome.refresh.collection
    assert_no_machine_paths(run)
    assert_described(tracking.EXPERIMENT_INDEX)

    # A refresh that fails inside the run (the tokenizer cannot be found) ends it FAILED.
    settings = set_index_params(validated_project, embedding_model="models/missing")
    with pytest.raises(RetrievalIndexError, match="models/missing"):
        index_stage(settings)
    assert [r.info.status for r in runs_of(tracking.EXPERIMENT_INDEX)] == ["FINISHED", "FAILED"]


def test_finetune_curves_come_first_and_summaries_have_their_own_names(validated_project):
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(validated_project)
    outcome = finetune_stage(settings)
    client = MlflowClient()
    run = client.get_run(outcome.run_id)
    metrics = run.data.metrics

    steps = [point.step for point in client.get_metric_history(outcome.run_id, "loss")]
    assert steps == list(range(1, FAST_PARAMS["max_steps"] + 1))
    # Bare names are per-step curves only; one-point values are under trainer/ or summary/.
    for name in metrics:
        if "/" not in name:
            assert len(client.get_metric_history(outcome.run_id, name)) > 1, name
    assert not any(name.startswith("train/") or name == "train_loss" for name in metrics)
    assert len(client.get_metric_history(outcome.run_id, "trainer/mean_loss")) == 1
    assert "trainer/runtime_seconds" in metrics
    assert metrics["summary/eval_loss_after"] == pytest.approx(outcome.metrics["eval_loss_after"])

    assert_no_machine_paths(run)
    assert Path(run.data.tags[tracking.TAG_BASE_MODEL_PATH]).is_dir()
    assert run.data.params["base_model"] == "models/tiny"
    assert_described(tracking.EXPERIMENT_FINETUNE)
    registered = client.get_registered_model(settings.release.registered_model)
    assert registered.description == tracking.MODEL_DESCRIPTIONS["generator"]
