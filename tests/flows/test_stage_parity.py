"""The CLI and the Prefect flows run the same stage: same result, same MLflow run fields."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params
from typer.testing import CliRunner

from ragtune import tracking
from ragtune.cli import app
from ragtune.flows.finetune import finetune_flow
from ragtune.flows.refresh_index import refresh_index_flow

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]
# Differ between any two runs by nature: wall-clock seconds, ids of the run or its version.
RUN_SPECIFIC_METRICS = re.compile(r"seconds|runtime|per_second|preparation_time|memory")
RUN_SPECIFIC_TAGS = {"registered_version", tracking.TAG_RUN_ID}


def cli(project, *args) -> str:
    result = CliRunner().invoke(app, ["-C", str(project), *args])
    assert result.exit_code == 0, f"{result.output}{result.exception!r}"
    return result.output


def run_fields(run_id: str) -> dict:
    """Params, metric keys, stable metric values and tags (mlflow.* system tags left out)."""
    data = MlflowClient().get_run(run_id).data
    stable = {k: v for k, v in data.metrics.items() if not RUN_SPECIFIC_METRICS.search(k)}
    return {
        "params": data.params,
        "metric_keys": sorted(data.metrics),
        "tags": {
            k: v
            for k, v in data.tags.items()
            if not k.startswith("mlflow.") and k not in RUN_SPECIFIC_TAGS
        },
        "stable_metrics": stable,
    }


def test_index_cli_and_flow_agree(demo_project) -> None:
    cli(demo_project, "data", "prepare")
    cli(demo_project, "validate")
    output = cli(demo_project, "index", "refresh", "--no-progress")
    cli_run = re.search(r"mlflow run (\w+)", output).group(1)
    cli_metrics = json.loads((demo_project / "reports/index/metrics.json").read_text())
    # Start the flow from the same state: no index, no vector cache.
    for path in ("data/qdrant", "data/index", "reports/index"):
        shutil.rmtree(demo_project / path)

    flow = refresh_index_flow(project_dir=str(demo_project), snapshot=False)
    assert flow["mlflow_run_id"] != cli_run
    assert json.loads((demo_project / "reports/index/metrics.json").read_text()) == cli_metrics
    assert flow["scores"] and flow["retrieval_evaluation"].startswith("scored")
    assert run_fields(flow["mlflow_run_id"]) == run_fields(cli_run)


def test_finetune_cli_and_flow_agree(validated_project) -> None:
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    summary_path = validated_project / "reports/finetune/summary.json"

    cli(validated_project, "finetune")
    by_cli = json.loads(summary_path.read_text())
    by_flow = finetune_flow(project_dir=str(validated_project), if_needed=False)
    assert (by_cli["version"], by_flow["version"]) == ("1", "2")
    assert by_flow["reason"] == by_cli["reason"] and by_flow["trained"] is by_cli["trained"]
    assert sorted(by_flow) == sorted(by_cli)
    assert run_fields(by_flow["run_id"]) == run_fields(by_cli["run_id"])
    client = MlflowClient()
    version_tags = [
        {
            k: v
            for k, v in client.get_model_version("ragtune-generator", n).tags.items()
            if k != tracking.TAG_RUN_ID
        }
        for n in ("1", "2")
    ]
    assert version_tags[0] == version_tags[1]

    # A skip rebuilds missing training data the same way on both paths, with the same words.
    shutil.rmtree(validated_project / "data/finetune")
    skipped_by_flow = finetune_flow(project_dir=str(validated_project), if_needed=True)
    assert (validated_project / "data/finetune/train.jsonl").stat().st_size > 0
    output = cli(validated_project, "finetune", "--if-needed")
    assert skipped_by_flow["trained"] is False
    assert output.strip() == f"skipped: {skipped_by_flow['reason']}"
