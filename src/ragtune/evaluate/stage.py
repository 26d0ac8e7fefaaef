"""The evaluate stage: four arms on the same held-out questions, one MLflow run, report files.

`ragtune evaluate`, the DVC stage `evaluate` and the Prefect flow `ragtune.flows.evaluate`
call :func:`evaluate_stage`, which first passes the validation gate. Cheap checks (questions,
adapter version, collection) come before any model loads; once the run has started, an
exception marks it FAILED and writes no reports.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune import tracking
from ragtune.config import Settings
from ragtune.data.gate import require_validated
from ragtune.data.load import load_dataset
from ragtune.data.schema import QA
from ragtune.errors import EvaluationError
from ragtune.evaluate.arms import ARMS, run_arm, table
from ragtune.evaluate.report import (
    finetuned_scores,
    log_to_mlflow,
    staged_reports,
    write_reports,
)
from ragtune.serve.answer import open_retriever
from ragtune.serve.generators import AdapterVersion, find_adapter, load_finetuned, without_adapter
from ragtune.stages import StepRunner, run_directly

logger = logging.getLogger(__name__)


@dataclass
class EvaluationOutcome:
    """What one evaluation measured and where it went."""

    run_id: str
    adapter: str
    collection: str
    table: list[dict[str, Any]]
    scores: dict[str, float]
    paths: dict[str, Path] = field(default_factory=dict)


def evaluation_questions(
    settings: Settings, max_questions: int | None = None, trained_revision: int | None = None
) -> list[dict]:
    """``evaluate.max_questions`` QA rows of ``evaluate.split``; error when there are none.

    The rows are a deterministic sample spread over the question kinds (product, policy,
    glossary, ...): a prepared QA file is grouped by kind, and its first rows alone would
    measure one kind only. With ``evaluate.changed_share`` and a known training revision, up
    to that share comes from facts newer than the training data. Returned in file order.
    """
    qa_path = settings.path(settings.prepare.prepared_dir) / QA.filename
    rows = load_dataset(QA, qa_path.parent)
    if not rows:
        raise EvaluationError(
            f"{qa_path}: no QA rows to evaluate with; add questions (`ragtune data import-qa`, "
            "or `ragtune data generate` for the demo) and run `ragtune data prepare`"
        )
    split = settings.evaluate.split
    chosen = [row for row in rows if row["split"] == split]
    if not chosen:
        raise EvaluationError(
            f"{qa_path}: no '{split}' questions among {len(rows)} QA rows; set evaluate.split "
            "to a split that has rows"
        )
    limit = max_questions or settings.evaluate.max_questions
    changed: list[dict] = []
    if settings.evaluate.changed_share and trained_revision is not None:
        newer = [row for row in chosen if row["revision"] > trained_revision]
        changed = spread_over_kinds(newer, round(limit * settings.evaluate.changed_share))
    picked = {row["qa_id"] for row in changed}
    rest = [row for row in chosen if row["qa_id"] not in picked]
    picked.update(row["qa_id"] for row in spread_over_kinds(rest, limit - len(changed)))
    return [row for row in chosen if row["qa_id"] in picked]


def spread_over_kinds(rows: list[dict], limit: int) -> list[dict]:
    """Up to ``limit`` rows taken round-robin over their ``kind``, each kind in file order."""
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        by_kind.setdefault(row.get("kind", ""), []).append(row)
    layers = itertools.zip_longest(*by_kind.values())  # the 1st of each kind, then the 2nd, ...
    return [row for layer in layers for row in layer if row is not None][:limit]


def _run_tags(adapter: AdapterVersion, collection: str, questions: list[dict]) -> dict[str, str]:
    return {
        "adapter_version": adapter.version,
        "registered_model": adapter.name,
        "collection": collection,
        "data_revision": str(max(row["revision"] for row in questions)),
        "adapter_corpus_revision": str(adapter.corpus_revision or "unknown"),
    }


def evaluate_stage(
    settings: Settings,
    collection: str | None = None,
    version: str | None = None,
    max_questions: int | None = None,
    run_step: StepRunner = run_directly,
) -> EvaluationOutcome:
    """Gate → questions, adapter, collection → four arms → scores → MLflow run and reports."""
    import mlflow

    from ragtune.data.versioning import data_revision
    from ragtune.evaluate.scorers import log_genai_evaluation

    run_step("check-validation", require_validated, settings)
    config = settings.evaluate
    adapter = find_adapter(settings, version)
    trained_revision = adapter.corpus_revision
    questions = evaluation_questions(settings, max_questions, trained_revision)
    if trained_revision is None:
        logger.warning(
            "%s has no %s tag: changed/unchanged slices left out",
            adapter.label,
            tracking.TAG_CORPUS_REVISION,
        )
    revision = data_revision(settings.project_dir, settings.path(settings.data.raw_dir))
    with (
        open_retriever(settings, collection) as retriever,
        tracking.stage_run(
            tracking.EXPERIMENT_EVALUATE,
            stage="evaluate",
            data_revision=revision.id,
            project_dir=settings.project_dir,
            run_name=f"evaluate-{adapter.version}-{retriever.collection}",
            tags=_run_tags(adapter, retriever.collection, questions),
        ) as run,
    ):
        mlflow.set_tag(tracking.TAG_PROMPT, tracking.house_prompt_version())
        mlflow.log_params(
            {
                "k": config.k,
                "split": config.split,
                "questions": len(questions),
                "changed_share": config.changed_share,
                "batch_size": config.batch_size,
                "max_new_tokens": config.max_new_tokens,
            }
        )
        tracking.log_data_input(
            run.info.run_id,
            f"qa-{config.split}",
            revision.id,
            settings.path(settings.prepare.prepared_dir) / QA.filename,
            questions,
            context="evaluation",
            project_dir=settings.project_dir,
        )
        finetuned = run_step("load-generator", load_finetuned, adapter, config.max_new_tokens)
        generators = {False: without_adapter(finetuned), True: finetuned}
        rows: list[dict[str, Any]] = []
        for arm in ARMS:
            started = time.perf_counter()
            rows += run_step(
                f"answer-{arm.key}",
                run_arm,
                arm,
                questions,
                generators[arm.finetuned],
                retriever,
                config.k,
                config.batch_size,
                trained_revision,
            )
            mlflow.log_metric(f"{arm.key}/seconds", time.perf_counter() - started)
        summary = table(rows)
        # Logging stays in this thread, where the run is active (a task may run elsewhere).
        log_genai_evaluation(rows)
        reports_dir = settings.path(config.reports_dir)
        with staged_reports(reports_dir) as staging:
            log_to_mlflow(summary, write_reports(staging, summary, rows))
    paths = {path.name: path for path in sorted(reports_dir.iterdir()) if path.is_file()}
    return EvaluationOutcome(
        run_id=run.info.run_id,
        adapter=adapter.label,
        collection=retriever.collection,
        table=summary,
        scores=finetuned_scores(summary),
        paths=paths,
    )
