"""Incremental refresh on the real embedded engines and MLflow: edits, deletes, renames, GC."""

from __future__ import annotations

import json
import shutil

import mlflow
import pytest
from index_support import (
    collections,
    points_behind,
    raw_docs,
    set_index_params,
    write_docs_and_prepare,
)

from ragtune import tracking
from ragtune.index import manifest, store
from ragtune.index.chunk import chunk_documents
from ragtune.index.embed import load_embedder, load_tokenizer
from ragtune.index.query import evaluate_retrieval, query_index
from ragtune.index.refresh import refresh_index
from ragtune.index.report import log_index_build
from ragtune.tracking import EXPERIMENT_INDEX

pytestmark = pytest.mark.slow

EDIT = " A late amendment: the Orvelle lounge now closes at nine on Fridays."


@pytest.fixture(scope="module")
def embedder():
    from ragtune.config import IndexConfig

    return load_embedder(IndexConfig())


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_refresh_replaces_edited_deleted_renamed_docs(demo_project, embedder, engine) -> None:
    settings = set_index_params(demo_project, chunk_size=128, chunk_overlap=16, engine=engine)
    first = refresh_index(settings, show_progress=False, embedder=embedder)
    assert first.built and first.previous is None
    assert first.counts["chunks_embedded"] == first.counts["chunks_total"] > 60

    tokenizer = load_tokenizer(settings.index)
    docs = raw_docs(settings)
    sizes = {c.doc_id: c.position + 1 for c in chunk_documents(docs, tokenizer, 128, 16)}
    edited, deleted, renamed = [d for d in docs if sizes[d["doc_id"]] >= 3][:3]
    old_first_collection, old_points = points_behind(settings, "ragtune-staging")
    old_edited_ids = {p.id for p in old_points if p.payload["doc_id"] == edited["doc_id"]}

    edited["text"] += EDIT
    docs.remove(deleted)
    renamed["doc_id"] += "-renamed"
    write_docs_and_prepare(settings, docs)
    second = refresh_index(settings, show_progress=False, embedder=embedder)

    collection, points = points_behind(settings, "ragtune-staging")
    assert collection == second.collection != first.collection
    assert old_first_collection in collections(settings)  # kept for rollback, not behind the alias
    doc_ids = {p.payload["doc_id"] for p in points}
    assert deleted["doc_id"] not in doc_ids
    assert (
        renamed["doc_id"].removesuffix("-renamed") not in doc_ids and renamed["doc_id"] in doc_ids
    )

    expected = chunk_documents(docs, tokenizer, 128, 16)
    assert sorted(p.id for p in points) == sorted(c.chunk_id for c in expected)
    edited_now = {
        p.id: p.payload["text"] for p in points if p.payload["doc_id"] == edited["doc_id"]
    }
    assert any(EDIT.strip() in text for text in edited_now.values())
    assert (
        0 < len(old_edited_ids & set(edited_now)) < len(old_edited_ids)
    )  # head kept, tail replaced

    old_hashes = {p.payload["content_hash"] for p in old_points}
    new_texts = {c.content_hash for c in expected} - old_hashes
    assert (
        second.counts["chunks_embedded"] == len(new_texts) > 0
    )  # renamed doc: reused, not embedded
    assert second.counts["docs_renamed"] == 1 and second.counts["docs_updated"] == 1
    assert second.counts["docs_deleted"] == 2 and second.counts["docs_added"] == 1
    assert second.counts["chunks_total"] == len(points)
    # Started as a copy of the first collection: only new chunks went through Python.
    assert second.counts["points_written"] == second.counts["chunks_added"]
    assert second.counts["points_copied_by_engine"] == second.counts["chunks_unchanged"] > 0

    third = refresh_index(settings, show_progress=False, embedder=embedder)
    assert not third.built and third.collection == second.collection
    assert third.counts["chunks_embedded"] == 0

    hits = query_index(settings, edited["title"], k=3)
    assert len(hits) == 3 and all(hit.doc_id in doc_ids for hit in hits)

    scores = evaluate_retrieval(settings, embedder=embedder)
    assert scores["recall_at_5"] > 0.5 and 0 < scores["ndcg_at_10"] <= 1
    with tracking.stage_run(
        tracking.EXPERIMENT_INDEX, "index", second.data_revision, settings.project_dir
    ) as active:
        run_id = log_index_build(settings, active.info.run_id, second, scores, "scored")
    run = mlflow.get_run(run_id)
    assert run.data.params["collection"] == second.collection
    assert run.data.params["chunk_size"] == "128"
    assert run.data.metrics["chunks_embedded"] == len(new_texts)
    assert run.data.metrics["recall_at_5"] == scores["recall_at_5"]
    assert "seconds_embed" in run.data.metrics
    assert mlflow.get_experiment(run.info.experiment_id).name == EXPERIMENT_INDEX
    artifact = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="manifest.json")
    with open(artifact, encoding="utf-8") as handle:
        logged = json.load(handle)
    assert logged["collection"] == second.collection
    assert set(logged["docs"]) == doc_ids


