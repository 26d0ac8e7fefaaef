import json
from collections import defaultdict

import pytest

from ragtune.data.generate import GeneratorSpec, build_corpus, write_corpus

CITATION = "[doc:"


def read(directory, name):
    return [json.loads(line) for line in (directory / f"{name}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def revisions(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    for revision in (1, 2):
        write_corpus(GeneratorSpec(seed=11, revision=revision, docs=320), base / f"r{revision}")
    return base


def test_same_spec_gives_byte_identical_files(tmp_path):
    spec = GeneratorSpec(seed=3, revision=2, docs=60)
    write_corpus(spec, tmp_path / "a")
    write_corpus(spec, tmp_path / "b")
    for name in ("docs", "qa", "behaviour"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (
            tmp_path / "b" / f"{name}.jsonl"
        ).read_bytes()
    write_corpus(GeneratorSpec(seed=4, revision=2, docs=60), tmp_path / "c")
    assert (tmp_path / "a" / "docs.jsonl").read_bytes() != (
        tmp_path / "c" / "docs.jsonl"
    ).read_bytes()


def test_default_size_meets_the_floor(revisions):
    docs, qa = read(revisions / "r1", "docs"), read(revisions / "r1", "qa")
    assert len(docs) >= 300 and len(qa) >= 500
    assert {doc["source"] for doc in docs} == {"product", "policy", "glossary", "procedure"}
    doc_text = {doc["doc_id"]: doc["text"] for doc in docs}
    # Every QA row cites a document that exists in the same revision.
    for row in qa:
        assert row["doc_ids"][0] in doc_text


def test_splits_are_by_document_and_behaviour_is_train_only(revisions):
    qa = read(revisions / "r2", "qa")
    splits_per_doc = defaultdict(set)
    for row in qa:
        splits_per_doc[row["doc_ids"][0]].add(row["split"])
    assert all(len(splits) == 1 for splits in splits_per_doc.values())
    train_docs = {doc for doc, splits in splits_per_doc.items() if splits == {"train"}}
    behaviour = read(revisions / "r2", "behaviour")
    assert behaviour and all(row["doc_ids"][0] in train_docs for row in behaviour)
    assert all(row["answer"].endswith(f"[doc:{row['doc_ids'][0]}]") for row in behaviour)


def test_revision_two_changes_facts_and_adds_retires_renames(revisions):
    docs1 = {d["doc_id"]: d for d in read(revisions / "r1", "docs")}
    docs2 = {d["doc_id"]: d for d in read(revisions / "r2", "docs")}
    qa1 = {q["qa_id"]: q for q in read(revisions / "r1", "qa")}
    qa2 = {q["qa_id"]: q for q in read(revisions / "r2", "qa")}
    kept = set(qa1) & set(qa2)
    changed = [q for q in kept if qa1[q]["answer"] != qa2[q]["answer"]]
    assert 0.05 <= len(changed) / len(qa1) <= 0.10
    assert all(qa2[q]["revision"] == 2 for q in changed)
    assert all(qa2[q]["revision"] == 1 for q in kept if q not in changed)
    removed, added = set(docs1) - set(docs2), set(docs2) - set(docs1)
    texts1 = {d["text"]: doc_id for doc_id, d in docs1.items()}
    renamed = {doc_id for doc_id in added if docs2[doc_id]["text"] in texts1}
    retired = removed - {texts1[docs2[doc_id]["text"]] for doc_id in renamed}
    assert renamed, "some docs get a new id with the same content"
    assert retired, "some docs are retired"
    assert added - renamed, "some docs are new"
    # QA of a renamed doc follows it to the new id and keeps its original revision.
    renamed_qa = [q for q in qa2.values() if q["doc_ids"][0] in renamed]
    assert renamed_qa and all(q["revision"] == 1 for q in renamed_qa)


def test_evolution_replays_deterministically():
    spec = GeneratorSpec(seed=5, revision=3, docs=40)
    first, second = build_corpus(spec), build_corpus(spec)
    assert [e.doc_id for e in first.live()] == [e.doc_id for e in second.live()]
    assert any(f.revision == 3 for e in first.live() for f in e.facts)
