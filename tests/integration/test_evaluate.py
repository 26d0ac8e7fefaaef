"""The evaluate stage and `ragtune ask` on real MLflow + Qdrant local, with a tiny generator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune import tracking
from ragtune.config import load_settings
from ragtune.data.versioning import data_revision
from ragtune.errors import DataNotValidated, EvaluationError, FinetuneError
from ragtune.evaluate.stage import evaluate_stage
from ragtune.stages import finetune_stage, index_stage, validate_stage
from ragtune.train.policy import latest_finetuned_scores, latest_version

pytestmark = pytest.mark.slow
QUESTIONS = 3


@pytest.fixture
def ready(validated_project: Path):
    """Validated data, index built, tiny adapter registered (version 1)."""
    save_tiny_base(validated_project / "models" / "tiny")
    set_finetune_params(validated_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(validated_project)
    index_stage(settings)
    assert finetune_stage(settings).version == "1"
    return settings


def test_evaluate_ask_bad_input_and_failure(ready) -> None:
    """One set-up (index + tiny adapter) for every check: CPU time is shared in CI."""
    check_four_arms_one_run_reports_and_policy(ready)
    check_ask_cites_and_names_its_sources(ready)
    check_bad_input_is_one_line_before_any_run(ready)
    check_failure_marks_run_failed_and_writes_nothing(ready)


def check_four_arms_one_run_reports_and_policy(ready) -> None:
    outcome = evaluate_stage(ready, max_questions=QUESTIONS)
    client = MlflowClient()
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["adapter_version"] == "1" and tags["adapter_corpus_revision"] == "1"
    assert tags["collection"] == outcome.collection and tags["data_revision"] == "1"
    revision = data_revision(ready.project_dir, ready.path(ready.data.raw_dir)).id
    assert tags[tracking.TAG_DATA_REVISION] == revision
    assert tags[tracking.TAG_PROMPT] == f"prompts:/{tracking.PROMPT_NAME}/1"
    assert tags["mlflow.runType"] == "genai_evaluate"  # listed under "Evaluation runs"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags[tracking.TAG_EXPERIMENT_KIND] == "genai_development"
    digests = {item.dataset.name: item.dataset.digest for item in run.inputs.dataset_inputs}
    assert digests[f"qa-{ready.evaluate.split}"] == revision

    metrics = run.data.metrics
    for arm in ("base", "rag", "ft", "ft_rag"):
        assert 0.0 <= metrics[f"{arm}/all/f1"] <= 1.0
        assert metrics[f"{arm}/all/questions"] == QUESTIONS
        assert metrics[f"f1/{arm}/mean"] == pytest.approx(metrics[f"{arm}/all/f1"])
    assert metrics["ft_score"] == metrics["ft/all/f1"]
    assert metrics["ft_rag_score"] == metrics["ft_rag/all/f1"]
    # groundedness exists only where there is retrieved context
    assert "rag/all/groundedness" in metrics and "base/all/groundedness" not in metrics
    traces = mlflow.search_traces(
        locations=[run.info.experiment_id], run_id=outcome.run_id, return_type="list"
    )
    assert len(traces) == 4 * QUESTIONS

    artifacts = {item.path for item in client.list_artifacts(outcome.run_id, "evaluation")}
    names = {"table.csv", "table.md", "arms.png", "answers.jsonl", "arms.csv", "metrics.json"}
    assert {f"evaluation/{name}" for name in names} <= artifacts
    reports = ready.path(ready.evaluate.reports_dir)
    assert {path.name for path in reports.iterdir()} == names
    document = json.loads((reports / "metrics.json").read_text())
    assert document["ft_rag"]["all"]["f1"] == metrics["ft_rag/all/f1"]
    answers = [json.loads(line) for line in (reports / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 4 * QUESTIONS
    assert all(row["retrieved_doc_ids"] for row in answers if row["arm"] in ("rag", "ft_rag"))

    # The finetune trigger policy reads the scores this run logged.
    version = latest_version(client, ready.release.registered_model)
    run_id, scores = latest_finetuned_scores(client, version.creation_timestamp)
    assert run_id == outcome.run_id and set(scores) == {"ft_score", "ft_rag_score"}


def check_failure_marks_run_failed_and_writes_nothing(ready) -> None:
    # The registered version's files are gone from the artifact store: loading fails inside
    # the run. (Deleting the base model is no longer a failure: a local base is logged with
    # the adapter, so the model loads on another machine.)
    client = MlflowClient()
    source = client.get_model_version(ready.release.registered_model, "1").source
    logged = client.get_logged_model(source.removeprefix("models:/"))
    shutil.rmtree(local_path(logged.artifact_location))
    with pytest.raises(FinetuneError, match="v1 is registered but models:/"):
        evaluate_stage(ready, max_questions=QUESTIONS)
    runs = MlflowClient().search_runs(
        [mlflow.get_experiment_by_name(tracking.EXPERIMENT_EVALUATE).experiment_id],
        order_by=["attributes.start_time DESC"],
    )
    assert [run.info.status for run in runs] == ["FAILED", "FINISHED"]
    # The reports of the successful run stay; the failed run wrote none of its own.
    reports = ready.path(ready.evaluate.reports_dir)
    assert json.loads((reports / "metrics.json").read_text())["ft_score"] == pytest.approx(
        runs[1].data.metrics["ft_score"]
    )
    assert not list(reports.glob(".staging-*"))


def check_bad_input_is_one_line_before_any_run(ready) -> None:
    qa_path = ready.path(ready.prepare.prepared_dir) / "qa.jsonl"
    original = qa_path.read_text()
    result = ragtune(ready.project_dir, "evaluate", "--version", "7")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: 'ragtune-generator' has no")
    qa_path.write_text(
        "".join(line + "\n" for line in original.splitlines() if '"split": "test"' not in line)
    )
    with pytest.raises(DataNotValidated):  # edited after validation: the gate refuses
        evaluate_stage(ready)
    validate_stage(ready)
    with pytest.raises(EvaluationError, match="no 'test' questions"):
        evaluate_stage(ready)
    qa_path.unlink()
    validate_stage(ready)
    with pytest.raises(EvaluationError, match="no QA rows"):
        evaluate_stage(ready)
    experiment = mlflow.get_experiment_by_name(tracking.EXPERIMENT_EVALUATE)
    assert len(MlflowClient().search_runs([experiment.experiment_id])) == 1  # no new run
    qa_path.write_text(original)
    validate_stage(ready)


def local_path(uri: str) -> Path:
    """A file: artifact location as a path (MLflow's sqlite setup keeps artifacts on disk)."""
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)


def ragtune(project: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ragtune", *args], cwd=project, capture_output=True, text=True
    )


def check_ask_cites_and_names_its_sources(ready) -> None:
    result = ragtune(ready.project_dir, "ask", "What does the glossary say?", "--json")
    assert result.returncode == 0, result.stderr
    assert "Loading weights" not in result.stderr, result.stderr
    payload = json.loads(result.stdout)
    assert payload["arm"] == "ft+rag" and payload["generator"] == "ragtune-generator v1"
    assert payload["source"].startswith("no release yet")
    assert payload["collection"].startswith(ready.index.collection_prefix)
    assert len(payload["passages"]) == ready.evaluate.k
    assert payload["retrieved_doc_ids"] and isinstance(payload["answer"], str)
    plain = ragtune(ready.project_dir, "ask", "What does the glossary say?", "--arm", "rag")
    assert plain.returncode == 0, plain.stderr
    assert "passages used" in plain.stdout and "answered by base models/tiny" in plain.stdout
    empty = ragtune(ready.project_dir, "ask", "   ")
    assert empty.returncode == 1 and empty.stderr.strip() == (
        'error: the question is empty; ask something, e.g. `ragtune ask "..."`'
    )
