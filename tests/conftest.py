"""Shared fixtures: a throw-away ragtune project with its own MLflow, Prefect and DVC state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.config import Settings, load_settings
from ragtune.data.generate import GeneratorSpec, write_corpus
from ragtune.data.prepare import prepare
from ragtune.runtime import offline_defaults

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL_CORPUS_DOCS = 60


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (params.yaml only) whose env points every store inside it."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO_ROOT / "params.yaml", project / "params.yaml")
    for key, value in offline_defaults(project).items():
        monkeypatch.setenv(key, value)
    # DVC stages call `ragtune`; make the venv's console script reachable.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def settings(project_dir: Path) -> Settings:
    return load_settings(project_dir)


@pytest.fixture
def demo_project(project_dir: Path, settings: Settings) -> Path:
    """A project with a small generated corpus in data/raw and data/prepared."""
    raw_dir = settings.path(settings.data.raw_dir)
    write_corpus(GeneratorSpec(seed=settings.data.seed, docs=SMALL_CORPUS_DOCS), raw_dir)
    prepare(raw_dir, settings.path(settings.prepare.prepared_dir), settings.prepare)
    return project_dir


@pytest.fixture
def dvc_project(project_dir: Path, settings: Settings) -> Path:
    """A git + DVC repository with the project's dvc.yaml and a small raw corpus (not snapshotted)."""

    def run(*args: str) -> None:
        subprocess.run(args, cwd=project_dir, check=True, capture_output=True)

    shutil.copy(REPO_ROOT / "dvc.yaml", project_dir / "dvc.yaml")
    # Stages depend on their source files, so the repository carries a copy of src/.
    shutil.copytree(
        REPO_ROOT / "src", project_dir / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    run("git", "init", "-q")
    run("git", "config", "user.email", "tests@ragtune.local")
    run("git", "config", "user.name", "ragtune tests")
    run(sys.executable, "-m", "dvc", "init", "-q")
    run(sys.executable, "-m", "dvc", "remote", "add", "-d", "local", str(project_dir / "storage"))
    raw_dir = settings.path(settings.data.raw_dir)
    write_corpus(GeneratorSpec(seed=settings.data.seed, docs=SMALL_CORPUS_DOCS), raw_dir)
    return project_dir


@pytest.fixture
def validated_project(demo_project: Path, settings: Settings) -> Path:
    """``demo_project`` whose prepared data passed validation (the gate of index/finetune)."""
    from ragtune.stages import validate_stage

    validate_stage(settings)
    return demo_project
