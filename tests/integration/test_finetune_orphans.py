"""A SIGKILLed fine-tune: the next one marks its MLflow run KILLED and removes its scratch."""

import os
import subprocess
import sys

import mlflow
from mlflow.tracking import MlflowClient

from ragtune import tracking
from ragtune.train.orphans import owner_tags, reap_orphaned_runs

KILLED_FINETUNE = """
import os, signal, sys
from pathlib import Path
from ragtune import tracking
from ragtune.train.orphans import owner_tags
project = Path(sys.argv[1])
with tracking.stage_run(tracking.EXPERIMENT_FINETUNE, "finetune", "rev", project,
                        tags=owner_tags()) as run:
    scratch = project / "models" / "finetune" / run.info.run_id / "trainer"
    scratch.mkdir(parents=True)
    (scratch / "checkpoint.bin").write_bytes(b"x" * 1024)
    print(run.info.run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_runs_of_dead_processes_are_killed_and_their_scratch_removed(project_dir, settings):
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_FINETUNE, str(project_dir)], capture_output=True, text=True
    )
    assert killed.returncode == -9, killed.stderr
    dead_run = killed.stdout.strip()
    client = MlflowClient()
    assert client.get_run(dead_run).info.status == "RUNNING"
    output_dir = settings.path(settings.finetune.output_dir)
    assert (output_dir / dead_run / "trainer" / "checkpoint.bin").exists()

    experiment = mlflow.get_experiment_by_name(tracking.EXPERIMENT_FINETUNE).experiment_id
    live_run = client.create_run(experiment, tags=owner_tags()).info.run_id
    (output_dir / live_run).mkdir()
    foreign = client.create_run(experiment, tags={**owner_tags(), "ragtune.host": "other-host"})
    (output_dir / "notes").mkdir()

    assert reap_orphaned_runs(settings) == [dead_run]
    assert client.get_run(dead_run).info.status == "KILLED"
    assert not (output_dir / dead_run).exists()
    assert client.get_run(live_run).info.status == "RUNNING" and (output_dir / live_run).exists()
    assert client.get_run(foreign.info.run_id).info.status == "RUNNING"
    assert (output_dir / "notes").exists()
    assert reap_orphaned_runs(settings) == []
    assert os.getpid() == int(owner_tags()["ragtune.pid"])
