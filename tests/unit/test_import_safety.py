"""Imports never read outside their folder, never empty the corpus by typo, never leave temps in data/raw."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.data.importer.docs import import_folder
from ragtune.data.importer.folder import ImportOptions
from ragtune.data.importer.manifest import path_doc_id
from ragtune.data.importer.qa import QaImportOptions, import_qa
from ragtune.errors import DataFormatError

TEXT = "A document long enough for validation, about topic number {}.\n"


def options(**overrides):
    return ImportOptions(progress=False, **overrides)


@pytest.fixture
def folder(tmp_path):
    source = tmp_path / "docs"
    (source / "guides").mkdir(parents=True)
    for n in range(10):
        (source / "guides" / f"doc{n}.md").write_text(f"# Doc {n}\n\n{TEXT.format(n)}")
    return source


def doc_ids(raw_dir):
    return [json.loads(line)["doc_id"] for line in (raw_dir / "docs.jsonl").open()]


def skipped(raw_dir):
    return {
        row["path"]: row["reason"]
        for row in map(json.loads, (raw_dir / "import_skipped.jsonl").open())
    }


def test_a_glob_matching_nothing_refuses_and_keeps_the_corpus(folder, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options())
    before = (raw_dir / "docs.jsonl").read_bytes()
    with pytest.raises(
        DataFormatError, match=r"no file to import matches --glob '\.\./\*'.*all 10 docs"
    ):
        import_folder(folder, raw_dir, options(globs=("../*",)))
    assert (raw_dir / "docs.jsonl").read_bytes() == before
    import_folder(folder, raw_dir, options(globs=("../*",), allow_removals=True))
    assert (raw_dir / "docs.jsonl").read_bytes() == b""


def test_removing_more_than_the_configured_share_refuses_saying_how_many(folder, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options())
    for n in range(7):
        (folder / "guides" / f"doc{n}.md").unlink()
    with pytest.raises(
        DataFormatError,
        match=r"would remove 7 of the 10 imported docs .*70% > data.import_max_removal_share 50%",
    ):
        import_folder(folder, raw_dir, options())
    assert len(doc_ids(raw_dir)) == 10
    report = import_folder(folder, raw_dir, options(max_removal_share=0.8))
    assert len(report.changes.removed) == 7 and len(doc_ids(raw_dir)) == 3


def test_replacing_a_corpus_no_import_wrote_is_not_a_removal(folder, tmp_path):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    demo = [{"doc_id": f"demo-{n}", "title": "T", "text": TEXT.format(n)} for n in range(30)]
    (raw_dir / "docs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in demo))
    report = import_folder(folder, raw_dir, options())
    assert len(report.changes.removed) == 30 and len(doc_ids(raw_dir)) == 10
    with pytest.raises(DataFormatError, match="no file to import"):
        import_folder(folder, raw_dir, options(globs=("*.nothing",)))


def test_excludes_and_globs_use_gitignore_patterns(folder, tmp_path):
    (folder / "drafts").mkdir()
    (folder / "drafts" / "wip.md").write_text(TEXT.format("wip"))
    (folder / "README").write_text(TEXT.format("readme"))
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options(excludes=("drafts/", "doc[0-4].md")))
    assert sorted(doc_ids(raw_dir)) == sorted(
        path_doc_id(f"guides/doc{n}.md") for n in range(5, 10)
    )
    import_folder(folder, raw_dir / "x", options(globs=("README", "**/doc9.md")))
    assert sorted(doc_ids(raw_dir / "x")) == sorted(map(path_doc_id, ["README", "guides/doc9.md"]))


def test_symlinks_outside_the_folder_are_skipped_and_listed(folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2, a secret long enough to be a document.\n")
    (folder / "guides" / "passwd.md").symlink_to("/etc/passwd")
    (folder / "guides" / "secret.md").symlink_to(secret)
    (folder / "outside").symlink_to(tmp_path, target_is_directory=True)
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "guides" / "again").symlink_to(folder, target_is_directory=True)
    (folder / "gone.md").symlink_to(tmp_path / "nothing-here.md")
    (folder / "inside.md").symlink_to(folder / "guides" / "doc1.md")
    raw_dir = tmp_path / "raw"
    report = import_folder(folder, raw_dir, options())
    reasons = skipped(raw_dir)
    assert "outside the import folder" in reasons["guides/passwd.md"]
    assert "outside the import folder" in reasons["guides/secret.md"]
    assert "outside the import folder" in reasons["outside"]
    assert reasons["loop.md"] == "symlink loop"
    assert reasons["guides/again"].startswith("symlink loop")
    assert reasons["gone.md"].startswith("broken symlink")
    texts = (raw_dir / "docs.jsonl").read_text()
    assert "hunter2" not in texts and "root:" not in texts
    assert path_doc_id("inside.md") in doc_ids(raw_dir) and len(report.skipped) == 6
    import_folder(folder, raw_dir, options(follow_symlinks=True))
    assert "hunter2" in (raw_dir / "docs.jsonl").read_text()
    assert "guides/secret.md" not in skipped(raw_dir)


def test_a_file_that_fails_to_read_is_skipped_with_the_reason(folder, tmp_path):
    (folder / "mem.md").symlink_to("/proc/self/mem")  # a regular file even root cannot read
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options(follow_symlinks=True))
    assert skipped(raw_dir)["mem.md"].startswith("cannot read the file (OSError")
    assert len(doc_ids(raw_dir)) == 10


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files_and_folders_are_skipped(folder, tmp_path):
    (folder / "guides" / "doc3.md").chmod(0)
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0)
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options())
    reasons = skipped(raw_dir)
    assert "cannot read" in reasons["guides/doc3.md"] and "cannot read" in reasons["locked/"]


def test_a_mapped_column_no_table_has_refuses_naming_the_columns(tmp_path):
    source = tmp_path / "tables"
    source.mkdir()
    rows = [{"id": n, "body": TEXT.format(n)} for n in range(3)]
    (source / "faq.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for mapping, column in (({"text": "nope"}, "nope"), ({"doc_id": "missingcol"}, "missingcol")):
        with pytest.raises(
            DataFormatError, match=rf"no column '{column}' \(columns present: body, id\)"
        ):
            import_folder(source, tmp_path / "raw", options(column_map=mapping))
        assert not (tmp_path / "raw" / "docs.jsonl").exists()
    import_folder(source, tmp_path / "raw", options(column_map={"text": "body"}))
    assert len(doc_ids(tmp_path / "raw")) == 3


def test_import_qa_refuses_a_mapped_column_the_file_lacks(folder, tmp_path):
    raw_dir = tmp_path / "raw"
    import_folder(folder, raw_dir, options())
    qa_file = tmp_path / "qa.csv"
    qa_file.write_text("question,answer,doc_ids\nWhat is it?,Topic 1.,guides/doc1.md\n")
    with pytest.raises(
        DataFormatError,
        match=r"--map question=nope: no column 'nope' \(columns present: answer, doc_ids, question\)",
    ):
        import_qa(qa_file, raw_dir, QaImportOptions(column_map={"question": "nope"}))
    assert not (raw_dir / "qa.jsonl").exists()
    assert import_qa(qa_file, raw_dir, QaImportOptions()) == {"train": 1, "dev": 0, "test": 0}


KILLED_IMPORT = """
import os, signal, sys
from pathlib import Path
from ragtune.data.importer import docs
from ragtune.data.importer.folder import ImportOptions
from ragtune.data.importer.manifest import path_doc_id
real = docs.read_document
calls = []
def read_then_die(path, data):
    calls.append(path)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, data)
