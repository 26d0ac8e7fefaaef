"""Files a stage wrote itself, listed in a marker beside them: the only files it may delete.

A stage that clears its output directory first reads the marker; files it does not list (and
any folder it did not create) are never removed, so a mistyped path cannot cost data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ragtune.errors import ConfigError


def marker_path(directory: Path, stage: str) -> Path:
    """``<directory>/.ragtune-<stage>``: the list of files ``stage`` wrote there."""
    return directory / f".ragtune-{stage}"


def owned_files(directory: Path, stage: str) -> set[str]:
    """Names of files ``stage`` wrote in ``directory`` (empty when it wrote none)."""
    marker = marker_path(directory, stage)
    if not marker.is_file():
        return set()
    return set(json.loads(marker.read_text(encoding="utf-8"))["files"])


def refuse_foreign(directory: Path, stage: str, key: str) -> set[str]:
    """The files ``stage`` owns in ``directory``; refuse when anything else is there."""
    owned = owned_files(directory, stage)
    if not directory.exists():
        return owned
    if not directory.is_dir():
        raise ConfigError(f"{key} = {directory}: is a file, not a folder; choose another path")
    foreign = sorted(
        entry.name
        for entry in directory.iterdir()
        if entry.name not in owned and entry != marker_path(directory, stage)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise ConfigError(
            f"{key} = {directory}: holds files ragtune {stage} did not write ({shown}); "
            "nothing was changed: move them away (an output of an older ragtune may simply be "
            "deleted) or point it at an empty folder"
        )
    return owned


def write_marker(directory: Path, stage: str, files: Iterable[str]) -> None:
    """Record the files ``stage`` now owns in ``directory`` (written last, atomically)."""
    marker = marker_path(directory, stage)
    temporary = marker.with_name(marker.name + ".tmp")
    temporary.write_text(json.dumps({"files": sorted(files)}) + "\n", encoding="utf-8")
    temporary.replace(marker)
