"""Fine-tune runs whose process was killed: marked KILLED in MLflow, their scratch removed.

A SIGKILL (OOM killer, a cancelled job) leaves the MLflow run RUNNING forever and
``finetune.output_dir/<run_id>/`` on disk. Each run records its process id, start time and
host as tags, so the next fine-tune on the same host can tell a dead owner from a live one.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from typing import TYPE_CHECKING

import psutil  # a dependency of peft/accelerate

from ragtune import tracking

if TYPE_CHECKING:
    from ragtune.config import Settings

logger = logging.getLogger(__name__)

TAG_PID = "ragtune.pid"
TAG_HOST = "ragtune.host"
TAG_PROCESS_STARTED = "ragtune.process_started"


def owner_tags() -> dict[str, str]:
    """Tags naming this process: pid, host and the process start time (pids get reused)."""
    return {
        TAG_PID: str(os.getpid()),
        TAG_HOST: socket.gethostname(),
        TAG_PROCESS_STARTED: f"{psutil.Process().create_time():.3f}",
    }


def owner_alive(tags: dict[str, str]) -> bool:
    """True unless the run's process on this host is gone (another host: assumed alive)."""
    if tags.get(TAG_HOST) != socket.gethostname() or TAG_PID not in tags:
        return True
    try:
        process = psutil.Process(int(tags[TAG_PID]))
        started = float(tags.get(TAG_PROCESS_STARTED, "0"))
        return abs(process.create_time() - started) < 1.0 or not started
    except (psutil.NoSuchProcess, ValueError):
        return False


def reap_orphaned_runs(settings: Settings) -> list[str]:
    """Mark RUNNING fine-tune runs of dead processes KILLED and delete their scratch folders."""
    import mlflow
    from mlflow.tracking import MlflowClient

    experiment = mlflow.get_experiment_by_name(tracking.EXPERIMENT_FINETUNE)
    if experiment is None:
        return []
    client = MlflowClient()
    runs = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
    reaped = []
    for run in runs:
        if owner_alive(run.data.tags):
            continue
        client.set_terminated(run.info.run_id, status="KILLED")
        scratch = settings.path(settings.finetune.output_dir) / run.info.run_id
        if scratch.is_dir():  # created by that run under its own id, nothing else lives there
            shutil.rmtree(scratch)
        reaped.append(run.info.run_id)
        logger.warning(
            "fine-tune run %s was killed (pid %s gone); marked KILLED, removed %s",
            run.info.run_id,
            run.data.tags.get(TAG_PID),
            scratch,
        )
    return reaped


def claim_run(settings: Settings) -> dict[str, str]:
    """Reap the runs of dead fine-tunes, then return the tags that let a later run reap this one."""
    reap_orphaned_runs(settings)
    return owner_tags()
