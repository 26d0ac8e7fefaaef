"""The line feed prepare writes beside docs.jsonl, and the refresh scan that trusts it only while current."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_index_prepared import doc

from ragtune.config import PrepareConfig
from ragtune.data.feed import feed_path, publish_feed, read_feed, write_jsonl_with_feed
from ragtune.data.load import write_jsonl
from ragtune.data.prepare import prepare
from ragtune.data.schema import DOCS
from ragtune.errors import RetrievalIndexError
from ragtune.index.prepared import scan_prepared_docs


def fed(directory: Path, rows: list[dict]) -> Path:
    path = directory / DOCS.filename
    publish_feed(path, write_jsonl_with_feed(path, rows))
    return path


def test_feed_describes_the_bytes_write_jsonl_writes(tmp_path) -> None:
    rows = [doc("a", "One"), doc("b", "Zwei – drei")]
    write_jsonl(tmp_path / "plain.jsonl", rows)
    path = fed(tmp_path, rows)
    assert path.read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
    feed = read_feed(path)
    assert feed is not None and len(feed.digests) == 2
    start, length = feed.span(1)
    assert path.read_bytes()[start : start + length] == path.read_bytes().split(b"\n")[1]


def test_a_feed_counts_only_while_the_file_is_the_one_it_describes(tmp_path) -> None:
    path = fed(tmp_path, [doc("a", "One")])
    assert read_feed(path) is not None
    data = path.read_bytes()
    path.write_bytes(data.replace(b"One", b"Two"))  # same size, rewritten in place
    assert read_feed(path) is None
    path = fed(tmp_path, [doc("a", "One")])
    replacement = tmp_path / "other.jsonl"
    replacement.write_bytes(data)
    stat = path.stat()
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime
    os.replace(replacement, path)
    assert read_feed(path) is None
    feed_path(path).write_text("{not json", encoding="utf-8")
    assert read_feed(path) is None


def test_scan_with_a_feed_reads_only_the_lines_it_parses(tmp_path, monkeypatch) -> None:
    rows = [doc("a", "One"), doc("b", "  "), doc("c", "Three")]
    path = fed(tmp_path, rows)
    first = scan_prepared_docs(tmp_path, {}, {})
    os.remove(feed_path(path))
    assert scan_prepared_docs(tmp_path, {}, {}).hashes == first.hashes  # no feed: same answer
    assert scan_prepared_docs(tmp_path, {}, {}).lines == first.lines

    path = fed(tmp_path, [doc("a", "One"), doc("c", "Three, edited"), doc("d", "Four")])

    def no_whole_file(self):
        raise AssertionError(f"{self} read whole")

    monkeypatch.setattr(Path, "read_bytes", no_whole_file)
    second = scan_prepared_docs(tmp_path, first.lines, first.hashes)
    assert second.hashes["a"] == first.hashes["a"]
    assert set(second._parsed) == {"c", "d"}
    assert second.docs(["a"]) == [doc("a", "One")]  # read at its offset when asked for


def test_a_file_replaced_during_the_refresh_is_refused(tmp_path) -> None:
    path = fed(tmp_path, [doc("a", "One"), doc("b", "Two")])
    first = scan_prepared_docs(tmp_path, {}, {})
    second = scan_prepared_docs(tmp_path, first.lines, first.hashes)
    path.write_bytes(path.read_bytes().replace(b"One", b"Uno"))
    with pytest.raises(RetrievalIndexError, match=r"docs.jsonl:1: the file changed"):
        second.docs(["a"])


def test_duplicate_ids_are_named_with_a_feed_too(tmp_path) -> None:
    fed(tmp_path, [doc("a", "One"), doc("a", "Again")])
    with pytest.raises(Exception, match=r"docs.jsonl:2: duplicate doc_id 'a'.*line 1"):
        scan_prepared_docs(tmp_path, {}, {})


def test_prepare_publishes_the_feed_outside_the_prepared_folder(tmp_path) -> None:
    raw, prepared = tmp_path / "raw", tmp_path / "prepared"
    write_jsonl(raw / DOCS.filename, [doc("a", "One"), doc("b", "Two")])
    write_jsonl(raw / "qa.jsonl", [])
    write_jsonl(raw / "behaviour.jsonl", [])
    prepare(raw, prepared, PrepareConfig())
    feed = read_feed(prepared / DOCS.filename)
    assert feed is not None and len(feed.digests) == 2
    assert feed_path(prepared / DOCS.filename).parent == tmp_path
    names = sorted(p.name for p in prepared.iterdir())
    assert not any(name.endswith(".feed") for name in names)  # DVC hashes the same data alike


def test_raw_md5s_are_reused_only_for_files_whose_stat_is_unchanged(tmp_path, monkeypatch) -> None:
    import ragtune.data.versioning as versioning

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "docs.jsonl").write_text("one\n", encoding="utf-8")
    (raw / "qa.jsonl").write_text("two\n", encoding="utf-8")
    first = versioning.file_md5s(raw)
    assert (tmp_path / ".raw.md5.json").exists()
    read: list[str] = []
    original = versioning._md5
    monkeypatch.setattr(versioning, "_md5", lambda path: read.append(path.name) or original(path))
    assert versioning.file_md5s(raw) == first and read == []
    (raw / "qa.jsonl").write_text("TWO\n", encoding="utf-8")  # same size, new content
    second = versioning.file_md5s(raw)
    assert read == ["qa.jsonl"] and second["qa.jsonl"] != first["qa.jsonl"]
    assert second["docs.jsonl"] == first["docs.jsonl"]
    (tmp_path / ".raw.md5.json").write_text("[broken", encoding="utf-8")
    assert versioning.file_md5s(raw) == second  # an unreadable cache is rebuilt


def test_many_lines_are_read_from_one_read_of_the_file(tmp_path, monkeypatch) -> None:
    from ragtune.index import prepared as prepared_module

    monkeypatch.setattr(prepared_module._FeedLines, "SINGLE_READS", 2)
    rows = [doc(f"d{i}", f"Text {i}") for i in range(6)]
    fed(tmp_path, rows)
    scanned = scan_prepared_docs(tmp_path, {}, {})
    assert scanned.docs([f"d{i}" for i in range(6)]) == rows
    assert scanned.read_line.data is not None  # switched to one whole read
