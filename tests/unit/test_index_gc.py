"""Release manifests protect the collections they name from garbage collection."""

from __future__ import annotations

import json

from ragtune.index.gc import release_collections
from ragtune.index.store import build_number


def test_release_files_name_collections(tmp_path) -> None:
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / "current.json").write_text(json.dumps({"collection": "ragtune-r1-3"}))
    (releases / "history.json").write_text(
        json.dumps([{"index": {"collection": "ragtune-r0-1"}}, {"collection": "ragtune-r1-2"}])
    )
    assert release_collections(tmp_path) == {"ragtune-r1-3", "ragtune-r0-1", "ragtune-r1-2"}


def test_no_releases_dir(tmp_path) -> None:
    assert release_collections(tmp_path) == set()


def test_unreadable_release_protects_everything(tmp_path) -> None:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "broken.json").write_text("{not json")
    assert release_collections(tmp_path) == {"*"}


def test_build_number() -> None:
    assert build_number("ragtune-wip-abc123-12") == 12
    assert build_number("ragtune-live") == 0
