"""A version's two maps, stored as changes to base maps that versions share.

Every version records ``doc_id → doc_hash`` (what it holds) and ``line digest → doc_id`` (the
prepared lines it was built from, so the next refresh need not parse them). Written whole for
every version, two 1 MB maps at 20,000 documents cost a refresh ~0.05-0.3 s (with the WAL
checkpoints they cause), whatever it changed. So a version stores the changes to a base map
(``doc_maps`` row) that the versions built from it share; a new base is written only once the
changes outgrow 1/8 of it. Versions recorded before base maps hold their maps whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any


class ManifestConnection(sqlite3.Connection):
    """A manifest connection that keeps the maps it decoded (~10 ms each at 20,000 docs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.doc_maps: dict[str, dict[str, str]] = {}
        self.base_maps: dict[int, tuple[dict[str, str], dict[str, str]]] = {}


def _doc_maps(db: sqlite3.Connection) -> dict[str, dict[str, str]]:
    return db.doc_maps if isinstance(db, ManifestConnection) else {}


def _base_maps(db: sqlite3.Connection) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    return db.base_maps if isinstance(db, ManifestConnection) else {}


MAX_DELTA_SHARE = 8
"""A version is stored as changes to a shared base map while they are at most 1/8 of it."""


def stored_maps(
    db: sqlite3.Connection, parent: str | None, docs: dict[str, str], lines: dict[str, str]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(base map id, docs delta, lines delta) to store a version's maps as.

    A refresh that changes 10 of 20,000 documents then writes two small deltas (bytes) instead
    of two 1 MB maps (~0.05-0.3 s with the WAL checkpoints they cause). When the changes since
    the parent's base exceed 1/8 of it, the maps are written whole as a new base.
    """
    row = db.execute("SELECT base_map FROM collections WHERE name = ?", (parent,)).fetchone()
    if row is not None and row[0] is not None:
        base_docs, base_lines = _base_map(db, row[0])
        delta_docs, delta_lines = _delta(base_docs, docs), _delta(base_lines, lines)
        changes = sum(len(part) for delta in (delta_docs, delta_lines) for part in delta.values())
        if changes * MAX_DELTA_SHARE <= len(base_docs) + len(base_lines):
            return row[0], delta_docs, delta_lines
    cursor = db.execute(
        "INSERT INTO doc_maps (docs, lines) VALUES (?, ?)", (json.dumps(docs), json.dumps(lines))
    )
    base_id = int(cursor.lastrowid or 0)
    _base_maps(db)[base_id] = (dict(docs), dict(lines))
    return base_id, {"set": {}, "del": []}, {"set": {}, "del": []}


def _delta(base: Mapping[str, str], new: Mapping[str, str]) -> dict[str, Any]:
    """What turns ``base`` into ``new``: entries set, keys deleted (set operations in C)."""
    return {"set": dict(new.items() - base.items()), "del": sorted(base.keys() - new.keys())}


def _base_map(db: sqlite3.Connection, map_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """(docs, lines) of a base map, decoded once per connection."""
    cache = _base_maps(db)
    if map_id not in cache:
        row = db.execute("SELECT docs, lines FROM doc_maps WHERE id = ?", (map_id,)).fetchone()
        cache[map_id] = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
    return cache[map_id]


def _version_map(db: sqlite3.Connection, name: str, column: str) -> dict[str, str] | None:
    """A version's docs or lines map (None when it is not recorded)."""
    row = db.execute(
        f"SELECT {column}, base_map FROM collections WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    stored = json.loads(row[0])
    if row[1] is None:
        return stored  # written whole into the version (manifests from before base maps)
    resolved = dict(_base_map(db, row[1])[0 if column == "docs" else 1])
    resolved.update(stored["set"])
    for key in stored["del"]:
        resolved.pop(key, None)
    return resolved


def remember_map(db: sqlite3.Connection, name: str, docs: dict[str, str]) -> None:
    """Keep a version's document map decoded for this connection."""
    _doc_maps(db)[name] = docs


def forget_map(db: sqlite3.Connection, name: str) -> None:
    _doc_maps(db).pop(name, None)


def drop_unused_base_maps(db: sqlite3.Connection) -> None:
    """Delete the base maps no recorded version is stored against (the caller commits)."""
    used = {row[0] for row in db.execute("SELECT DISTINCT base_map FROM collections")}
    unused = [row[0] for row in db.execute("SELECT id FROM doc_maps") if row[0] not in used]
    db.executemany("DELETE FROM doc_maps WHERE id = ?", ((map_id,) for map_id in unused))
    for map_id in unused:
        _base_maps(db).pop(map_id, None)


def doc_hashes(db: sqlite3.Connection, name: str) -> dict[str, str]:
    """doc_id → doc_hash of every document in a collection (empty when unknown; read-only)."""
    maps = _doc_maps(db)
    if name not in maps:
        found = _version_map(db, name, "docs")
        if found is None:
            return {}
        maps[name] = found
    return maps[name]


def known_lines(db: sqlite3.Connection, name: str) -> dict[str, str]:
    """The prepared lines a collection was built from: line digest → doc_id.

    Only a cache: anything but that shape is ignored (the lines are then parsed again).
    """
    lines = _version_map(db, name, "lines") or {}
    if set(map(type, lines.values())) <= {str}:  # checked in C: the usual case
        return lines
    return {key: value for key, value in lines.items() if isinstance(value, str)}
