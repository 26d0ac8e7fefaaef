"""The finetune stage end to end on a tiny local base model, against a real MLflow store."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from train_support import (
    FAST_PARAMS,
    append_to_first,
    edit_raw_and_prepare,
    save_tiny_base,
    set_finetune_params,
)
from typer.testing import CliRunner

from ragtune import tracking
from ragtune.cli import app
from ragtune.config import load_settings
from ragtune.errors import FinetuneError
from ragtune.stages import finetune_stage

MODEL = "ragtune-generator"


@pytest.fixture
def tiny_project(validated_project):
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    return validated_project


def versions() -> list:
    return MlflowClient().search_model_versions(f"name='{MODEL}'")


def test_train_log_register_and_load_back(tiny_project) -> None:
    settings = load_settings(tiny_project)
    outcome = finetune_stage(settings)
    assert outcome.decision.train and outcome.version == "1"
    client = MlflowClient()
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["lora_r"] == "8" and run.data.params["base_model"] == "models/tiny"
    assert int(run.data.params["data_train_examples"]) > 0
    assert run.data.tags[tracking.TAG_STAGE] == "finetune"
    losses = client.get_metric_history(outcome.run_id, "loss")
    assert [m.step for m in losses] == [1, 2, 3, 4]
    assert len(client.get_metric_history(outcome.run_id, "eval_loss")) >= 2
    assert client.get_metric_history(outcome.run_id, "learning_rate")
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"adapter", "data"} <= artifacts
    assert client.list_artifacts(outcome.run_id, "data")[0].path == "data/train_sample.jsonl"

    version = client.get_model_version(MODEL, "1")
    assert version.tags[tracking.TAG_BASE_MODEL] == "models/tiny"
    assert version.tags[tracking.TAG_DATA_REVISION] == run.data.tags[tracking.TAG_DATA_REVISION]
    assert version.tags[tracking.TAG_TRAINING_DATA_HASH]
    summary = json.loads((tiny_project / "reports/finetune/summary.json").read_text())
    assert summary["version"] == "1" and summary["trained"] is True
    assert (tiny_project / "data/finetune/train.jsonl").stat().st_size > 0

    generator = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    answers = generator.predict(
        pd.DataFrame(
            {"question": ["What does 'briost' mean?"], "context": ["[doc:gls-1] A briost."]}
        )
    )
    assert len(answers) == 1 and isinstance(answers[0], str)

    skipped = finetune_stage(settings, if_needed=True)
    assert not skipped.decision.train and skipped.version is None
    assert len(versions()) == 1


def test_killed_training_registers_nothing(tiny_project, monkeypatch) -> None:
    import ragtune.train.registry as registry

    def killed(metrics, step):
        if step >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(registry, "log_step_metrics", killed)
    with pytest.raises(KeyboardInterrupt):
        finetune_stage(load_settings(tiny_project))
    assert versions() == []
    experiment = mlflow.get_experiment_by_name(tracking.EXPERIMENT_FINETUNE)
    runs = MlflowClient().search_runs([experiment.experiment_id])
    assert [r.info.status for r in runs] in (["FAILED"], ["KILLED"])


def test_bad_settings_fail_before_training(tiny_project) -> None:
    set_finetune_params(tiny_project, lora={"target_modules": ["q_proj", "attn_fused"]})
    with pytest.raises(FinetuneError, match="finetune.lora.target_modules"):
        finetune_stage(load_settings(tiny_project))
    set_finetune_params(tiny_project, base_model="models/none", lora={"target_modules": ["q_proj"]})
    with pytest.raises(FinetuneError, match="finetune.base_model = 'models/none'"):
        finetune_stage(load_settings(tiny_project))
    assert mlflow.get_experiment_by_name(tracking.EXPERIMENT_FINETUNE) is None


def test_behaviour_change_retrains_docs_change_does_not(tiny_project) -> None:
    settings = load_settings(tiny_project)
    assert finetune_stage(settings, if_needed=True).version == "1"
    edit_raw_and_prepare(settings, "docs", append_to_first("text", " Hours changed."))
    runner = CliRunner()
    result = runner.invoke(app, ["-C", str(tiny_project), "finetune", "--if-needed"])
    assert result.exit_code == 0, result.output
    assert (
        "skipped: training data, settings and evaluation unchanged since version 1" in result.output
    )
    decided = runner.invoke(app, ["-C", str(tiny_project), "finetune", "decide"])
    assert decided.output.startswith("skipped: ")
    edit_raw_and_prepare(settings, "behaviour", append_to_first("question", " Thanks."))
    outcome = finetune_stage(settings, if_needed=True)
    assert outcome.version == "2" and "behaviour" in outcome.decision.reason
