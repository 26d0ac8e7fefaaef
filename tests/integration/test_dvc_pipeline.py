"""Real DVC in a temp git repo: snapshot, `dvc repro validate`, failures on bad data."""

import json
import subprocess
import sys

import pytest

from ragtune.data.generate import GeneratorSpec, write_corpus
from ragtune.data.versioning import data_revision, snapshot

pytestmark = pytest.mark.slow


def dvc(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True
    )


def git(project, *args):
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def edit_raw(project, name, edit):
    path = project / "data" / "raw" / f"{name}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def test_snapshot_repro_status_and_bad_data(dvc_project):
    raw_dir = dvc_project / "data" / "raw"
    revision = snapshot(dvc_project, raw_dir)
    assert revision.snapshotted and len(revision.id) == 12
    assert set(revision.files) == {"docs.jsonl", "qa.jsonl", "behaviour.jsonl"}
    assert (dvc_project / "data" / "raw.dvc").exists()
    assert any((dvc_project / "storage").rglob("*.dir")), "pushed to the local remote"
    git(dvc_project, "add", "-A")
    git(dvc_project, "commit", "-qm", "snapshot")

    result = dvc(dvc_project, "repro", "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation PASSED" in result.stdout
    status = dvc(dvc_project, "status", "validate")
    assert "up to date" in status.stdout, status.stdout

    # A duplicate id stops the pipeline before GX, naming file and line.
    edit_raw(dvc_project, "docs", lambda lines: [*lines, lines[0]])
    result = dvc(dvc_project, "repro", "validate")
    assert result.returncode != 0
    assert "duplicate doc_id" in result.stderr and "docs.jsonl:61" in result.stderr

    # A broken JSON line: same, with the line.
    edit_raw(dvc_project, "docs", lambda lines: [*lines[:60], '{"doc_id": "x", "title": \n'])
    result = dvc(dvc_project, "repro", "validate")
    assert result.returncode != 0 and "docs.jsonl:61: broken JSON" in result.stderr

    # An empty doc and a QA row citing a missing doc: GX fails with a report.
    def empty_first_doc(lines):
        first = json.loads(lines[0])
        first["text"] = ""
        return [json.dumps(first) + "\n", *lines[1:60]]

    edit_raw(dvc_project, "docs", empty_first_doc)

    def cite_missing(lines):
        row = json.loads(lines[0])
        row["doc_ids"] = ["prod-99999"]
        return [json.dumps(row) + "\n", *lines[1:]]

    edit_raw(dvc_project, "qa", cite_missing)
    result = dvc(dvc_project, "repro", "validate")
    assert result.returncode != 0
    assert "validation FAILED" in result.stdout
    assert "docs.text" in result.stdout and "qa_citations.doc_id" in result.stdout
    assert "prod-99999" in result.stdout
    assert (dvc_project / "data" / "quarantine" / "qa.jsonl").exists()

    # `dvc repro` records edited raw data as it does for any changed .dvc dependency, but the
    # committed snapshot stays in the cache: git + dvc checkout bring the good data back.
    git(dvc_project, "checkout", "data/raw.dvc")
    checkout = dvc(dvc_project, "checkout", "--force", "data/raw.dvc")
    assert checkout.returncode == 0, checkout.stderr
    assert data_revision(dvc_project, raw_dir).id == revision.id


def test_new_revision_is_a_new_data_revision(dvc_project):
    raw_dir = dvc_project / "data" / "raw"
    first = snapshot(dvc_project, raw_dir, push=False)
    write_corpus(GeneratorSpec(seed=7, revision=2, docs=60), raw_dir)
    wip = data_revision(dvc_project, raw_dir)
    assert not wip.snapshotted and wip.id.startswith("wip-")
    second = snapshot(dvc_project, raw_dir, push=False)
    assert second.id != first.id and second.snapshotted
    assert set(second.changed_files(first)) == {"docs.jsonl", "qa.jsonl", "behaviour.jsonl"}


def test_revision_respects_a_cache_dir_elsewhere_and_says_why_wip(dvc_project, tmp_path):
    cache = tmp_path / "shared-dvc-cache"
    result = dvc(dvc_project, "cache", "dir", str(cache))
    assert result.returncode == 0, result.stderr
    raw_dir = dvc_project / "data" / "raw"
    revision = snapshot(dvc_project, raw_dir, push=False)
    assert revision.snapshotted and revision.reason == ""
    assert any(cache.rglob("*.dir")) and not (dvc_project / ".dvc" / "cache").exists()
    assert set(revision.files) == {"docs.jsonl", "qa.jsonl", "behaviour.jsonl"}
    assert data_revision(dvc_project, raw_dir) == revision

    edit_raw(dvc_project, "qa", lambda lines: lines[:-1])
    wip = data_revision(dvc_project, raw_dir)
    assert wip.id.startswith("wip-") and not wip.snapshotted
    assert "differs from raw.dvc" in wip.reason and "qa.jsonl" in wip.reason
    assert wip.changed_files(revision) == ["qa.jsonl"]
