import json

import pytest

from ragtune.data.load import load_all, load_dataset
from ragtune.data.schema import BEHAVIOUR, DOCS, QA
from ragtune.errors import DataFormatError

DOC = {
    "doc_id": "d1",
    "title": "T",
    "text": "Some text",
    "source": "policy",
    "updated_at": "2026-01-01",
}


def write_lines(path, lines):
    path.write_bytes(b"".join(line if isinstance(line, bytes) else line.encode() for line in lines))


def test_valid_file_loads_and_blank_lines_are_ignored(tmp_path):
    write_lines(tmp_path / "docs.jsonl", [json.dumps(DOC) + "\n", "\n"])
    assert load_dataset(DOCS, tmp_path) == [DOC]


def test_broken_json_line_names_file_and_line(tmp_path):
    write_lines(tmp_path / "docs.jsonl", [json.dumps(DOC) + "\n", '{"doc_id": "d2", "title":\n'])
    with pytest.raises(DataFormatError, match=r"docs\.jsonl:2: broken JSON"):
        load_dataset(DOCS, tmp_path)


def test_wrong_encoding_names_line_and_byte(tmp_path):
    latin1 = json.dumps({**DOC, "text": "café"}, ensure_ascii=False).encode("latin-1")
    write_lines(tmp_path / "docs.jsonl", [json.dumps(DOC) + "\n", latin1 + b"\n"])
    with pytest.raises(DataFormatError, match=r"docs\.jsonl:2: not valid UTF-8.*re-encode"):
        load_dataset(DOCS, tmp_path)


def test_missing_and_mistyped_fields_are_named(tmp_path):
    row = {k: v for k, v in DOC.items() if k != "text"}
    write_lines(tmp_path / "docs.jsonl", [json.dumps(row) + "\n"])
    with pytest.raises(DataFormatError, match=r"docs\.jsonl:1: missing required field 'text'"):
        load_dataset(DOCS, tmp_path)
    qa = {
        "qa_id": "q",
        "question": "?",
        "answer": "!",
        "doc_ids": "d1",
        "split": "dev",
        "kind": "policy",
        "revision": 1,
    }
    write_lines(tmp_path / "qa.jsonl", [json.dumps(qa) + "\n"])
    with pytest.raises(DataFormatError, match=r"field 'doc_ids' should be list, got str"):
        load_dataset(QA, tmp_path)


def test_non_object_line_is_refused(tmp_path):
    write_lines(tmp_path / "docs.jsonl", ["[1, 2]\n"])
    with pytest.raises(DataFormatError, match="expected a JSON object, got list"):
        load_dataset(DOCS, tmp_path)


def test_duplicate_ids_name_both_lines(tmp_path):
    write_lines(tmp_path / "docs.jsonl", [json.dumps(DOC) + "\n"] * 2)
    with pytest.raises(
        DataFormatError, match=r"docs\.jsonl:2: duplicate doc_id 'd1' \(first seen on line 1\)"
    ):
        load_dataset(DOCS, tmp_path)


def test_docs_are_required_but_qa_and_behaviour_are_optional(tmp_path):
    with pytest.raises(DataFormatError, match="docs.jsonl: file not found"):
        load_all(tmp_path)
    write_lines(tmp_path / "docs.jsonl", [json.dumps(DOC) + "\n"])
    data = load_all(tmp_path)
    assert data["qa"] == [] and data["behaviour"] == []
    assert load_dataset(BEHAVIOUR, tmp_path) == []
