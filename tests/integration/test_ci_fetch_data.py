"""`.ci/fetch-data` (the retrain workflow's data step) on a real DVC repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ragtune.data.load import load_dataset
from ragtune.data.schema import DOCS
from ragtune.data.versioning import data_revision, snapshot

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def fetch(project: Path, **env: str) -> subprocess.CompletedProcess:
    (project / ".ci").mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / ".ci" / "fetch-data", project / ".ci" / "fetch-data")
    return subprocess.run(
        [str(project / ".ci" / "fetch-data")],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


@pytest.fixture
def committed(dvc_project: Path) -> Path:
    """data/raw snapshotted (not pushed) with params that regenerate exactly it, then removed."""
    params_path = dvc_project / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    params["data"]["docs"] = len(load_dataset(DOCS, dvc_project / "data" / "raw"))
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    snapshot(dvc_project, dvc_project / "data" / "raw", push=False)
    shutil.rmtree(dvc_project / "data" / "raw")
    shutil.rmtree(dvc_project / ".dvc" / "cache")
    return dvc_project


def test_demo_repository_regenerates_and_verifies(committed: Path) -> None:
    result = fetch(committed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No DVC remote configured" in result.stdout
    assert "the demo corpus, verified identical" in result.stdout
    assert data_revision(committed, committed / "data" / "raw").snapshotted


def test_no_remote_and_not_the_demo_fails_clearly(committed: Path) -> None:
    params_path = committed / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    params["data"]["seed"] += 1
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    result = fetch(committed)
    assert result.returncode == 1
    assert "is not the demo corpus" in result.stderr and "DVC_REMOTE_URL" in result.stderr
    assert not (committed / "data" / "raw").exists(), "nothing unversioned is left to train on"


def test_a_failed_pull_never_falls_back(committed: Path, tmp_path: Path) -> None:
    empty_remote = tmp_path / "empty-remote"
    empty_remote.mkdir()
    result = fetch(committed, DVC_REMOTE_URL=str(empty_remote))
    assert result.returncode == 1
    assert "refusing to run on any other data" in result.stderr
    assert not (committed / "data" / "raw").exists()


def test_configured_remote_is_pulled(dvc_project: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    raw_dir = dvc_project / "data" / "raw"
    revision = snapshot(dvc_project, raw_dir, push=False)
    subprocess.run(
        [sys.executable, "-m", "dvc", "remote", "add", "pushed", str(remote)],
        cwd=dvc_project,
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "dvc", "push", "-r", "pushed", "data/raw.dvc"],
        cwd=dvc_project,
        check=True,
        capture_output=True,
    )
    shutil.rmtree(raw_dir)
    shutil.rmtree(dvc_project / ".dvc" / "cache")
    result = fetch(dvc_project, DVC_REMOTE_URL=str(remote))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pulled from DVC remote 'ci'" in result.stdout
    assert data_revision(dvc_project, raw_dir).id == revision.id
