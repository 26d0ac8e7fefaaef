"""Releases on real MLflow + Qdrant local mode: both pointers move together, or neither does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import mlflow
import pytest
from index_support import points_behind
from release_support import live_pointers, new_candidate, release_first

from ragtune import tracking
from ragtune.config import Settings
from ragtune.errors import ReleaseError
from ragtune.release import manifest as releases
from ragtune.release.aliases import LiveIndexAlias
from ragtune.release.promote import default_pointers, promote, recover, rollback

MODEL = "ragtune-generator"
pytestmark = pytest.mark.slow


HYBRID_FROM_ELSEWHERE = textwrap.dedent(
    """
    import json, sys
    import mlflow.pyfunc, pandas as pd
    model = mlflow.pyfunc.load_model("models:/ragtune-hybrid@champion")
    out = model.predict(pd.DataFrame({"question": ["What is sold?", "Who approves?"], "k": [2, 3]}))
    print(json.dumps(out.to_dict(orient="records")))
    """
)


def hybrid_answers(project_dir, tmp_dir=None) -> list[dict]:
    """Load the registered hybrid from another working directory (no project files there)."""
    elsewhere = project_dir.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "RAGTUNE_BASE_CACHE"}
    out = subprocess.run(
        [sys.executable, "-c", HYBRID_FROM_ELSEWHERE],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert [len(row["retrieved_doc_ids"].split()) >= 1 for row in rows] == [True, True]
    return rows


@pytest.fixture
def released(demo_project) -> Settings:
    return release_first(demo_project)


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
    assert hybrid_answers(released.project_dir)

    new_candidate(released, f1=0.3)  # 0.3 < 0.6 - max_f1_drop
    result = promote(released)
    assert not result.promoted and "TOO LOW" in result.gate.render()
    assert live_pointers(released) == before
    assert releases.list_release_ids(released.project_dir) == ["r0001"]

    version, collection = new_candidate(released, f1=0.7)
    failing = FailingLiveAlias(released)
    failing.keep = {before[1]}
    generator, _, hybrid = default_pointers(released)
    pointers = [generator, (failing, "collection"), hybrid]
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
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT_RELEASE)
    description = experiment.tags[tracking.TAG_DESCRIPTION]
    assert description == tracking.EXPERIMENT_DESCRIPTIONS[tracking.EXPERIMENT_RELEASE]
    hybrid_model = client.get_registered_model(released.release.hybrid_model)
    assert hybrid_model.description == tracking.MODEL_DESCRIPTIONS["hybrid"]


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
    generator, _, hybrid = default_pointers(settings)
    pointers = [generator, (KilledBeforeMove(settings), "collection"), hybrid]
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
    show = [sys.executable, "-m", "ragtune", "-C", str(released.project_dir), "release", "show"]
    shown = json.loads(subprocess.run([*show, "--json"], capture_output=True, check=True).stdout)
    assert shown["release_id"] == "r0001" and shown["collection"] == first[1]
    text = subprocess.run(show, capture_output=True, text=True, check=True).stdout
    assert text.startswith("release r0001 (live)") and first[1] in text
    assert f"v{first[0]}" in text and "| FT+RAG | " in text
    assert rollback(released, "r0002").release_id == "r0002"
    assert live_pointers(released) == second
