"""Promote the adapter and the index together, both or neither; roll back; recover from a crash.

Two phases. Prepare: the candidate's adapter loads and its collection holds the points and the
dimension the index manifest and embedder say; the gate compares its evaluation with the live
release. Commit: a journal is written, the MLflow alias and the Qdrant alias move, the manifest
is written and ``releases/live.json`` is replaced (the commit point). A failure undoes the moves
already made; a killed process leaves the journal, and :func:`recover` undoes them next time.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from ragtune import tracking
from ragtune.config import Settings
from ragtune.errors import ReleaseError
from ragtune.index import store
from ragtune.release import manifest as releases
from ragtune.release.aliases import ChampionAlias, LiveIndexAlias
from ragtune.release.checks import check_adapter, check_collection
from ragtune.release.export import export_collection, export_dir, remove_export
from ragtune.release.gate import GateResult, check_gate
from ragtune.release.hybrid import log_and_register_hybrid
from ragtune.release.manifest import ReleaseManifest
from ragtune.stages import StepRunner, run_directly
from ragtune.train.prompt import HOUSE_STYLE_PROMPT

logger = logging.getLogger(__name__)


class Pointer(Protocol):
    """One of the two things a release moves (see :mod:`ragtune.release.aliases`)."""

    name: str

    def current(self) -> str | None: ...
    def move(self, value: str | None) -> None: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class PromoteResult:
    """The gate's verdict and, when it passed, the release now live."""

    gate: GateResult
    manifest: ReleaseManifest
    promoted: bool


def default_pointers(settings: Settings) -> list[tuple[Pointer, str]]:
    """What a release moves, in order, with the manifest field each is set to: the MLflow
    alias on the generator, the Qdrant alias, and the MLflow alias on the hybrid model."""
    hybrid = ChampionAlias(settings, settings.release.hybrid_model)
    return [
        (ChampionAlias(settings), "adapter_version"),
        (LiveIndexAlias(settings), "collection"),
        (hybrid, "hybrid_version"),
    ]


def prompt_hash() -> str:
    """Hash of the house prompt the adapter was trained and evaluated with."""
    return hashlib.sha256(HOUSE_STYLE_PROMPT.encode("utf-8")).hexdigest()[:16]


def _latest_version(settings: Settings) -> str:
    from mlflow import MlflowClient

    model = settings.release.registered_model
    versions = MlflowClient().search_model_versions(f"name = '{model}'")
    if not versions:
        raise ReleaseError(f"registered model '{model}' has no versions; run `ragtune finetune`")
    return str(max(int(version.version) for version in versions))