docs.read_document = read_then_die
docs.import_folder(Path(sys.argv[1]), Path(sys.argv[2]), ImportOptions(progress=False, force=True))
"""


def test_a_killed_import_leaves_no_temp_file_in_the_raw_folder(folder, tmp_path):
    raw_dir = tmp_path / "data" / "raw"
    import_folder(folder, raw_dir, options())
    before = {p.name: p.read_bytes() for p in raw_dir.iterdir()}
    (raw_dir / ".docs.jsonl.importing").write_text("left by an older ragtune\n")
    for n in range(10):
        (folder / "guides" / f"doc{n}.md").write_text(f"# Doc {n}\n\nchanged {TEXT.format(n)}")
    result = subprocess.run([sys.executable, "-c", KILLED_IMPORT, str(folder), str(raw_dir)])
    assert result.returncode == -9
    assert (tmp_path / "data" / ".raw.importing" / "docs.jsonl").exists()
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(before)  # the old temp removed too
    assert {p.name: p.read_bytes() for p in raw_dir.iterdir()} == before
    import_folder(folder, raw_dir, options())
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(before)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["raw"]
    assert "changed" in (raw_dir / "docs.jsonl").read_text()
    assert Path(raw_dir / "docs.jsonl").read_bytes() != before["docs.jsonl"]
