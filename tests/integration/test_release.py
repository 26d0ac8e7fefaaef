"""Releases on real MLflow + Qdrant local mode: both pointers move together, or neither does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import mlflow
import pytest
from index_support import points_behind, raw_docs, write_docs_and_prepare
from mlflow import MlflowClient
from train_support import FAST_PARAMS, save_tiny_base, set_finetune_params

from ragtune import tracking
from ragtune.config import Settings, load_settings
from ragtune.errors import ReleaseError
from ragtune.index.refresh import refresh_index
from ragtune.release import manifest as releases
from ragtune.release.aliases import LiveIndexAlias
from ragtune.release.promote import default_pointers, promote, recover, rollback
from ragtune.train import run as finetune_stage

MODEL = "ragtune-generator"
pytestmark = pytest.mark.slow


def record_evaluation(settings: Settings, version: str, collection: str, f1: float) -> str:
    """An evaluate run of (version, collection) with chosen gate scores (the gate's input)."""
    with tracking.stage_run(
        tracking.EXPERIMENT_EVALUATE,
        stage="evaluate",
        data_revision="rev-test",
        project_dir=settings.project_dir,
        tags={tracking.TAG_ADAPTER_VERSION: version, tracking.TAG_COLLECTION: collection},
    ) as run:
        mlflow.log_metrics(
            {tracking.METRIC_FT_RAG_F1: f1, tracking.METRIC_FT_RAG_CITATION_ACCURACY: 0.9}
        )
    return run.info.run_id


def live_pointers(settings: Settings) -> tuple[str | None, str | None]:
    """(champion version, collection behind the live alias), read from MLflow and Qdrant."""
    try:
        version = str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)
    except mlflow.exceptions.MlflowException:
        version = None
    return version, LiveIndexAlias(settings).current()


def new_candidate(settings: Settings, f1: float) -> tuple[str, str]:
    """Edit one document, refresh, fine-tune, and evaluate the pair with score ``f1``."""
    docs = raw_docs(settings)
    docs[0]["text"] += f" Revised with score {f1}."
    write_docs_and_prepare(settings, docs)
    collection = refresh_index(settings, show_progress=False).collection
    version = finetune_stage.finetune(settings).version
    record_evaluation(settings, version, collection, f1)
    return version, collection


@pytest.fixture
def released(demo_project) -> Settings:
    """A project with release r0001 live (adapter v1 + the first collection)."""
    save_tiny_base(demo_project / "models" / "tiny")
    set_finetune_params(demo_project, base_model="models/tiny", **FAST_PARAMS)
    settings = load_settings(demo_project)
    collection = refresh_index(settings, show_progress=False).collection
    version = finetune_stage.finetune(settings).version
    record_evaluation(settings, version, collection, 0.6)
    result = promote(settings)
    assert result.promoted and result.manifest.release_id == "r0001"
    assert live_pointers(settings) == (version, collection)
    return settings


class FailingLiveAlias(LiveIndexAlias):
    """The Qdrant alias move fails for real after the MLflow alias has already moved."""

    def move(self, collection: str | None) -> None:
        if collection not in self.keep:
            raise RuntimeError("injected: Qdrant unavailable")
        super().move(collection)


def test_gate_and_a_failing_second_move_leave_the_live_release_untouched(
    released: Settings,
) -> None:
    item = releases.live_manifest(released.project_dir)
    assert item is not None and item.release_id == "r0001"
    _, points = points_behind(released, "ragtune-live")
    assert item.points == len(points) > 0 and item.embedding_dimension == 384
    assert item.metrics[tracking.METRIC_FT_RAG_F1] == pytest.approx(0.6)
    assert not releases.journal_path(released.project_dir).exists()
    before = live_pointers(released)

    new_candidate(released, f1=0.3)  # 0.3 < 0.6 - max_f1_drop
    result = promote(released)
    assert not result.promoted and "TOO LOW" in result.gate.render()
    assert live_pointers(released) == before
    assert releases.list_release_ids(released.project_dir) == ["r0001"]

    version, collection = new_candidate(released, f1=0.7)
    failing = FailingLiveAlias(released)
    failing.keep = {before[1]}
    pointers = [default_pointers(released)[0], (failing, "collection")]
    with pytest.raises(ReleaseError, match="failed at ragtune-live.*r0001 is live again"):
        promote(released, pointers=pointers)
    assert live_pointers(released) == before
    assert releases.live_release_id(released.project_dir) == "r0001"
    assert releases.list_release_ids(released.project_dir) == ["r0001"]
    # The next promotion completes.
    assert promote(released).promoted
    assert live_pointers(released) == (version, collection)
    release_runs = mlflow.search_runs(
        experiment_names=[tracking.EXPERIMENT_RELEASE],
        order_by=["attributes.start_time ASC"],
        output_format="list",
    )
    outcomes = [(run.data.tags.get("outcome"), run.info.status) for run in release_runs]
    assert outcomes == [
        ("promoted", "FINISHED"),
        ("rejected by gate", "FINISHED"),
        (None, "FAILED"),
        ("promoted", "FINISHED"),
    ]


KILL_BETWEEN_MOVES = textwrap.dedent(
    """
    import os, signal, sys
    from ragtune.config import load_settings
    from ragtune.release.aliases import LiveIndexAlias
    from ragtune.release.promote import default_pointers, promote
    from ragtune.runtime import configure_environment

    class KilledBeforeMove(LiveIndexAlias):
        def move(self, collection):
            os.kill(os.getpid(), signal.SIGKILL)

    configure_environment(__import__("pathlib").Path(sys.argv[1]))
    settings = load_settings(__import__("pathlib").Path(sys.argv[1]))
    pointers = [default_pointers(settings)[0], (KilledBeforeMove(settings), "collection")]
    promote(settings, pointers=pointers)
    """
)


def test_kill_between_the_two_moves_is_undone_and_rollback_restores_the_pair(
    released: Settings,
) -> None:
    before = live_pointers(released)
    version, collection = new_candidate(released, f1=0.7)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_MOVES, str(released.project_dir)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    assert releases.journal_path(released.project_dir).exists()
    assert live_pointers(released)[0] == version  # half-moved: MLflow alias only
    shown = subprocess.run(
        [sys.executable, "-m", "ragtune", "-C", str(released.project_dir), "release", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "was undone" in shown.stdout and "* r0001" in shown.stdout
    assert live_pointers(released) == before
    assert recover(released) is None
    first = before
    second = (version, collection)
    assert promote(released).promoted and live_pointers(released) == second
    out = subprocess.run(
        [sys.executable, "-m", "ragtune", "-C", str(released.project_dir), "release", "rollback"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "r0001 live again" in out.stdout
    assert live_pointers(released) == first
    assert releases.live_release_id(released.project_dir) == "r0001"
    shown = json.loads(
        subprocess.run(
            [sys.executable, "-m", "ragtune", "-C", str(released.project_dir), "release", "show"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert shown["release_id"] == "r0001" and shown["collection"] == first[1]
    assert rollback(released, "r0002").release_id == "r0002"
    assert live_pointers(released) == second
