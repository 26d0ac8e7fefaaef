"""One complete function per pipeline stage: what the CLI, DVC (through the CLI) and Prefect call.

Each stage takes :class:`~ragtune.config.Settings` and returns a result. Sub-steps go through
``run_step(name, function, *args)``: entry points differ only in that hook (the CLI runs each
step directly, a Prefect flow wraps each in a task for its retries and UI entry), never in
which steps run or in what order. Stages that consume prepared data first pass the
validation gate (:func:`ragtune.data.gate.require_validated`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ragtune.data.gate import require_validated
from ragtune.errors import FinetuneError, ValidationFailed

if TYPE_CHECKING:
    from ragtune.config import Settings
    from ragtune.data.validate import ValidationReport
    from ragtune.index.refresh import RefreshResult
    from ragtune.release.promote import PromoteResult
    from ragtune.train.run import FinetuneOutcome

logger = logging.getLogger(__name__)
T = TypeVar("T")
QUERY_MODEL_SAMPLES = 256
"""Questions on which the ONNX query model must match sentence-transformers (index stage)."""


class StepRunner(Protocol):
    """Runs one named sub-step of a stage: ``run_step(name, function, *args, **kwargs)``."""

    def __call__(self, name: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``function(*args, **kwargs)`` (possibly as a Prefect task named ``name``)."""
        ...