def test_gc_keeps_newest_and_released_and_drops_orphans(demo_project, embedder) -> None:
    settings = set_index_params(demo_project, keep_collections=1)
    docs = raw_docs(settings)[:6]
    write_docs_and_prepare(settings, docs)
    first = refresh_index(settings, show_progress=False, embedder=embedder)
    releases = demo_project / "releases"
    releases.mkdir()
    (releases / "current.json").write_text(json.dumps({"collection": first.collection}))

    names = [first.collection]
    for round_number in range(2):
        docs[0]["text"] += f" Revision note {round_number}."
        write_docs_and_prepare(settings, docs)
        names.append(refresh_index(settings, show_progress=False, embedder=embedder).collection)
    assert collections(settings) == sorted([names[0], names[2]])

    # A refresh killed while writing leaves a collection recorded as building: the next one drops it.
    manifest_path = settings.path(settings.index.manifest_path)
    with manifest.open_manifest(manifest_path) as db, store.open_store(settings) as client:
        store.create_collection(client, "ragtune-orphan-99", 384)
        manifest.record_collection(db, "ragtune-orphan-99", "orphan", {}, [])
    docs[1]["text"] += " One more change."
    write_docs_and_prepare(settings, docs)
    last = refresh_index(settings, show_progress=False, embedder=embedder)
    assert "ragtune-orphan-99" not in collections(settings)
    assert collections(settings) == sorted([names[0], last.collection])


def test_lost_manifest_recovers_vectors_from_qdrant(demo_project, embedder) -> None:
    settings = set_index_params(demo_project)
    docs = raw_docs(settings)[:8]
    write_docs_and_prepare(settings, docs)
    first = refresh_index(settings, show_progress=False, embedder=embedder)
    settings.path(settings.index.manifest_path).unlink()
    docs[0]["text"] += " A sentence nobody has embedded yet."
    write_docs_and_prepare(settings, docs)
    second = refresh_index(settings, show_progress=False, embedder=embedder)
    assert second.previous == first.collection
    assert second.counts["chunks_embedded"] == 1
    assert second.counts["chunks_unchanged"] == first.counts["chunks_total"] - 1


def test_lost_qdrant_store_rebuilds_from_vector_cache(demo_project, embedder) -> None:
    settings = set_index_params(demo_project)
    write_docs_and_prepare(settings, raw_docs(settings)[:8])
    first = refresh_index(settings, show_progress=False, embedder=embedder)
    shutil.rmtree(settings.path(settings.index.qdrant_path))
    again = refresh_index(settings, show_progress=False, embedder=embedder)
    assert again.built and again.previous is None
    assert again.counts["chunks_embedded"] == 0
    assert again.counts["chunks_reused"] == first.counts["chunks_total"]
    collection, points = points_behind(settings, settings.index.staging_alias)
    assert collection == again.collection and len(points) == first.counts["chunks_total"]
    with manifest.open_manifest(settings.path(settings.index.manifest_path)) as db:
        assert manifest.recorded_collections(db) == {again.collection}


def test_a_prepared_file_edited_after_prepare_is_read_whole(demo_project, embedder) -> None:
    """prepare's line feed names the changed lines; a hand edit after it makes it stale."""
    from ragtune.data.feed import read_feed
    from ragtune.data.schema import DOCS

    settings = set_index_params(demo_project)
    docs = raw_docs(settings)[:8]
    write_docs_and_prepare(settings, docs)
    prepared = settings.path(settings.prepare.prepared_dir) / DOCS.filename
    assert read_feed(prepared) is not None
    first = refresh_index(settings, show_progress=False, embedder=embedder)
    docs[1]["text"] += EDIT
    write_docs_and_prepare(settings, docs)  # the feed names line 2 as new
    second = refresh_index(settings, show_progress=False, embedder=embedder)
    assert second.counts["docs_updated"] == 1 and second.counts["docs_unchanged"] == 7
    lines = prepared.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[4])
    edited["text"] += " Edited by hand after prepare."
    lines[4] = json.dumps(edited, ensure_ascii=False)
    prepared.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_feed(prepared) is None  # stale: the file changed after the feed was written
    third = refresh_index(settings, show_progress=False, embedder=embedder)
    assert third.counts["docs_updated"] == 1 and third.counts["docs_unchanged"] == 7
    _, points = points_behind(settings, settings.index.staging_alias)
    texts = " ".join(p.payload["text"] for p in points if p.payload["doc_id"] == edited["doc_id"])
    assert "Edited by hand after prepare." in texts
    assert first.collection != second.collection != third.collection
