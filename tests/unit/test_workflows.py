"""Both GitHub workflows pass actionlint; retraining never falls back to unversioned data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    """The actionlint binary of the dev extra (next to this Python), else the one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: install the dev extra (pip install -e '.[dev]')"
    return found


def test_actionlint_passes_on_every_workflow() -> None:
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "retrain.yml"}
    result = subprocess.run(
        [actionlint(), "-oneline", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The check can fail: an unknown expression context is an error."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ secret.TOKEN }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [actionlint(), "-oneline", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and "secret" in result.stdout


def test_retrain_fetches_only_versioned_data_then_reproduces() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/retrain.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert {"push", "workflow_dispatch", "schedule"} <= set(triggers)
    assert {"data/**.dvc", "params.yaml"} <= set(triggers["push"]["paths"])
    steps = workflow["jobs"]["retrain"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert ".ci/fetch-data" in commands and "dvc repro" in commands
    assert "ragtune data generate" not in commands and "||" not in commands.split("dvc repro")[0]
    assert "GITHUB_STEP_SUMMARY" in commands
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in steps)