def run_directly(name: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """The CLI's step runner: call the step, nothing more."""
    logger.debug("step %s", name)
    return function(*args, **kwargs)


def prepare_stage(settings: Settings) -> dict[str, int]:
    """Raw → prepared: load data/raw strictly, write normalised JSONL; return row counts."""
    from ragtune.data.prepare import prepare

    return prepare(
        settings.path(settings.data.raw_dir),
        settings.path(settings.prepare.prepared_dir),
        settings.prepare,
    )


def validate_stage(settings: Settings) -> ValidationReport:
    """Run the GX suites and record the verdict; raise ValidationFailed (with the report)."""
    from ragtune.data.validate import validate_prepared

    config = settings.validate_
    report = validate_prepared(
        settings.path(settings.prepare.prepared_dir),
        config,
        reports_dir=settings.path(config.reports_dir),
        quarantine_dir=settings.path(config.quarantine_dir),
        run_name=_validation_run_name(settings),
    )
    if not report.success:
        raise ValidationFailed(report.render(), report)
    return report


def _validation_run_name(settings: Settings) -> str | None:
    """The data revision of data/raw, which names the validation run (None without raw data)."""
    from ragtune.data.versioning import data_revision

    raw_dir = settings.path(settings.data.raw_dir)
    return data_revision(settings.project_dir, raw_dir).id if raw_dir.exists() else None


@dataclass
class IndexOutcome:
    """What the index stage did: the refresh, retrieval scores (or why none) and the run."""

    refresh: RefreshResult
    scores: dict[str, float]
    evaluation: str
    """How retrieval was scored, or ``skipped: <reason>``."""
    run_id: str

    @property
    def evaluated(self) -> bool:
        """True when retrieval was scored."""
        return bool(self.scores)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the Prefect flow returns)."""
        return {
            "collection": self.refresh.collection,
            "built": self.refresh.built,
            "data_revision": self.refresh.data_revision,
            "counts": self.refresh.counts,
            "scores": self.scores,
            "retrieval_evaluation": self.evaluation,
            "mlflow_run_id": self.run_id,
        }


def index_stage(
    settings: Settings,
    show_progress: bool = False,
    evaluate: bool = True,
    run_step: StepRunner = run_directly,
) -> IndexOutcome:
    """Gate → refresh → evaluate retrieval (when there are questions) → reports + MLflow run.

    The MLflow run in `ragtune-index` opens before the refresh, so a failed step ends it FAILED.
    """
    from ragtune import tracking
    from ragtune.data.versioning import data_revision
    from ragtune.index.onnx_embed import prepare_query_model
    from ragtune.index.parallel import refresh_index_on_cluster
    from ragtune.index.query import eval_questions, evaluate_retrieval, no_questions_reason
    from ragtune.index.report import log_index_build

    run_step("check-validation", require_validated, settings)
    revision = data_revision(settings.project_dir, settings.path(settings.data.raw_dir)).id
    with tracking.stage_run(
        tracking.EXPERIMENT_INDEX, "index", revision, settings.project_dir
    ) as run:
        # On a Dask worker (DaskTaskRunner) new chunks are embedded across the cluster.
        result = run_step(
            "refresh-index",
            refresh_index_on_cluster,
            settings,
            show_progress=show_progress,
            revision=revision,
        )
        scores: dict[str, float] = {}
        questions = [row["question"] for row in eval_questions(settings)]
        if not evaluate:
            evaluation = "skipped: turned off (--no-evaluate)"
        elif not questions:
            evaluation = f"skipped: {no_questions_reason(settings)}"
        else:
            scores = run_step("evaluate-retrieval", evaluate_retrieval, settings, result.collection)
            evaluation = f"scored on the '{settings.index.eval_split}' questions"
        if not scores:
            logger.warning("retrieval evaluation %s", evaluation)
        query_model = run_step(
            "prepare-query-model", prepare_query_model, settings, questions[:QUERY_MODEL_SAMPLES]
        )
        logger.info("ONNX query model: %s", query_model)
        run_step(
            "log-index-build",
            log_index_build,
            settings,
            run.info.run_id,
            result,
            scores,
            evaluation,
        )
    return IndexOutcome(result, scores, evaluation, run.info.run_id)


def finetune_stage(
    settings: Settings, if_needed: bool = False, run_step: StepRunner = run_directly
) -> FinetuneOutcome:
    """Gate → decide → check base model → build data → train → register → summary.

    With ``if_needed`` the trigger policy may skip training, with a reason; a skip still leaves
    ``finetune.data_dir`` present (a DVC output). A corpus without training questions is
    refused, or skipped under ``if_needed``.
    """
    from ragtune.train import run as steps
    from ragtune.train.dataset import training_rows
    from ragtune.train.policy import Decision

    run_step("check-validation", require_validated, settings)
    tables = steps.load_tables(settings)
    missing = _missing_training_data(settings, training_rows(tables))
    if missing and not if_needed:
        raise FinetuneError(missing)
    if missing:
        decision = Decision(False, missing)
    elif if_needed:
        decision = run_step("decide-finetune", steps.decide_training, settings, tables)
    else:
        decision = Decision(
            True, "requested (without --if-needed, the trigger policy is not asked)"
        )
    logger.info(decision.render())
    if not decision.train:
        if not steps.finetune_data_present(settings):
            if missing:
                steps.write_empty_data(settings)
            else:
                _, base_dir = run_step("check-base-model", steps.preflight, settings)
                run_step("build-finetune-data", steps.build_data, settings, base_dir, tables)
        return steps.finish(settings, steps.FinetuneOutcome(decision))
    source, base_dir = run_step("check-base-model", steps.preflight, settings)
    built = run_step("build-finetune-data", steps.build_data, settings, base_dir, tables)
    trained = run_step("train-adapter", steps.train, settings, source, base_dir, built)
    version = run_step("register-generator", steps.register, settings, source, built, trained)
    outcome = steps.FinetuneOutcome(decision, trained.run_id, version, trained.metrics)
    return steps.finish(settings, outcome)


def _missing_training_data(settings: Settings, rows: dict[str, list[dict[str, Any]]]) -> str:
    """Why the prepared data cannot be fine-tuned on ('' when it can)."""
    if rows["qa_train"]:
        return ""
    qa_path = settings.path(settings.prepare.prepared_dir) / "qa.jsonl"
    return (
        f"{qa_path}: no 'train' questions to fine-tune on (a docs-only corpus); "
        "import some with `ragtune data import-qa`"
    )


def promote_stage(
    settings: Settings,
    adapter_version: str | None = None,
    collection: str | None = None,
    run_step: StepRunner = run_directly,
) -> PromoteResult:
    """Gate → prepare the candidate (adapter loads, collection complete) → gate on its
    evaluation → commit both aliases and the manifest, or neither."""
    from ragtune.release.promote import promote

    run_step("check-validation", require_validated, settings)
    return promote(settings, adapter_version, collection, run_step=run_step)
