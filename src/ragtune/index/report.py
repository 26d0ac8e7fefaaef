"""The record of a build: manifest.json + metrics.json under reports/, and an MLflow run."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.index import manifest
from ragtune.index.refresh import RefreshResult, index_params

if TYPE_CHECKING:
    from ragtune.config import Settings

MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"
SCORES_PLOT_FILE = "scores.json"


def build_manifest(settings: Settings, result: RefreshResult) -> dict[str, Any]:
    """What the collection holds, per document, with the build's params and counts."""
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        chunks = manifest.collection_chunks(db, result.collection)
    docs: dict[str, dict[str, Any]] = defaultdict(lambda: {"doc_hash": "", "chunks": []})
    for item in chunks:
        entry = docs[item.chunk.doc_id]
        entry["doc_hash"] = item.doc_hash
        entry["chunks"].append({"id": item.chunk.chunk_id, "content_hash": item.chunk.content_hash})
    return {
        "collection": result.collection,
        "previous": result.previous,
        "alias": settings.index.staging_alias,
        "data_revision": result.data_revision,
        "built": result.built,
        "params": index_params(settings),
        "counts": result.counts,
        "docs": dict(docs),
    }


def write_reports(
    settings: Settings, result: RefreshResult, scores: dict[str, float]
) -> tuple[Path, Path]:
    """Write manifest.json, metrics.json (numbers only) and scores.json (the scores as plot rows).

    The collection name and timings stay out of the DVC files: they are in the manifest and the
    MLflow run, and the metrics of the same data and settings are the same on every build.
    """
    reports_dir = settings.path(settings.index.reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = reports_dir / MANIFEST_FILE
    result = _described_build(settings, manifest_path, result)
    manifest_path.write_text(
        json.dumps(build_manifest(settings, result), indent=1), encoding="utf-8"
    )
    metrics_path = reports_dir / METRICS_FILE
    metrics = {**scores, **result.counts}
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    rows = [
        {"metric": name, "value": value} for name, value in scores.items() if name != "questions"
    ]
    (reports_dir / SCORES_PLOT_FILE).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return manifest_path, metrics_path


def _described_build(
    settings: Settings, manifest_path: Path, result: RefreshResult
) -> RefreshResult:
    """The build the reports describe: for a refresh that changed nothing, its collection's.

    The reports are DVC outputs. A rerun that finds the index up to date (after a code change,
    say) keeps the counts of the build that made the collection, so it rewrites the same
    files; the MLflow run of the rerun still logs what the rerun itself did. The build is
    recorded with the version in the index manifest (``dvc repro`` deletes the reports before
    it reruns the stage); versions built before that are read from the last report.
    """
    if result.built:
        return result
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        earlier: Any = manifest.build_record(db, result.collection)
    if not earlier:
        try:
            earlier = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return result
        if not isinstance(earlier, dict) or earlier.get("collection") != result.collection:
            return result
    if not isinstance(earlier.get("counts"), dict):
        return result
    return dataclasses.replace(
        result,
        previous=earlier.get("previous"),
        built=bool(earlier.get("built", True)),
        counts=earlier["counts"],
    )


def log_index_build(
    settings: Settings,
    run_id: str,
    result: RefreshResult,
    scores: dict[str, float],
    evaluation: str,
) -> str:
    """Write reports/index/* and log the build into the open `ragtune-index` run ``run_id``.

    ``evaluation`` says how retrieval was scored, or why it was skipped (a docs-only corpus);
    it is logged as the ``retrieval_evaluation`` tag.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from ragtune.tracking import TAG_RETRIEVAL_EVALUATION, log_data_input

    manifest_path, metrics_path = write_reports(settings, result, scores)
    params = {
        **index_params(settings),
        "k": settings.index.k,
        "retrieval": settings.index.retrieval,
        "eval_split": settings.index.eval_split,
        "data_revision": result.data_revision,
        "collection": result.collection,
        "previous_collection": result.previous or "",
        "built": result.built,
    }
    metrics = {
        **scores,
        **{key: float(value) for key, value in result.counts.items()},
        **{f"seconds_{phase}": value for phase, value in result.seconds.items()},
    }
    tags = {
        "collection": result.collection,
        "mlflow.runName": result.collection,
        TAG_RETRIEVAL_EVALUATION: evaluation,
    }
    now = int(time.time() * 1000)
    client = MlflowClient()
    client.log_batch(
        run_id,
        metrics=[Metric(key, float(value), now, 0) for key, value in metrics.items()],
        params=[Param(key, str(value)) for key, value in params.items()],
        tags=[RunTag(key, value) for key, value in tags.items()],
    )
    log_data_input(
        run_id,
        "docs",
        result.data_revision,
        settings.path(settings.prepare.prepared_dir) / "docs.jsonl",
        [],
        context="index",
        project_dir=settings.project_dir,
    )
    client.log_artifact(run_id, str(manifest_path))
    client.log_artifact(run_id, str(metrics_path))
    return run_id
