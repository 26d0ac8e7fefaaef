"""Importing a user's own questions: references resolved, splits by document, bad rows refused."""

import json

import pytest

from ragtune.data.importer.qa import QaImportOptions, import_qa, parse_qa_column_map
from ragtune.errors import DataFormatError

TEXT = "A document long enough for validation, about topic {}."


@pytest.fixture
def raw_dir(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    docs = [
        {"doc_id": f"doc-{n}", "title": f"T{n}", "text": TEXT.format(n), "source": "import",
         "updated_at": "2024-01-01T00:00:00Z", "path": f"guides/doc{n}.md"}
        for n in range(40)
    ]  # fmt: skip
    docs.append({**docs[0], "doc_id": "doc-0:p2", "text": TEXT.format("0b")})
    (raw / "docs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in docs))
    return raw


def written(raw_dir):
    return [json.loads(line) for line in (raw_dir / "qa.jsonl").open()]


def test_csv_with_paths_and_ids_resolves_every_reference(raw_dir, tmp_path):
    qa_file = tmp_path / "questions.csv"
    qa_file.write_text(
        "question,answer,sources,split\n"
        "What about doc 1?,Topic 1.,guides/doc1.md,dev\n"
        'What about docs 2 and 3?,Topics 2 and 3.,"doc-2; ./guides/doc3.md",\n'
        "What about doc 0?,Topic 0.,guides/doc0.md,test\n"
    )
    counts = import_qa(qa_file, raw_dir)
    rows = written(raw_dir)
    assert [row["doc_ids"] for row in rows] == [
        ["doc-1"],
        ["doc-2", "doc-3"],
        ["doc-0", "doc-0:p2"],
    ]
    assert rows[0]["split"] == "dev" and rows[2]["split"] == "test"
    assert {row["kind"] for row in rows} == {"user"}
    assert all(row["qa_id"].startswith("user-") for row in rows)
    assert sum(counts.values()) == 3


def test_default_split_is_by_document_and_stable(raw_dir, tmp_path):
    qa_file = tmp_path / "questions.jsonl"
    lines = [
        {"question": f"Question {k} on doc {k % 20}?", "answer": "An answer.", "doc_ids": [f"doc-{k % 20}"]}
        for k in range(60)
    ]  # fmt: skip
    qa_file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    counts = import_qa(qa_file, raw_dir, QaImportOptions(dev_share=0.3, test_share=0.3))
    first = written(raw_dir)
    split_of_doc = {}
    for row in first:
        assert split_of_doc.setdefault(row["doc_ids"][0], row["split"]) == row["split"]
    assert all(counts[split] > 0 for split in ("train", "dev", "test"))
    import_qa(qa_file, raw_dir, QaImportOptions(dev_share=0.3, test_share=0.3))
    assert written(raw_dir) == first


def test_questions_citing_shared_docs_share_a_split(raw_dir, tmp_path):
    qa_file = tmp_path / "q.jsonl"
    rows = [
        {"question": "A?", "answer": "a", "doc_ids": ["doc-5"], "split": "test"},
        {"question": "B?", "answer": "b", "doc_ids": ["doc-5", "doc-6"]},
        {"question": "C?", "answer": "c", "doc_ids": ["doc-6"]},
    ]
    qa_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    import_qa(qa_file, raw_dir)
    assert [row["split"] for row in written(raw_dir)] == ["test", "test", "test"]


def test_unknown_sources_are_refused_with_file_and_line_and_nothing_written(raw_dir, tmp_path):
    qa_file = tmp_path / "questions.csv"
    qa_file.write_text(
        "question,answer,doc_ids\n"
        "Fine?,Yes.,doc-1\n"
        "Missing?,No.,guides/missing.md\n"
        "Empty answer?,,doc-2\n"
        "No refs?,None.,\n"
    )
    with pytest.raises(DataFormatError) as error:
        import_qa(qa_file, raw_dir)
    message = str(error.value)
    assert f"{qa_file}:3: cites 'guides/missing.md'" in message
    assert f"{qa_file}:4: empty answer" in message
    assert f"{qa_file}:5: cites no document" in message
    assert "3 rows refused" in message
    assert not (raw_dir / "qa.jsonl").exists()


def test_train_question_on_a_held_out_document_is_refused(raw_dir, tmp_path):
    qa_file = tmp_path / "q.jsonl"
    rows = [
        {"question": "A?", "answer": "a", "doc_ids": ["doc-7"], "split": "dev"},
        {"question": "B?", "answer": "b", "doc_ids": ["doc-7"], "split": "train"},
    ]
    qa_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(
        DataFormatError, match=r"q.jsonl:2: split 'train'.*'dev' question \(line 1\)"
    ):
        import_qa(qa_file, raw_dir)


def test_bad_split_duplicate_and_broken_lines(raw_dir, tmp_path):
    qa_file = tmp_path / "q.jsonl"
    qa_file.write_text(
        json.dumps({"id": "x", "question": "A?", "answer": "a", "doc_ids": ["doc-1"]}) + "\n"
        + json.dumps({"id": "x", "question": "B?", "answer": "b", "doc_ids": ["doc-1"]}) + "\n"
        + "{not json\n"
        + json.dumps({"question": "C?", "answer": "c", "doc_ids": ["doc-1"], "split": "val"}) + "\n"
    )  # fmt: skip
    with pytest.raises(DataFormatError) as error:
        import_qa(qa_file, raw_dir)
    message = str(error.value)
    assert "q.jsonl:2: duplicate qa_id/question 'x' (line 1)" in message
    assert "q.jsonl:3: broken JSON" in message
    assert "q.jsonl:4: split 'val' is not one of train, dev, test" in message


def test_column_mapping_and_missing_columns(raw_dir, tmp_path):
    qa_file = tmp_path / "q.csv"
    qa_file.write_text("prompt,expected,refs\nWhat is 3?,Topic 3.,doc-3\n")
    with pytest.raises(DataFormatError, match="no column for question, answer, doc_ids"):
        import_qa(qa_file, raw_dir)
    mapping = parse_qa_column_map(["question=prompt", "answer=expected", "doc_ids=refs"])
    import_qa(qa_file, raw_dir, QaImportOptions(column_map=mapping))
    assert written(raw_dir)[0]["question"] == "What is 3?"
    with pytest.raises(DataFormatError, match="FIELD=COLUMN"):
        parse_qa_column_map(["nonsense"])


def test_needs_an_imported_corpus(tmp_path):
    qa_file = tmp_path / "q.csv"
    qa_file.write_text("question,answer,doc_ids\nA?,a,doc-1\n")
    with pytest.raises(DataFormatError, match="run `ragtune data import FOLDER` first"):
        import_qa(qa_file, tmp_path / "empty")
