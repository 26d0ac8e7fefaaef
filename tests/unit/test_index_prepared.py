"""Reading prepared docs for a refresh: lines the previous version held are not parsed again."""

from __future__ import annotations

import json

import pytest

from ragtune.data.load import load_dataset
from ragtune.data.schema import DOCS
from ragtune.errors import DataFormatError
from ragtune.index.diff import doc_hash
from ragtune.index.prepared import scan_prepared_docs


def write(path, rows, extra: str = "") -> None:
    lines = [json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


def doc(doc_id: str, text: str) -> dict:
    return {
        "doc_id": doc_id,
        "title": f"T {doc_id}",
        "text": text,
        "source": "policy",
        "updated_at": "2026-11-28",
    }


def test_same_ids_and_hashes_as_the_full_loader_and_known_lines_are_not_parsed(tmp_path) -> None:
    write(tmp_path / DOCS.filename, [doc("a", "One"), doc("b", "  "), doc("c", "Three")])
    first = scan_prepared_docs(tmp_path, {}, {})
    expected = {
        row["doc_id"]: doc_hash(row) for row in load_dataset(DOCS, tmp_path) if row["text"].strip()
    }
    assert first.hashes == expected  # "b" has no text to index
    assert [row["doc_id"] for row in first.docs(["c", "a"])] == ["a", "c"]  # file order

    write(tmp_path / DOCS.filename, [doc("a", "One"), doc("c", "Three, edited")])
    second = scan_prepared_docs(tmp_path, first.lines, first.hashes)
    assert second.hashes["a"] == first.hashes["a"]
    assert second.hashes["c"] == doc_hash(doc("c", "Three, edited"))
    assert set(second._parsed) == {"c"}  # "a" came from the known lines
    assert second.docs(["a"]) == [doc("a", "One")]  # parsed only when asked for


def test_bad_lines_name_the_file_and_line(tmp_path) -> None:
    path = tmp_path / DOCS.filename
    write(path, [doc("a", "One")], extra="{broken\n")
    with pytest.raises(DataFormatError, match=r"docs.jsonl:2: broken JSON"):
        scan_prepared_docs(tmp_path, {}, {})
    write(path, [doc("a", "One"), {**doc("b", ""), "text": None}])
    with pytest.raises(DataFormatError, match=r"docs.jsonl:2: missing required field 'text'"):
        scan_prepared_docs(tmp_path, {}, {})
    write(path, [doc("a", "One"), doc("a", "Again")])
    with pytest.raises(DataFormatError, match=r"docs.jsonl:2: duplicate doc_id 'a'.*line 1"):
        scan_prepared_docs(tmp_path, {}, {})
    path.write_bytes(b'{"doc_id": "\xff"}\n')
    with pytest.raises(DataFormatError, match=r"docs.jsonl:1: not valid UTF-8"):
        scan_prepared_docs(tmp_path, {}, {})


def test_a_duplicate_of_a_known_line_is_still_refused(tmp_path) -> None:
    write(tmp_path / DOCS.filename, [doc("a", "One")])
    known = scan_prepared_docs(tmp_path, {}, {})
    write(tmp_path / DOCS.filename, [doc("a", "One"), doc("a", "One")])
    with pytest.raises(DataFormatError, match=r"duplicate doc_id 'a'"):
        scan_prepared_docs(tmp_path, known.lines, known.hashes)
