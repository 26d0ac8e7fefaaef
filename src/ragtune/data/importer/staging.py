"""Where an import writes before it replaces files in ``data/raw``: beside it, never inside.

A killed import must not leave files in the DVC-tracked folder (they would change the data
revision and be versioned by ``ragtune data snapshot``), so temporaries live in a sibling
folder that the next import clears.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ragtune.data.importer.manifest import MANIFEST_FILE, SKIPPED_FILE
from ragtune.data.schema import DOCS, QA

logger = logging.getLogger(__name__)
LEGACY_SUFFIX = ".importing"
"""Older imports wrote ``.<name>.importing`` inside data/raw; those are removed on sight."""
STAGED_FILES = (DOCS.filename, QA.filename, MANIFEST_FILE, SKIPPED_FILE)
"""The only files an import writes to its staging folder (and so the only ones it removes)."""


def staging_dir(raw_dir: Path) -> Path:
    """``<parent>/.<raw_dir name>.importing/``, emptied of any killed import's leftovers."""
    staging = raw_dir.parent / f".{raw_dir.name}{LEGACY_SUFFIX}"
    clear_staging(staging)
    for leftover in (raw_dir / f".{name}{LEGACY_SUFFIX}" for name in STAGED_FILES):
        if leftover.is_file():
            logger.info("removing %s left by an interrupted import", leftover)
            leftover.unlink()
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def clear_staging(staging: Path) -> None:
    """Remove the staging folder and the files an import put there (nothing else is there)."""
    if not staging.is_dir():
        return
    for name in STAGED_FILES:
        (staging / name).unlink(missing_ok=True)
    try:
        staging.rmdir()
    except OSError:
        logger.warning("%s: left in place, it holds something an import did not write", staging)
