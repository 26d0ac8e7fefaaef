"""The refresh flow on a real DVC repo, the embedded Qdrant engine and MLflow, under prefect_test_harness."""

from __future__ import annotations

import json

import mlflow
import pytest

from ragtune.config import load_settings
from ragtune.data.schema import DOCS
from ragtune.flows.refresh_index import DEPLOYMENT_NAME, build_deployment, refresh_index_flow
from ragtune.index import store

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("harness")]


def _staging_target(settings) -> str | None:
    return store.alias_target(settings, settings.index.staging_alias)


def test_flow_snapshots_refreshes_evaluates_and_logs(dvc_project, capfd) -> None:
    settings = load_settings(dvc_project)
    # As `ragtune demo` runs it: the build's progress bars on stderr.
    first = refresh_index_flow(project_dir=str(dvc_project), show_progress=True)
    assert "Batches" in capfd.readouterr().err  # the embedding bar
    assert first["built"] and not first["data_revision"].startswith("wip-")
    assert first["counts"]["chunks_embedded"] == first["counts"]["chunks_total"] > 0
    assert 0 < first["scores"]["recall_at_5"] <= 1
    run = mlflow.get_run(first["mlflow_run_id"])
    assert run.data.tags["dvc_rev"] == first["data_revision"]
    assert run.data.params["collection"] == first["collection"] == _staging_target(settings)
    assert (dvc_project / "data" / "raw.dvc").exists()

    reports = settings.path(settings.index.reports_dir)
    written = {name: (reports / name).read_text() for name in ("metrics.json", "manifest.json")}
    again = refresh_index_flow(project_dir=str(dvc_project))
    assert not again["built"] and again["collection"] == first["collection"]
    assert again["counts"]["chunks_embedded"] == 0
    assert mlflow.get_run(again["mlflow_run_id"]).data.params["built"] == "False"
    # The DVC outputs still describe the build of the collection: a rerun rewrites them as they were,
    # also after `dvc repro` deleted them before rerunning the stage.
    assert {name: (reports / name).read_text() for name in written} == written
    for name in written:
        (reports / name).unlink()
    refresh_index_flow(project_dir=str(dvc_project))
    assert {name: (reports / name).read_text() for name in written} == written

    # Bad data stops the flow at validation: the staging alias stays where it was.
    docs_path = settings.path(settings.data.raw_dir) / DOCS.filename
    bad = {
        "doc_id": "bad-1",
        "title": "x",
        "text": "tiny",
        "source": "nowhere",
        "updated_at": "2026",
    }
    with docs_path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(bad) + "\n")
    state = refresh_index_flow(project_dir=str(dvc_project), push=False, return_state=True)
    assert state.is_failed()
    assert _staging_target(settings) == first["collection"]


def test_deployment_schedule_and_concurrency(project_dir) -> None:
    settings = load_settings(project_dir)
    settings.index.schedule_cron = "*/15 * * * *"
    deployment = build_deployment(settings)
    assert deployment.name == DEPLOYMENT_NAME
    assert [s.schedule.cron for s in deployment.schedules] == ["*/15 * * * *"]
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert deployment.parameters["project_dir"] == str(settings.project_dir)
