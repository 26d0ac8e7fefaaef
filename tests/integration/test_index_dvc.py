"""`dvc repro index` runs the same refresh as the CLI and records its metrics."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ragtune.data.versioning import snapshot

pytestmark = pytest.mark.slow


def dvc(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True
    )


def test_dvc_index_stage(dvc_project) -> None:
    snapshot(dvc_project, dvc_project / "data" / "raw")
    result = dvc(dvc_project, "repro", "index")
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((dvc_project / "reports" / "index" / "metrics.json").read_text())
    assert metrics["chunks_embedded"] == metrics["chunks_total"] > 0
    assert 0 < metrics["recall_at_5"] <= 1
    manifest = json.loads((dvc_project / "reports" / "index" / "manifest.json").read_text())
    assert manifest["collection"].startswith("ragtune-") and manifest["docs"]
    assert all(isinstance(value, int | float) for value in metrics.values()), metrics
    status = dvc(dvc_project, "status", "index")
    assert "up to date" in status.stdout, status.stdout
