"""Release manifests on disk: ``releases/<id>.json``, the live pointer and the promotion journal.

A release is live when ``releases/live.json`` names it. That pointer is replaced atomically and
last, so it is the commit point of a promotion: the MLflow and Qdrant aliases are moved first,
and until the pointer moves, a crash leaves ``releases/pending.json`` behind, from which the
next release command puts both aliases back on the live release (see ``promote.recover``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import ReleaseError

RELEASES_DIR = "releases"
LIVE_FILE = "live.json"
JOURNAL_FILE = "pending.json"
RELEASE_ID = re.compile(r"^r(\d{4,})$")


@dataclass(frozen=True)
class ReleaseManifest:
    """What one release binds together: adapter, index, embedder, prompt, data and evaluation."""

    release_id: str
    registered_model: str
    adapter_version: str
    collection: str
    points: int
    embedding_model: str
    embedding_dimension: int
    prompt_hash: str
    data_revision: str
    evaluation_run_id: str
    hybrid_version: str = ""
    """Version of ``release.hybrid_model`` (the index copy + adapter as one MLflow model)."""
    metrics: dict[str, float] = field(default_factory=dict)
    created_at: str = ""
    created_by: str = ""
    previous: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str) -> ReleaseManifest:
        """Parse a manifest, naming the file and the fields at fault."""
        names = set(cls.__dataclass_fields__)
        missing = sorted(
            name
            for name, spec in cls.__dataclass_fields__.items()
            if name not in raw and spec.default is MISSING and spec.default_factory is MISSING
        )
        unknown = sorted(set(raw) - names)
        if missing or unknown:
            raise ReleaseError(
                f"{source}: not a release manifest (missing {missing or 'nothing'}, "
                f"unknown {unknown or 'nothing'})"
            )
        return cls(**raw)


def releases_dir(project_dir: Path) -> Path:
    """The folder holding release manifests."""
    return project_dir / RELEASES_DIR


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReleaseError(
            f"{path}: unreadable ({exc}); restore it from git or remove it"
        ) from None
    if not isinstance(raw, dict):
        raise ReleaseError(f"{path}: expected a JSON object")
    return raw


def manifest_path(project_dir: Path, release_id: str) -> Path:
    """Where release ``release_id`` is written."""
    return releases_dir(project_dir) / f"{release_id}.json"


def read_manifest(project_dir: Path, release_id: str) -> ReleaseManifest:
    """The manifest of one release; a clear error when it does not exist."""
    path = manifest_path(project_dir, release_id)
    if not RELEASE_ID.match(release_id) or not path.exists():
        known = ", ".join(list_release_ids(project_dir)) or "none yet"
        raise ReleaseError(
            f"no release '{release_id}' (known: {known}); see `ragtune release list`"
        )
    return ReleaseManifest.from_dict(_read_json(path), str(path))


def write_manifest(project_dir: Path, manifest: ReleaseManifest) -> Path:
    """Write ``releases/<id>.json`` atomically."""
    path = manifest_path(project_dir, manifest.release_id)
    write_json_atomic(path, manifest.as_dict())
    return path


def list_release_ids(project_dir: Path) -> list[str]:
    """Release ids on disk, oldest first."""
    found = []
    for path in releases_dir(project_dir).glob("r*.json"):
        match = RELEASE_ID.match(path.stem)
        if match:
            found.append((int(match.group(1)), path.stem))
    return [release_id for _, release_id in sorted(found)]


def next_release_id(project_dir: Path) -> str:
    """The id the next release gets (r0001, r0002, …)."""
    ids = list_release_ids(project_dir)
    number = int(RELEASE_ID.match(ids[-1]).group(1)) + 1 if ids else 1  # type: ignore[union-attr]
    return f"r{number:04d}"


def live_release_id(project_dir: Path) -> str | None:
    """The id ``releases/live.json`` names, or None before the first release."""
    path = releases_dir(project_dir) / LIVE_FILE
    if not path.exists():
        return None
    release_id = _read_json(path).get("release_id")
    if not isinstance(release_id, str):
        raise ReleaseError(f"{path}: has no release_id; run `ragtune release rollback ID`")
    return release_id


def live_manifest(project_dir: Path) -> ReleaseManifest | None:
    """The live release's manifest, or None before the first release."""
    release_id = live_release_id(project_dir)
    return None if release_id is None else read_manifest(project_dir, release_id)


def set_live(project_dir: Path, release_id: str) -> None:
    """Make ``release_id`` the live release: the commit point of promote and rollback."""
    write_json_atomic(releases_dir(project_dir) / LIVE_FILE, {"release_id": release_id})


def journal_path(project_dir: Path) -> Path:
    """The promotion journal, present only while a promotion or rollback is in progress."""
    return releases_dir(project_dir) / JOURNAL_FILE


def write_journal(
    project_dir: Path, target: ReleaseManifest, live: ReleaseManifest | None, new_release: bool
) -> None:
    """Record the move about to happen (GC also keeps the collections named here)."""
    payload = {
        "target": target.as_dict(),
        "live": None if live is None else live.as_dict(),
        "new_release": new_release,
    }
    write_json_atomic(journal_path(project_dir), payload)


def read_journal(
    project_dir: Path,
) -> tuple[ReleaseManifest, ReleaseManifest | None, bool] | None:
    """The interrupted move, if any: (target, release live when it started, target is new)."""
    path = journal_path(project_dir)
    if not path.exists():
        return None
    raw = _read_json(path)
    target = ReleaseManifest.from_dict(raw.get("target") or {}, f"{path} (target)")
    live = raw.get("live")
    live_manifest = None if live is None else ReleaseManifest.from_dict(live, f"{path} (live)")
    return target, live_manifest, bool(raw.get("new_release"))
