"""Folder import: every format lands in docs.jsonl, bad files are listed, re-imports are exact."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from ragtune.data.importer import docs as docs_module
from ragtune.data.importer.docs import import_folder
from ragtune.data.importer.folder import ImportOptions
from ragtune.data.importer.manifest import path_doc_id

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "corpus"
FAQ_MAP = {"doc_id": "key", "title": "heading", "text": "answer_text", "updated_at": "changed"}
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def options(**overrides):
    return ImportOptions(column_map=FAQ_MAP, progress=False, **overrides)


def rows(raw_dir):
    lines = (raw_dir / "docs.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["doc_id"]: row for row in map(json.loads, lines)}


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(CORPUS, folder)
    return folder


def test_every_format_arrives_and_bad_files_are_listed(source, tmp_path):
    raw_dir = tmp_path / "raw"
    report = import_folder(source, raw_dir, options())
    docs = rows(raw_dir)
    by_path = {}
    for row in docs.values():
        by_path.setdefault(row["path"], []).append(row)
    assert set(by_path) == {
        "guides/getting-started.md",
        "guides/troubleshooting.md",
        "manuals/pump-manual.pdf",
        "notes/cafe-latin1.txt",
        "reference/config.rst",
        "tables/faq.csv",
        "tables/glossary.jsonl",
        "web/warranty.html",
    }
    assert all(DOC_ID.match(doc_id) for doc_id in docs)
    assert {row["source"] for row in docs.values()} == {"import"}
    assert docs[path_doc_id("notes/cafe-latin1.txt")]["title"] == "Cafe latin1"
    assert "crêpe brûlée" in docs[path_doc_id("notes/cafe-latin1.txt")]["text"]
    assert docs["faq-2"]["title"] == "Can it run dry?"
    assert docs["faq-2"]["updated_at"] == "2024-01-11T00:00:00Z"
    assert docs["term-seal"]["text"].startswith("Mechanical seal: the ring")
    assert "SHOULD-NOT-APPEAR" not in (raw_dir / "docs.jsonl").read_text(encoding="utf-8")
    skipped = [json.loads(line) for line in (raw_dir / "import_skipped.jsonl").open()]
    assert {row["path"]: row["reason"].split(" (")[0] for row in skipped} == {
        "binary.md": "binary content",
        "empty.md": "empty file",
        "manuals/broken.pdf": "broken PDF",
        "manuals/locked.pdf": "encrypted PDF",
    }
    assert report.ignored == {".png": 1}
    assert report.changes.counts() == {
        "added": 10,
        "changed": 0,
        "removed": 0,
        "renamed": 0,
        "unchanged": 0,
    }


def test_reimport_reports_exactly_the_edits_additions_deletions_and_renames(source, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(source, raw_dir, options())
    before = rows(raw_dir)
    (source / "guides" / "troubleshooting.md").write_text(
        "Troubleshooting the flow sensor\n===\n\nError E43 now means the sensor is missing.\n",
        encoding="utf-8",
    )
    (source / "reference" / "config.rst").unlink()
    os.replace(source / "notes" / "cafe-latin1.txt", source / "notes" / "cafe.txt")
    (source / "guides" / "new.md").write_text(
        "# Winter storage\n\nDrain the pump completely before frost.", encoding="utf-8"
    )
    (source / "tables" / "glossary.jsonl").write_text(
        '{"id": "term-impeller", "title": "Impeller", "text": "Impeller: the rotating part '
        'that moves the liquid; replace it when the vanes are worn."}\n',
        encoding="utf-8",
    )
    (source / "web" / "warranty.html").touch()  # a new mtime, the same bytes
    report = import_folder(source, raw_dir, options())
    changes = report.changes
    assert changes.changed == [path_doc_id("guides/troubleshooting.md")]
    assert changes.added == [path_doc_id("guides/new.md")]
    assert changes.removed == sorted([path_doc_id("reference/config.rst"), "term-seal"])
    assert changes.renamed == [
        (path_doc_id("notes/cafe-latin1.txt"), path_doc_id("notes/cafe.txt"))
    ]
    assert changes.unchanged == 6
    after = rows(raw_dir)
    for doc_id in ("faq-1", "faq-2", "term-impeller", path_doc_id("web/warranty.html")):
        assert after[doc_id] == before[doc_id]
    assert after[path_doc_id("notes/cafe.txt")]["path"] == "notes/cafe.txt"
    manifest = [json.loads(line) for line in (raw_dir / "import_manifest.jsonl").open()]
    assert [entry["path"] for entry in manifest] == sorted(entry["path"] for entry in manifest)
    assert "reference/config.rst" not in {entry["path"] for entry in manifest}

    unchanged = import_folder(source, raw_dir, options())
    assert unchanged.changes.counts()["unchanged"] == unchanged.docs == 9


def test_a_rename_with_edits_is_a_removal_and_an_addition(source, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(source, raw_dir, options())
    old = source / "guides" / "troubleshooting.md"
    (source / "guides" / "flow.md").write_text(old.read_text() + "\nAlso check the valve.\n")
    old.unlink()
    changes = import_folder(source, raw_dir, options()).changes
    assert changes.added == [path_doc_id("guides/flow.md")]
    assert changes.removed == [path_doc_id("guides/troubleshooting.md")]
    assert changes.renamed == []


def test_a_file_that_turns_bad_is_removed_and_reported_nothing_else_lost(source, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(source, raw_dir, options())
    (source / "manuals" / "pump-manual.pdf").write_bytes(b"%PDF-1.4\n% truncated")
    report = import_folder(source, raw_dir, options())
    assert report.changes.removed == [path_doc_id("manuals/pump-manual.pdf")]
    assert report.changes.unchanged == 9
    assert "manuals/pump-manual.pdf" in dict(report.skipped)


def test_an_interrupted_import_leaves_the_previous_corpus(source, tmp_path, monkeypatch):
    raw_dir = tmp_path / "raw"
    import_folder(source, raw_dir, options())
    before = {name: (raw_dir / name).read_bytes() for name in os.listdir(raw_dir)}
    (source / "guides" / "new.md").write_text("# New\n\n" + "fresh text " * 10)

    def explode(path, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(docs_module, "read_document", explode)
    with pytest.raises(KeyboardInterrupt):
        import_folder(source, raw_dir, options())
    assert {name: (raw_dir / name).read_bytes() for name in os.listdir(raw_dir)} == before


def test_long_documents_are_split_and_short_ones_skipped(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    paragraph = "The valve opens at two bar and closes again below one bar. " * 8
    (source / "long.md").write_text("# Valves\n\n" + "\n\n".join([paragraph] * 12))
    (source / "tiny.txt").write_text("too short")
    raw_dir = tmp_path / "raw"
    report = import_folder(source, raw_dir, ImportOptions(max_chars=2000, progress=False))
    docs = rows(raw_dir)
    base = path_doc_id("long.md")
    assert list(docs) == [base, *(f"{base}:p{n}" for n in range(2, len(docs) + 1))]
    assert all(len(row["text"]) <= 2000 for row in docs.values())
    assert docs[f"{base}:p2"]["title"] == "Valves (part 2)"
    assert dict(report.skipped) == {
        "tiny.txt": "too short: 9 characters (validate.min_doc_chars is 40)"
    }


def test_tables_map_columns_and_skip_bad_rows(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    text = "A sufficiently long body of text for the validation rules, row {}."
    (source / "a.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"id": "x-1", "body": text.format(1)}),
                "{broken",
                json.dumps({"id": "x-2", "body": ""}),
                json.dumps({"id": "x-1", "body": text.format(4)}),
                json.dumps({"id": "has space/slash", "body": text.format(5)}),
            ]
        )
    )
    (source / "b.csv").write_text('title,content\nNo id,"' + text.format(6) + '"\n')
    raw_dir = tmp_path / "raw"
    report = import_folder(
        source, raw_dir, ImportOptions(column_map={"text": "body"}, progress=False)
    )
    docs = rows(raw_dir)
    file_a, file_b = path_doc_id("a.jsonl"), path_doc_id("b.csv")
    assert set(docs) == {"x-1", f"{file_a}:has-space-slash", f"{file_b}:r1"}
    assert docs[f"{file_b}:r1"]["title"] == "No id"
    assert docs["x-1"]["title"] == "A x-1" and docs["x-1"]["text"].endswith("row 1.")
    reasons = [reason for path, reason in report.skipped if path == "a.jsonl"]
    assert reasons[0].startswith("line 2: broken JSON")
    assert reasons[1] == "line 3: empty 'body' column"
    assert reasons[2].startswith("duplicate doc_id 'x-1'")


def test_globs_and_excludes_select_files(source, tmp_path):
    raw_dir = tmp_path / "raw"
    report = import_folder(
        source, raw_dir, options(globs=("**/*.md", "*.html"), excludes=("guides/new*", "empty.md"))
    )
    assert {row["path"] for row in rows(raw_dir).values()} == {
        "guides/getting-started.md",
        "guides/troubleshooting.md",
        "web/warranty.html",
    }
    assert [path for path, _ in report.skipped] == ["binary.md"]


def test_existing_demo_qa_is_flagged_as_stale(source, tmp_path):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "qa.jsonl").write_text(json.dumps({"qa_id": "q1", "doc_ids": ["demo-1"]}) + "\n")
    report = import_folder(source, raw_dir, options())
    assert any("1 rows of" in warning and "import-qa" in warning for warning in report.warnings)


def test_import_streams_instead_of_holding_every_text(tmp_path):
    """Peak memory stays far below the corpus size: texts are written as they are read."""
    import tracemalloc

    source = tmp_path / "big"
    for number in range(240):
        path = source / f"part{number % 12}" / f"doc{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Doc {number}\n\n" + f"Sentence {number} about pumps. " * 1800)
    total = sum(path.stat().st_size for path in source.rglob("*.md"))
    import_folder(source, tmp_path / "warm-up", options(globs=("part0/doc0.md",)))
    tracemalloc.start()
    try:
        report = import_folder(source, tmp_path / "raw", options())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.files == 240 and not report.skipped
    assert total > 10_000_000
    assert peak < total / 8, f"peak {peak} bytes for {total} bytes of text"


def test_a_glob_imports_files_without_a_known_extension_as_text(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    (source / "README").write_text("Read me first: the pump ships with two spare gaskets.\n")
    (source / "notes.md").write_text("# Notes\n\nNot selected by the glob at all, so left out.\n")
    raw_dir = tmp_path / "raw"
    import_folder(source, raw_dir, ImportOptions(globs=("README",), progress=False))
    assert [row["path"] for row in rows(raw_dir).values()] == ["README"]
    report = import_folder(tmp_path / "docs", tmp_path / "raw2", ImportOptions(progress=False))
    assert report.ignored == {"": 1}
    assert "ignored 1 files of other types ((none): 1)" in report.render()


def test_an_unexpected_parser_failure_skips_only_that_file(source, tmp_path, monkeypatch):
    real_reader = docs_module.read_document

    def fragile(path, data):
        if path.name == "warranty.html":
            raise RuntimeError("parser bug")
        return real_reader(path, data)

    monkeypatch.setattr(docs_module, "read_document", fragile)
    report = import_folder(source, tmp_path / "raw", options())
    assert (
        dict(report.skipped)["web/warranty.html"] == "unexpected error (RuntimeError: parser bug)"
    )
    assert report.docs == 9
