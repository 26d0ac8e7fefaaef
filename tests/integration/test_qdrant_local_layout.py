"""The private parts of Qdrant local mode that index/store.py relies on (qdrant-client pinned).

If an upgrade changes them, this fails first: update store.alias_target / skip_local_fsync
and clone.KNOWN_ATTRIBUTES (clone_collection declines an unknown layout, refreshes get slower).
"""

from __future__ import annotations

import json
import sqlite3

from ragtune.index import clone, store


def test_meta_json_aliases_and_local_sqlite_connection(settings) -> None:
    settings.index.engine = "local"  # the default engine is edge; this is about local mode
    with store.open_store(settings) as client:
        assert store.is_local(client)
        store.create_collection(client, "ragtune-rev-1", dimension=4)
        store.move_alias(client, settings.index.staging_alias, "ragtune-rev-1")
        connection = client._client.collections["ragtune-rev-1"].storage.storage
        assert isinstance(connection, sqlite3.Connection)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        collection = client._client.collections["ragtune-rev-1"]
        assert set(vars(collection)) == clone.KNOWN_ATTRIBUTES
    meta = json.loads((settings.path(settings.index.qdrant_path) / "meta.json").read_text())
    assert meta["aliases"][settings.index.staging_alias] == "ragtune-rev-1"
    assert "ragtune-rev-1" in meta["collections"]
    assert store.alias_target(settings, settings.index.staging_alias) == "ragtune-rev-1"
    assert store.alias_target(settings, "no-such-alias") is None
