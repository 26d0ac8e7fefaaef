"""The evaluate flow under prefect_test_harness calls the same stage as `ragtune evaluate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune import tracking
from ragtune.config import load_settings
from ragtune.flows.evaluate import evaluate_flow
from ragtune.stages import finetune_stage, index_stage

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]


def test_flow_logs_one_evaluation_run(validated_project) -> None:
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(validated_project)
    index_stage(settings)
    finetune_stage(settings)

    result = evaluate_flow(project_dir=str(validated_project), max_questions=2)
    assert result["adapter"] == "ragtune-generator v1"
    run = MlflowClient().get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["stage"] == "evaluate"
    assert result["ft_rag_score"] == run.data.metrics["ft_rag_score"]
    # Comparable across machines: no param is a path, the questions' source is the project's.
    assert not [value for value in run.data.params.values() if Path(value).is_absolute()]
    sources = [item.dataset.source for item in run.inputs.dataset_inputs]
    assert '{"uri": "data/prepared/qa.jsonl"}' in sources, sources
    experiment = MlflowClient().get_experiment(run.info.experiment_id)
    description = tracking.EXPERIMENT_DESCRIPTIONS[tracking.EXPERIMENT_EVALUATE]
    assert experiment.tags[tracking.TAG_DESCRIPTION] == description
    assert (validated_project / "reports" / "evaluate" / "metrics.json").is_file()
