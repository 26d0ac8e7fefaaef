"""DVC versioning of ``data/raw``: snapshots and the data revision every run records.

A data revision is DVC's own content hash of the raw directory (the ``.dir`` hash of the
``data/raw.dvc`` output), shortened to 12 characters, so ``dvc checkout`` can bring it back.
Hashes come from DVC itself (``dvc.repo.Repo``: the output's recorded hash, and the
workspace tree built the way ``dvc status`` builds it), so ``cache.dir``, ``.dvcignore`` and
DVC's hash cache are respected. When the working copy differs from the last snapshot, the
revision is ``wip-<hash>``, and :attr:`DataRevision.reason` says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.data.feed import file_identity
from ragtune.errors import DataVersioningError

logger = logging.getLogger(__name__)
REVISION_LENGTH = 12


@dataclass(frozen=True)
class DataRevision:
    """Identity of one state of the raw data."""

    id: str
    files: dict[str, str] = field(default_factory=dict)
    """Relative path → md5 of each raw file (lets policies see *which* data changed)."""
    snapshotted: bool = False
    reason: str = ""
    """Why the revision is ``wip-…`` (empty when it is a snapshot)."""

    def changed_files(self, other: DataRevision) -> list[str]:
        """Files whose content differs between the two revisions (added or removed count)."""
        names = set(self.files) | set(other.files)
        return sorted(name for name in names if self.files.get(name) != other.files.get(name))


def file_md5s(raw_dir: Path) -> dict[str, str]:
    """md5 of every file under ``raw_dir``, keyed by POSIX relative path (outside DVC).

    As DVC does, a file whose size, mtime, ctime and inode are those recorded with its md5
    last time (``<parent>/.<raw dir>.md5.json``) is not read again: at 20,000 documents that
    is ~0.1 s per call. Any write to a file changes its ctime, so a changed file is hashed.
    """
    cache = raw_dir.parent / f".{raw_dir.name}.md5.json"
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    hashes: dict[str, str] = {}
    records: dict[str, list[Any]] = {}
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        name = path.relative_to(raw_dir).as_posix()
        stat = path.stat()  # before reading: a write after it makes the record stale
        identity = file_identity(stat)
        record = known.get(name)
        if isinstance(record, list) and record[:4] == identity and len(record) == 5:
            hashes[name] = str(record[4])
        else:
            hashes[name] = _md5(path)
        records[name] = [*identity, hashes[name]]
    if records != known:
        try:
            temporary = cache.with_name(cache.name + ".tmp")
            temporary.write_text(json.dumps(records), encoding="utf-8")
            os.replace(temporary, cache)
        except OSError as exc:  # a read-only checkout still has a revision
            logger.debug("%s not written (%s)", cache, exc)
    return hashes


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dvc_file(raw_dir: Path) -> Path:
    return raw_dir.with_name(raw_dir.name + ".dvc")


def _wip(files: dict[str, str], reason: str) -> DataRevision:
    combined = hashlib.md5(json.dumps(sorted(files.items())).encode()).hexdigest()
    logger.info("data revision is work in progress: %s", reason)
    return DataRevision(f"wip-{combined[:REVISION_LENGTH]}", files, False, reason)


def _tree_files(tree: object) -> dict[str, str]:
    """Relative path → md5 of each file of a DVC tree object."""
    return {"/".join(key): hash_info.value for key, _, hash_info in tree}  # type: ignore[attr-defined]


def _dvc_revision(project_dir: Path, raw_dir: Path) -> DataRevision:
    """The revision as DVC sees it: the workspace tree against the output's recorded hash."""
    from dvc.exceptions import OutputNotFoundError
    from dvc.repo import Repo
    from dvc_data.hashfile.build import build

    snapshot_hint = "run `ragtune data snapshot` to record it"
    with Repo(str(project_dir)) as repo:
        try:
            out = repo.find_outs_by_path(str(raw_dir.resolve()))[0]
        except OutputNotFoundError:
            out = None
        odb = out.cache if out is not None else repo.cache.local
        _, _, tree = build(
            odb, str(raw_dir.resolve()), repo.fs, "md5", dry_run=True, ignore=repo.dvcignore
        )
        files = _tree_files(tree)
        if out is None or not out.hash_info:
            return _wip(files, f"{raw_dir} is not tracked by DVC yet; {snapshot_hint}")
        recorded = out.hash_info.value
        if tree.hash_info.value == recorded:
            return DataRevision(recorded[:REVISION_LENGTH], files, snapshotted=True)
        committed = out.get_obj()
        if committed is None:
            changed = "its snapshot's file list is not in the DVC cache (`dvc pull` fetches it)"
        else:
            names = DataRevision("", _tree_files(committed)).changed_files(DataRevision("", files))
            changed = "changed files: " + ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        return _wip(
            files, f"{raw_dir} differs from {_dvc_file(raw_dir).name} ({changed}); {snapshot_hint}"
        )


def data_revision(project_dir: Path, raw_dir: Path) -> DataRevision:
    """The revision of the raw data as it is on disk now."""
    if not raw_dir.exists():
        raise DataVersioningError(
            f"{raw_dir} does not exist; run `ragtune data generate` or `dvc pull` first"
        )
    if not (project_dir / ".dvc").is_dir():
        return _wip(file_md5s(raw_dir), f"{project_dir} is not a DVC repository (`dvc init`)")
    return _dvc_revision(project_dir, raw_dir)


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
        raise DataVersioningError(
            f"dvc add {target} did not record the files on disk: {revision.reason}"
        )
    return revision
