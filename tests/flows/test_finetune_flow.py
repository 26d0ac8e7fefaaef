"""The finetune flow under prefect_test_harness: policy → data → train → register, for real."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from train_support import (
    FAST_PARAMS,
    append_to_first,
    edit_raw_and_prepare,
    save_tiny_base,
    set_finetune_params,
)

from ragtune.config import load_settings
from ragtune.flows.finetune import DEPLOYMENT_NAME, build_deployment, finetune_flow

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]


def test_flow_trains_only_when_training_data_changes(validated_project) -> None:
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(validated_project)

    first = finetune_flow(project_dir=str(validated_project))
    assert first["trained"] and first["version"] == "1"
    assert first["eval_loss_before"] > 0 and "no registered version" in first["reason"]

    edit_raw_and_prepare(settings, "docs", append_to_first("text", " The lobby moved."))
    skipped = finetune_flow(project_dir=str(validated_project))
    assert not skipped["trained"] and skipped["version"] is None
    assert "unchanged since version 1" in skipped["reason"]

    edit_raw_and_prepare(settings, "behaviour", append_to_first("question", " Please."))
    second = finetune_flow(project_dir=str(validated_project))
    assert second["trained"] and second["version"] == "2"
    assert "behaviour" in second["reason"]
    version = MlflowClient().get_model_version("ragtune-generator", "2")
    assert version.tags["run_id"] == second["run_id"]


def test_deployment_is_weekly_if_needed_and_single(settings) -> None:
    deployment = build_deployment(settings)
    assert deployment.name == DEPLOYMENT_NAME
    assert [s.schedule.cron for s in deployment.schedules] == [settings.finetune.schedule_cron]
    assert settings.finetune.schedule_cron == "0 3 * * 0"
    assert deployment.parameters["if_needed"] is True
    limit = deployment.concurrency_limit
    assert getattr(limit, "limit", limit) == 1
