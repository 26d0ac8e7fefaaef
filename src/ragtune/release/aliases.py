"""The two pointers a release moves: the MLflow model alias and the Qdrant collection alias.

Each is read, moved and restored through one small class, so promotion, rollback and crash
recovery treat both the same way: remember what it pointed at, move it, put it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragtune.index import store

if TYPE_CHECKING:
    from ragtune.config import Settings


class ChampionAlias:
    """The registered-model alias (``release.champion_alias``) on the generator (or hybrid)."""

    name = "MLflow alias"

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        from mlflow import MlflowClient

        self.client = MlflowClient()
        self.model = model or settings.release.registered_model
        self.alias = settings.release.champion_alias

    def current(self) -> str | None:
        """The version the alias names, or None."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.model, self.alias).version)
        except MlflowException:
            return None

    def move(self, version: str | None) -> None:
        """Point the alias at ``version`` (None removes it)."""
        if version is None:
            if self.current() is not None:
                self.client.delete_registered_model_alias(self.model, self.alias)
            return
        self.client.set_registered_model_alias(self.model, self.alias, version)

    def describe(self) -> str:
        return f"{self.model}@{self.alias}"


class LiveIndexAlias:
    """The Qdrant alias (``release.live_alias``) on a versioned collection."""

    name = "Qdrant alias"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.alias = settings.release.live_alias

    def current(self) -> str | None:
        """The collection the alias names, or None."""
        return store.alias_target(self.settings, self.alias)

    def move(self, collection: str | None) -> None:
        """Point the alias at ``collection`` (None removes it), in one Qdrant call."""
        with store.open_store(self.settings) as client:
            if collection is None:
                store.delete_alias(client, self.alias)
            else:
                store.move_alias(client, self.alias, collection)

    def describe(self) -> str:
        return self.alias
