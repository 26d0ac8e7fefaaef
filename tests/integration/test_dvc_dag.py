"""The whole DVC DAG on a tiny base model: repro twice, per-key params, metrics, plots, dag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune.data.versioning import snapshot

pytestmark = pytest.mark.slow
STAGES = ("prepare", "validate", "index", "finetune")


def dvc(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def git(project: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True)
    return result.stdout


def set_params(project: Path, section: str, **values: Any) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


# evaluate and promote answer with the generator and gate a release; with this tiny model the
# gate rightly rejects, so they are covered by test_evaluate.py and test_release.py instead.
TARGETS = ("index", "finetune")


def changed_stages(project: Path) -> set[str]:
    """Stages `dvc status` says would rerun."""
    status = json.loads(dvc(project, "status", *TARGETS, "--json").stdout)
    return {name.split(":")[-1] for name in status}


def numbers_only(value: Any) -> bool:
    if isinstance(value, dict):
        return all(numbers_only(item) for item in value.values())
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture
def dag_project(dvc_project: Path) -> Path:
    save_tiny_base(dvc_project / "models" / "tiny")
    set_finetune_params(dvc_project, base_model="models/tiny", **FAST_PARAMS)
    snapshot(dvc_project, dvc_project / "data" / "raw")
    git(dvc_project, "add", "-A")
    git(dvc_project, "commit", "-qm", "data and params")
    return dvc_project


def test_full_dag_repro_is_idempotent_and_per_key(dag_project: Path) -> None:
    first = dvc(dag_project, "repro", *TARGETS)
    for stage in STAGES:
        assert f"Running stage '{stage}'" in first.stdout, first.stdout
    assert "Batches" in first.stderr, "the index stage's progress bar reaches the terminal"
    second = dvc(dag_project, "repro", *TARGETS)
    assert "Running stage" not in second.stdout, second.stdout
    assert changed_stages(dag_project) == set()

    # What `dvc repro` leaves for git: the lock, the metric and plot files, nothing else.
    dirty = {line[3:] for line in git(dag_project, "status", "--porcelain", "-uall").splitlines()}
    assert dirty == {
        "dvc.lock",
        "reports/validation/metrics.json",
        "reports/index/metrics.json",
        "reports/index/scores.json",
        "reports/finetune/metrics.json",
        "reports/finetune/loss.csv",
        "reports/finetune/eval_loss.csv",
    }, dirty
    metrics = json.loads(dvc(dag_project, "metrics", "show", "--json").stdout)
    files = {name: item for name, item in metrics[""]["data"].items() if "data" in item}
    assert "reports/evaluate/metrics.json" not in files  # not a target here
    assert len(files) == 3 and all(numbers_only(item["data"]) for item in files.values()), files
    finetune = files["reports/finetune/metrics.json"]["data"]
    assert finetune["trained"] == 1 and finetune["version"] == 1
    loss = (dag_project / "reports/finetune/loss.csv").read_text().splitlines()
    steps = [int(row.split(",")[0]) for row in loss[1:]]
    assert loss[0] == "step,loss" and steps == [1, 2, 3, 4], loss
    git(dag_project, "add", "-A")
    git(dag_project, "commit", "-qm", "repro")

    dot = dvc(dag_project, "dag", "--dot").stdout
    for edge in ("prepare -> validate", "validate -> index", "validate -> finetune"):
        source, target = edge.split(" -> ")
        assert f'"{source}" -> "{target}"' in dot, dot

    # Scheduling keys are read by Prefect only: no stage reruns.
    set_params(dag_project, "index", schedule_cron="30 * * * *", retries=5)
    set_params(dag_project, "finetune", schedule_cron="0 5 * * 1")
    assert changed_stages(dag_project) == set()
    # A key the index reads reruns the index only; the committed metrics diff across commits.
    set_params(dag_project, "index", chunk_size=128)
    assert changed_stages(dag_project) == {"index"}
    rerun = dvc(dag_project, "repro", *TARGETS).stdout
    assert "Running stage 'index'" in rerun and "Running stage 'finetune'" not in rerun
    git(dag_project, "commit", "-qam", "index.chunk_size 128")
    diff = json.loads(dvc(dag_project, "metrics", "diff", "HEAD~1", "--json").stdout)
    chunks = diff["reports/index/metrics.json"]["chunks_total"]
    assert chunks["new"] > chunks["old"] > 0, chunks
    assert "reports/finetune/metrics.json" not in diff

    plots = json.loads(dvc(dag_project, "plots", "diff", "HEAD~1", "--json").stdout)["data"]
    titles = sorted(
        name.split(" (")[0] for name in plots if not name.startswith("reports/evaluate")
    )
    assert titles == ["Fine-tune loss per step", "Retrieval scores of the index build"], titles
    rendered = json.dumps(plots)
    assert "loss" in rendered and "recall_at_5" in rendered and "ndcg_at_10" in rendered

    # An experiment on a fine-tune setting trains a new version and is compared by `exp show`.
    dvc(dag_project, "exp", "run", "-n", "rank4", "-S", "finetune.lora.r=4", *TARGETS)
    shown = json.loads(dvc(dag_project, "exp", "show", "--json").stdout)
    experiments = [
        exp
        for commit in shown
        for exp in commit.get("experiments") or []
        if (exp.get("name") or "") == "rank4"
    ]
    assert experiments, json.dumps(shown)[:2000]
    data = experiments[0]["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["finetune"]["lora"]["r"] == 4
    assert data["metrics"]["reports/finetune/metrics.json"]["data"]["version"] == 2
