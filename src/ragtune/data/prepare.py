"""Raw → prepared: strict loading, Unicode normalisation, an atomic write.

Prepare never repairs content (control characters, empty texts stay as they are) so the
validation stage sees, reports and quarantines them. It only refuses what cannot be read.
It replaces only the files it wrote before (listed in ``.ragtune-prepare``) and refuses a
folder holding anything else.
"""

from __future__ import annotations

import logging
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ragtune.config import PrepareConfig
from ragtune.data.feed import forget_feed, publish_feed, write_jsonl_with_feed
from ragtune.data.load import iter_jsonl, load_dataset, write_jsonl
from ragtune.data.owned import marker_path, refuse_foreign, write_marker
from ragtune.data.schema import DATASETS, DOCS, SKIPPED_INPUTS

log = logging.getLogger(__name__)
STAGE = "prepare"
WRITTEN_FILES = (*(dataset.filename for dataset in DATASETS), SKIPPED_INPUTS)
"""Every file prepare may write."""


def normalise_row(row: dict[str, Any], form: str) -> dict[str, Any]:
    """Apply a Unicode normal form to every string (and list of strings) in a row."""
    normalised: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str):
            value = unicodedata.normalize(form, value)
        elif isinstance(value, list):
            value = [unicodedata.normalize(form, v) if isinstance(v, str) else v for v in value]
        normalised[key] = value
    return normalised


def prepare(raw_dir: Path, prepared_dir: Path, config: PrepareConfig) -> dict[str, int]:
    """Load every raw dataset strictly and write normalised copies; return row counts."""
    owned = refuse_foreign(prepared_dir, STAGE, "prepare.prepared_dir")
    prepared_dir.parent.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temp dir and swap, so a failure never leaves half a dataset.
    staging = Path(tempfile.mkdtemp(prefix=".prepare-", dir=prepared_dir.parent))
    try:
        counts, feeds = {}, {}
        for dataset in DATASETS:
            rows = [
                normalise_row(row, config.unicode_form) for row in load_dataset(dataset, raw_dir)
            ]
            feeds[dataset.filename] = write_jsonl_with_feed(staging / dataset.filename, rows)
            counts[dataset.name] = len(rows)
        skipped = raw_dir / SKIPPED_INPUTS
        if skipped.exists():
            write_jsonl(staging / SKIPPED_INPUTS, [row for _, row in iter_jsonl(skipped)])
        write_marker(staging, STAGE, (path.name for path in staging.iterdir()))
        previous = staging.with_name(staging.name + "-previous")
        forget_feed(prepared_dir / DOCS.filename)
        if prepared_dir.exists():
            prepared_dir.rename(previous)
        staging.rename(prepared_dir)
        # Lets the index refresh skip hashing every unchanged line (see ragtune.data.feed).
        publish_feed(prepared_dir / DOCS.filename, feeds[DOCS.filename])
        _remove_owned(previous, owned)
    finally:
        _remove_owned(staging, WRITTEN_FILES)
    log.info("prepared %s into %s", counts, prepared_dir)
    return counts


def _remove_owned(directory: Path, names: Iterable[str]) -> None:
    """Delete the named files (and the marker) of a folder prepare made, then the folder."""
    if not directory.is_dir():
        return
    marker = marker_path(directory, STAGE)
    for path in (
        *(directory / name for name in names),
        marker,
        marker.with_name(marker.name + ".tmp"),
    ):
        path.unlink(missing_ok=True)
    try:
        directory.rmdir()
    except OSError:
        log.warning("%s: left in place, it holds files prepare did not write", directory)
