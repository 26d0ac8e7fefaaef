"""What answers by default: the release (MLflow champion alias + Qdrant live alias, both or
neither), else the staging alias and the latest registered adapter version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragtune.serve.generators import AdapterVersion, find_adapter

if TYPE_CHECKING:
    from ragtune.config import Settings
    from ragtune.evaluate.arms import Arm


@dataclass(frozen=True)
class ServingChoice:
    """The collection (None: no retrieval) and adapter (None: base model) an answer uses."""

    collection: str | None
    adapter: AdapterVersion | None
    source: str
    """In words: which release, or that none exists and staging/latest are used."""


def released_version(settings: Settings) -> str | None:
    """The adapter version the champion alias names, when both release aliases exist."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from ragtune.index import store

    release = settings.release
    if store.alias_target(settings, release.live_alias) is None:
        return None
    try:
        found = MlflowClient().get_model_version_by_alias(
            release.registered_model, release.champion_alias
        )
    except MlflowException:
        return None
    return str(found.version)


def serving_choice(
    settings: Settings, arm: Arm, collection: str | None, version: str | None
) -> ServingChoice:
    """Pick collection and adapter for ``arm``; explicit choices win over the release."""
    released = released_version(settings)
    if released is not None:
        default_collection, default_version = settings.release.live_alias, released
        source = (
            f"release: {settings.release.registered_model}@{settings.release.champion_alias} "
            f"(v{released}) with {settings.release.live_alias}"
        )
    else:
        default_collection, default_version = settings.index.staging_alias, None
        source = (
            "no release yet: using the staging alias "
            f"'{settings.index.staging_alias}' and the latest registered adapter version"
        )
    if collection or version:
        source = "chosen on the command line"
    adapter = find_adapter(settings, version or default_version) if arm.finetuned else None
    return ServingChoice(
        collection=(collection or default_collection) if arm.retrieval else None,
        adapter=adapter,
        source=source,
    )
