"""Garbage collection of old collections, never touching one a release or alias references."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.index import manifest, store

if TYPE_CHECKING:
    import sqlite3

    from qdrant_client import QdrantClient

    from ragtune.config import Settings

logger = logging.getLogger(__name__)

RELEASES_DIR = "releases"


def _collections_named_in(value: Any) -> set[str]:
    """Every string under a key named ``collection`` anywhere in a JSON value."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "collection" and isinstance(item, str):
                found.add(item)
            else:
                found |= _collections_named_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _collections_named_in(item)
    return found


def release_collections(project_dir: Path) -> set[str]:
    """Collections named by release manifests (``releases/*.json``)."""
    referenced: set[str] = set()
    for path in sorted((project_dir / RELEASES_DIR).glob("*.json")):
        try:
            referenced |= _collections_named_in(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            # An unreadable release file could name anything: keep every collection this time.
            logger.warning("%s unreadable (%s); skipping garbage collection", path, exc)
            return {"*"}
    return referenced


def _beyond_kept(client: QdrantClient, settings: Settings, keep: int) -> list[str]:
    """Collections beyond the newest ``keep`` that no alias or release names, oldest first."""
    names = store.collection_names(client, settings.index.collection_prefix)
    protected = set(store.aliases(client).values()) | release_collections(settings.project_dir)
    if "*" in protected:
        return []
    kept = set(names[-keep:]) if keep > 0 else set()
    return [name for name in names if name not in kept and name not in protected]


def recyclable(
    client: QdrantClient, db: sqlite3.Connection, settings: Settings, params: dict[str, Any]
) -> list[str]:
    """Complete versions built with ``params`` that GC deletes once one more is published.

    Newest first: the newest differs least from the version about to be built.
    """
    doomed = _beyond_kept(client, settings, settings.index.keep_collections - 1)
    infos = {name: manifest.collection_info(db, name) for name in doomed}
    return [
        name
        for name in reversed(doomed)
        if (info := infos[name]) and info["status"] == "complete" and info["params"] == params
    ]


def collect_garbage(client: QdrantClient, db: sqlite3.Connection, settings: Settings) -> list[str]:
    """Delete collections beyond the newest ``keep_collections`` that nothing references."""
    names = store.collection_names(client, settings.index.collection_prefix)
    if "*" in release_collections(settings.project_dir):
        return []
    doomed = _beyond_kept(client, settings, settings.index.keep_collections)
    for name in doomed:
        client.delete_collection(name)
    # Records of collections Qdrant no longer has (store wiped, deleted by hand) go too.
    vanished = manifest.complete_collections(db) - set(names)
    manifest.forget_collections(db, [*doomed, *sorted(vanished)])
    if doomed:
        logger.info("deleted old collections: %s", ", ".join(doomed))
    return doomed


def drop_orphans(client: QdrantClient, db: sqlite3.Connection, settings: Settings) -> list[str]:
    """Delete collections a killed refresh left half-built (recorded ``building``, no alias)."""
    recorded = manifest.recorded_collections(db) - manifest.complete_collections(db)
    aliased = set(store.aliases(client).values())
    existing = set(store.collection_names(client, settings.index.collection_prefix))
    orphans = sorted(recorded - aliased)
    for name in orphans:
        if name in existing:
            client.delete_collection(name)
    manifest.forget_collections(db, orphans)
    if orphans:
        logger.info("deleted half-built collections of an interrupted refresh: %s", orphans)
    return orphans