def find_evaluation(settings: Settings, adapter_version: str, collection: str) -> Any:
    """The newest finished evaluate run of exactly this adapter version with this collection."""
    import mlflow

    query = (
        f"tags.{tracking.TAG_ADAPTER_VERSION} = '{adapter_version}' and "
        f"tags.{tracking.TAG_COLLECTION} = '{collection}' and attributes.status = 'FINISHED'"
    )
    runs = mlflow.search_runs(
        experiment_names=[tracking.EXPERIMENT_EVALUATE],
        filter_string=query,
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs:
        raise ReleaseError(
            f"no finished evaluation of adapter version {adapter_version} with collection "
            f"{collection}; run `ragtune evaluate` first"
        )
    return runs[0]


def build_candidate(
    settings: Settings,
    adapter_version: str | None = None,
    collection: str | None = None,
) -> ReleaseManifest:
    """The manifest a promotion would write: defaults are the latest adapter and staging index."""
    if adapter_version is None:
        adapter_version = _latest_version(settings)
    if collection is None:
        collection = store.alias_target(settings, settings.index.staging_alias)
        if collection is None:
            raise ReleaseError(
                f"the staging alias '{settings.index.staging_alias}' names no collection; "
                "run `ragtune index refresh` first"
            )
    run = find_evaluation(settings, adapter_version, collection)
    project_dir = settings.project_dir
    live = releases.live_manifest(project_dir)
    return ReleaseManifest(
        release_id=releases.next_release_id(project_dir),
        registered_model=settings.release.registered_model,
        adapter_version=adapter_version,
        collection=collection,
        points=0,
        embedding_model=settings.index.embedding_model,
        embedding_dimension=0,
        prompt_hash=prompt_hash(),
        data_revision=run.data.tags.get(tracking.TAG_DATA_REVISION, "unknown"),
        evaluation_run_id=run.info.run_id,
        metrics={key: float(value) for key, value in sorted(run.data.metrics.items())},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        created_by=getpass.getuser(),
        previous=None if live is None else live.release_id,
    )


def prepare(settings: Settings, candidate: ReleaseManifest) -> ReleaseManifest:
    """Check both artefacts exist and load; fill in what the checks measured."""
    check_adapter(settings, candidate.adapter_version)
    points, dimension = check_collection(settings, candidate.collection)
    return replace(candidate, points=points, embedding_dimension=dimension)


def promote(
    settings: Settings,
    adapter_version: str | None = None,
    collection: str | None = None,
    pointers: Sequence[tuple[Pointer, str]] | None = None,
    run_step: StepRunner = run_directly,
) -> PromoteResult:
    """Prepare, gate and commit a release; the live release is untouched unless all succeed.

    ``run_step`` is the stage's step runner (a Prefect flow shows each step as a task).
    """
    pointers = list(pointers or default_pointers(settings))
    recover(settings, pointers)
    candidate = run_step(
        "prepare-release", prepare_candidate, settings, adapter_version, collection
    )
    live = releases.live_manifest(settings.project_dir)
    live_metrics = None if live is None else live.metrics
    gate = run_step("gate-release", check_gate, candidate.metrics, live_metrics, settings.release)
    return run_step("commit-release", commit_release, settings, candidate, gate, live, pointers)


def prepare_candidate(
    settings: Settings, adapter_version: str | None, collection: str | None
) -> ReleaseManifest:
    """The candidate release, its adapter loaded and its collection checked."""
    return prepare(settings, build_candidate(settings, adapter_version, collection))


def commit_release(
    settings: Settings,
    candidate: ReleaseManifest,
    gate: GateResult,
    live: ReleaseManifest | None,
    pointers: Sequence[tuple[Pointer, str]],
) -> PromoteResult:
    """In one MLflow run: record the gate; when it passed, export, register and switch."""
    with tracking.stage_run(
        tracking.EXPERIMENT_RELEASE,
        stage="promote",
        data_revision=candidate.data_revision,
        project_dir=settings.project_dir,
        run_name=f"promote-{candidate.release_id}",
        tags={
            tracking.TAG_ADAPTER_VERSION: candidate.adapter_version,
            tracking.TAG_COLLECTION: candidate.collection,
        },
    ) as run:
        import mlflow

        mlflow.log_text(gate.render(), "gate.txt")
        if not gate.passed:
            mlflow.log_dict(candidate.as_dict(), "release.json")
            mlflow.set_tag("outcome", "rejected by gate")
            return PromoteResult(gate, candidate, promoted=False)
        candidate = replace(candidate, hybrid_version=_export_and_register(settings, candidate))
        mlflow.log_dict(candidate.as_dict(), "release.json")
        switch(settings, candidate, live, pointers, new_release=True)
        mlflow.set_tags({"outcome": "promoted", "release_id": candidate.release_id})
        logger.info("release %s live (mlflow run %s)", candidate.release_id, run.info.run_id)
    return PromoteResult(gate, candidate, promoted=True)


def _export_and_register(settings: Settings, candidate: ReleaseManifest) -> str:
    """The release's own index copy and its hybrid MLflow model; nothing left if either fails."""
    target = export_dir(settings.project_dir, candidate.release_id)
    try:
        copied = export_collection(settings, candidate.collection, target)
        if copied != candidate.points:
            raise ReleaseError(
                f"exported {copied} of {candidate.points} points of {candidate.collection}"
            )
        return log_and_register_hybrid(settings, candidate, target)
    except BaseException:
        remove_export(settings.project_dir, candidate.release_id)
        raise


def rollback(
    settings: Settings,
    release_id: str | None = None,
    pointers: Sequence[tuple[Pointer, str]] | None = None,
) -> ReleaseManifest:
    """Make the previous (or named) release live again: both aliases move back together."""
    pointers = list(pointers or default_pointers(settings))
    recover(settings, pointers)
    project_dir = settings.project_dir
    live = releases.live_manifest(project_dir)
    if release_id is None:
        if live is None or live.previous is None:
            raise ReleaseError("no previous release to roll back to; see `ragtune release list`")
        release_id = live.previous
    target = releases.read_manifest(project_dir, release_id)
    if live is not None and live.release_id == target.release_id:
        raise ReleaseError(f"release {release_id} is already live")
    prepare(settings, target)
    switch(settings, target, live, pointers, new_release=False)
    return target


def switch(
    settings: Settings,
    target: ReleaseManifest,
    live: ReleaseManifest | None,
    pointers: Sequence[tuple[Pointer, str]],
    new_release: bool,
) -> None:
    """Move every pointer to ``target`` and make it live; on any failure, put all back."""
    project_dir = settings.project_dir
    releases.write_journal(project_dir, target, live, new_release)
    step = "journal"
    try:
        for pointer, field_name in pointers:
            step = pointer.describe()
            pointer.move(getattr(target, field_name))
        step = "manifest"
        if new_release:
            releases.write_manifest(project_dir, target)
        releases.set_live(project_dir, target.release_id)
    except BaseException as exc:
        _restore(settings, live, pointers, target if new_release else None)
        previous = "no release" if live is None else f"release {live.release_id}"
        raise ReleaseError(
            f"moving to release {target.release_id} failed at {step} ({exc}); "
            f"{previous} is live again, nothing changed"
        ) from exc
    releases.journal_path(project_dir).unlink()


def _restore(
    settings: Settings,
    live: ReleaseManifest | None,
    pointers: Sequence[tuple[Pointer, str]],
    discard: ReleaseManifest | None,
) -> None:
    """Every pointer back to ``live`` (idempotent), then forget the journal."""
    for pointer, field_name in pointers:
        pointer.move(None if live is None else getattr(live, field_name))
    if discard is not None:
        releases.manifest_path(settings.project_dir, discard.release_id).unlink(missing_ok=True)
        remove_export(settings.project_dir, discard.release_id)
    releases.journal_path(settings.project_dir).unlink(missing_ok=True)


def recover(
    settings: Settings, pointers: Sequence[tuple[Pointer, str]] | None = None
) -> str | None:
    """Finish or undo a promotion/rollback a killed process left half-done; say which."""
    journal = releases.read_journal(settings.project_dir)
    if journal is None:
        return None
    target, live, new_release = journal
    if releases.live_release_id(settings.project_dir) == target.release_id:
        releases.journal_path(settings.project_dir).unlink()
        return f"release {target.release_id} had been committed; cleared its journal"
    pointers = list(pointers or default_pointers(settings))
    _restore(settings, live, pointers, target if new_release else None)
    message = (
        f"an interrupted move to release {target.release_id} was undone; "
        f"{'no release' if live is None else 'release ' + live.release_id} is live"
    )
    logger.warning(message)
    return message
