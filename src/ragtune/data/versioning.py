"""DVC versioning of ``data/raw``: snapshots and the data revision every run records.

A data revision is DVC's own content hash of the raw directory (the ``.dir`` md5 in
``data/raw.dvc``), shortened to 12 characters, so ``dvc checkout`` can bring it back.
When the working copy differs from the last snapshot, the revision is ``wip-<hash>`` and
says it was never snapshotted.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ragtune.errors import DataVersioningError

REVISION_LENGTH = 12


@dataclass(frozen=True)
class DataRevision:
    """Identity of one state of the raw data."""

    id: str
    files: dict[str, str] = field(default_factory=dict)
    """Relative path → md5 of each raw file (lets policies see *which* data changed)."""
    snapshotted: bool = False

    def changed_files(self, other: DataRevision) -> list[str]:
        """Files whose content differs between the two revisions (added or removed count)."""
        names = set(self.files) | set(other.files)
        return sorted(name for name in names if self.files.get(name) != other.files.get(name))


def file_md5s(raw_dir: Path) -> dict[str, str]:
    """md5 of every file under ``raw_dir``, keyed by POSIX relative path."""
    hashes: dict[str, str] = {}
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        digest = hashlib.md5()
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
        hashes[path.relative_to(raw_dir).as_posix()] = digest.hexdigest()
    return hashes


def _dvc_file(raw_dir: Path) -> Path:
    return raw_dir.with_name(raw_dir.name + ".dvc")


def _snapshot_manifest(project_dir: Path, raw_dir: Path) -> tuple[str, dict[str, str]] | None:
    """The ``.dir`` md5 recorded in ``<raw>.dvc`` and its file list from the DVC cache."""
    dvc_file = _dvc_file(raw_dir)
    if not dvc_file.exists():
        return None
    outs = (yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}).get("outs") or []
    if not outs or not str(outs[0].get("md5", "")).endswith(".dir"):
        return None
    dir_md5 = outs[0]["md5"]
    cache_object = project_dir / ".dvc" / "cache" / "files" / "md5" / dir_md5[:2] / dir_md5[2:]
    if not cache_object.exists():
        return dir_md5, {}
    entries = json.loads(cache_object.read_text(encoding="utf-8"))
    return dir_md5, {entry["relpath"]: entry["md5"] for entry in entries}


def data_revision(project_dir: Path, raw_dir: Path) -> DataRevision:
    """The revision of the raw data as it is on disk now."""
    if not raw_dir.exists():
        raise DataVersioningError(
            f"{raw_dir} does not exist; run `ragtune data generate` or `dvc pull` first"
        )
    files = file_md5s(raw_dir)
    manifest = _snapshot_manifest(project_dir, raw_dir)
    if manifest is not None and manifest[1] == files:
        return DataRevision(id=manifest[0][:REVISION_LENGTH], files=files, snapshotted=True)
    combined = hashlib.md5(json.dumps(sorted(files.items())).encode()).hexdigest()
    return DataRevision(id=f"wip-{combined[:REVISION_LENGTH]}", files=files, snapshotted=False)


def run_dvc(project_dir: Path, *args: str, stream: bool = False) -> str:
    """Run a DVC command in the project; raise DataVersioningError on failure.

    ``stream`` lets its output through as it happens (long ``dvc repro`` runs); otherwise it is
    captured and returned, and included in the error.
    """
    command = [sys.executable, "-m", "dvc", *args]
    result = subprocess.run(command, cwd=project_dir, capture_output=not stream, text=True)
    if result.returncode != 0:
        output = "" if stream else f":\n{result.stdout}{result.stderr}"
        raise DataVersioningError(f"`dvc {' '.join(args)}` failed in {project_dir}{output}")
    return result.stdout or ""


def snapshot(project_dir: Path, raw_dir: Path, push: bool = True) -> DataRevision:
    """Record the raw data as a DVC revision (add + commit to cache, then push to the remote)."""
    if not (project_dir / ".dvc").is_dir():
        raise DataVersioningError(f"{project_dir} is not a DVC repository; run `dvc init` there")
    target = raw_dir.relative_to(project_dir) if raw_dir.is_absolute() else raw_dir
    run_dvc(project_dir, "add", "--quiet", str(target))
    if push:
        run_dvc(project_dir, "push", "--quiet", str(_dvc_file(target)))
    revision = data_revision(project_dir, project_dir / target)
    if not revision.snapshotted:
        raise DataVersioningError(f"dvc add {target} did not record the files on disk")
    return revision
