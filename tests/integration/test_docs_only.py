"""A corpus without questions (docs only) goes through prepare, validate, index and finetune."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import mlflow
import pytest
from typer.testing import CliRunner

from ragtune import tracking
from ragtune.cli import app
from ragtune.config import load_settings
from ragtune.index import onnx_embed

pytestmark = pytest.mark.slow


def cli(project, *args):
    return CliRunner().invoke(app, ["-C", str(project), *args])


def console(project, *args):
    """The real console front door: errors become one line on stderr and exit 1."""
    return subprocess.run(
        [sys.executable, "-m", "ragtune", *args], cwd=project, capture_output=True, text=True
    )


def test_docs_only_corpus_indexes_and_skips_what_needs_questions(demo_project) -> None:
    raw = demo_project / "data" / "raw"
    (raw / "qa.jsonl").unlink()
    (raw / "behaviour.jsonl").unlink()
    for command in (["data", "prepare"], ["validate"]):
        result = cli(demo_project, *command)
        assert result.exit_code == 0, result.output
    refreshed = cli(demo_project, "index", "refresh", "--no-progress")
    assert refreshed.exit_code == 0, f"{refreshed.output}{refreshed.exception!r}"
    assert "retrieval: skipped: " in refreshed.output and "no 'dev' questions" in refreshed.output
    run_id = re.search(r"mlflow run (\w+)", refreshed.output).group(1)
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags[tracking.TAG_RETRIEVAL_EVALUATION].startswith("skipped: ")
    assert run.data.metrics["chunks_total"] > 0 and "recall_at_5" not in run.data.metrics

    hits = cli(demo_project, "index", "query", "What does the warranty cover?", "--json")
    assert hits.exit_code == 0 and '"doc_id"' in hits.output
    # A single query prints its hits and nothing else; --progress shows the loading bars.
    quiet = console(demo_project, "index", "query", "What does the warranty cover?")
    assert quiet.returncode == 0 and quiet.stdout.startswith("1. ")
    assert "Loading weights" not in quiet.stderr, quiet.stderr
    # That query used the ONNX export (no torch, no bars). Without the export the query falls
    # back to sentence-transformers, whose loading bars --progress shows.
    shutil.rmtree(onnx_embed.export_dir(load_settings(demo_project)))
    loud = console(demo_project, "index", "query", "What does the warranty cover?", "--progress")
    assert loud.returncode == 0 and loud.stdout.startswith("1. ")
    assert "Loading weights" in loud.stderr

    evaluated = console(demo_project, "index", "evaluate")
    assert evaluated.returncode == 1
    assert "no 'dev' questions to evaluate retrieval with" in evaluated.stderr
    blank = console(demo_project, "index", "query", "   ")
    assert blank.returncode == 1 and "query text is empty" in blank.stderr
    for refused in (evaluated, blank):
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    # Fine-tuning needs training questions: --if-needed skips with the reason, a forced run
    # refuses in one line; neither touches the registry.
    skipped = cli(demo_project, "finetune", "--if-needed")
    assert skipped.exit_code == 0, f"{skipped.output}{skipped.exception!r}"
    assert skipped.output.startswith("skipped: ") and "no 'train' questions" in skipped.output
    assert (demo_project / "data" / "finetune" / "train.jsonl").exists()
    forced = console(demo_project, "finetune")
    assert forced.returncode == 1 and "no 'train' questions" in forced.stderr
    assert len(forced.stderr.strip().splitlines()) == 1, forced.stderr
    assert mlflow.get_experiment_by_name(tracking.EXPERIMENT_FINETUNE) is None
