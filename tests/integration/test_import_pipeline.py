"""A folder of real files through the whole front door: import, QA, DVC, prepare, GX, index.

Runs the console as a user would, on a real git + DVC project, real Great Expectations and a real
Qdrant local index with the packaged embedding model.
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli import app
from ragtune.data.importer.manifest import path_doc_id

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "corpus"
FAQ_MAP = ["--map", "doc_id=key", "--map", "title=heading", "--map", "text=answer_text"]
QUESTIONS = """question,answer,sources,split
How often is the impeller gasket replaced?,Every 400 operating hours.,manuals/pump-manual.pdf,dev
How loud is the pump?,42 dB(A) at one metre.,faq-1,test
How do I start the controller?,Press Start for three seconds.,guides/getting-started.md,train
How much does a café crème cost?,3.50 euros at the counter.,notes/cafe-latin1.txt,dev
"""


def ragtune(project, *args):
    """Run one command in-process (the CLI itself is covered by test_cli.py): imports load once."""
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["-C", str(project), *args])
    assert result.exit_code == 0, f"ragtune {' '.join(args)}:\n{result.output}{result.exception!r}"
    print(
        f"ragtune {args[0]} {args[1] if len(args) > 1 else ''}: {time.perf_counter() - started:.1f}s"
    )
    return result.stdout


def top_hit(project, question):
    hits = json.loads(ragtune(project, "index", "query", question, "--json", "-k", "3"))
    return hits[0]["doc_id"]


def test_import_validate_index_query_then_reimport_changes(dvc_project, tmp_path):
    project = dvc_project
    raw_dir = project / "data" / "raw"
    knowledge_base = tmp_path / "kb"
    shutil.copytree(CORPUS, knowledge_base)

    # Import over the demo data: the demo QA and behaviour rows now cite missing docs.
    out = ragtune(project, "data", "import", str(knowledge_base), *FAQ_MAP, "--no-progress")
    assert "10 added" in out and "4 skipped" in out
    assert "skipped  manuals/locked.pdf: encrypted PDF" in out
    assert "qa.jsonl cite docs not in the imported corpus" in out
    (raw_dir / "behaviour.jsonl").unlink()
    questions = tmp_path / "questions.csv"
    questions.write_text(QUESTIONS, encoding="utf-8")
    assert "imported 4 questions" in ragtune(project, "data", "import-qa", str(questions))

    first_revision = ragtune(project, "data", "snapshot").strip()
    ragtune(project, "data", "prepare")
    report = ragtune(project, "validate")
    assert "validation PASSED" in report and "skipped inputs (4)" in report
    summary = json.loads((project / "reports" / "validation" / "summary.json").read_text())
    assert {row["path"] for row in summary["skipped_inputs"]} == {
        "binary.md",
        "empty.md",
        "manuals/broken.pdf",
        "manuals/locked.pdf",
    }

    ragtune(project, "index", "refresh", "--no-progress")
    pdf_id = path_doc_id("manuals/pump-manual.pdf")
    assert top_hit(project, "How often must the impeller gasket be replaced?") == pdf_id
    assert top_hit(project, "What does error E42 mean for the flow sensor?") == path_doc_id(
        "guides/troubleshooting.md"
    )

    # Edit one file, delete one, rename one: exactly those three docs change.
    (knowledge_base / "guides" / "troubleshooting.md").write_text(
        "Troubleshooting the flow sensor\n===\n\nError E77 means the flow sensor cable is cut.\n",
        encoding="utf-8",
    )
    (knowledge_base / "reference" / "config.rst").unlink()
    os.replace(knowledge_base / "web" / "warranty.html", knowledge_base / "web" / "terms.html")
    out = ragtune(
        project, "data", "import", str(knowledge_base), *FAQ_MAP, "--no-progress", "--snapshot"
    )
    assert "0 added, 1 changed, 1 removed, 1 renamed, 7 unchanged" in out
    assert f"renamed  {path_doc_id('web/warranty.html')} -> {path_doc_id('web/terms.html')}" in out
    second_revision = out.split("data revision ")[1].split()[0]
    assert second_revision != first_revision
    assert second_revision == ragtune(project, "data", "revision").strip()
    ragtune(project, "data", "prepare")
    assert "validation PASSED" in ragtune(project, "validate")
    out = ragtune(project, "index", "refresh", "--no-progress")
    assert "docs_updated=1" in out and "docs_deleted=" in out and "docs_unchanged=7" in out
    assert top_hit(project, "Which error means the flow sensor cable is cut?") == path_doc_id(
        "guides/troubleshooting.md"
    )
    assert top_hit(project, "How long is the warranty on the pump?") == path_doc_id(
        "web/terms.html"
    )
