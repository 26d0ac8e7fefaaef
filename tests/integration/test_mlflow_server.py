"""An index refresh and a fine-tune registration against a real `mlflow server` on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from server_support import free_port, running
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params
from typer.testing import CliRunner

from ragtune import tracking
from ragtune.cli import app

pytestmark = pytest.mark.slow
MODEL = "ragtune-generator"
LOAD_BACK = """
import json, sys
import mlflow, pandas as pd
generator = mlflow.pyfunc.load_model("models:/ragtune-generator/1")
answers = generator.predict(pd.DataFrame({"question": ["What is a briost?"], "context": [""]}))
print(json.dumps({"answers": answers, "cwd": __import__("os").getcwd()}))
"""


@pytest.fixture
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`mlflow server` with its own sqlite store and artifact root; stopped whatever happens."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/health", root / "server.log", cwd=root, timeout_s=180):
        yield url, root / "artifacts"


def test_index_and_finetune_against_a_tracking_server(
    demo_project: Path,
    mlflow_server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server_url, artifact_root = mlflow_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server_url)
    save_tiny_base(demo_project / "models" / "tiny")
    set_finetune_params(demo_project, base_model="models/tiny", **FAST_PARAMS)
    runner = CliRunner()

    validated = runner.invoke(app, ["validate"])
    assert validated.exit_code == 0, validated.output
    refreshed = runner.invoke(app, ["index", "refresh", "--no-progress"])
    assert refreshed.exit_code == 0, refreshed.output
    trained = runner.invoke(app, ["finetune"])
    assert trained.exit_code == 0, trained.output
    assert "registered version 1" in trained.output

    # Everything went to the server: no local store, artefacts under the server's root.
    assert not (demo_project / "mlflow.db").exists()
    assert not (demo_project / "mlartifacts").exists()
    assert any(artifact_root.rglob("manifest.json")) and any(artifact_root.rglob("MLmodel"))
    client = MlflowClient(tracking_uri=server_url)
    index_runs = client.search_runs(
        [client.get_experiment_by_name(tracking.EXPERIMENT_INDEX).experiment_id]
    )
    assert len(index_runs) == 1 and index_runs[0].data.metrics["chunks_embedded"] > 0
    artifacts = {item.path for item in client.list_artifacts(index_runs[0].info.run_id)}
    assert {"manifest.json", "metrics.json"} <= artifacts
    version = client.get_model_version(MODEL, "1")
    assert version.tags[tracking.TAG_RUN_ID] == client.get_run(version.run_id).info.run_id

    # Another working directory, another process: only the tracking URI is shared.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAGTUNE_", "MLFLOW_"))
    }
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_BACK],
        cwd=elsewhere,
        env={**env, "MLFLOW_TRACKING_URI": server_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result["cwd"] == str(elsewhere)
    assert len(result["answers"]) == 1 and isinstance(result["answers"][0], str)
