"""Raw → prepared: strict loading, Unicode normalisation, an atomic write.

Prepare never repairs content (control characters, empty texts stay as they are) so the
validation stage sees, reports and quarantines them. It only refuses what cannot be read.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from ragtune.config import PrepareConfig
from ragtune.data.load import iter_jsonl, load_dataset, write_jsonl
from ragtune.data.schema import DATASETS, SKIPPED_INPUTS

log = logging.getLogger(__name__)


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
    prepared_dir.parent.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temp dir and swap, so a failure never leaves half a dataset.
    staging = Path(tempfile.mkdtemp(prefix=".prepare-", dir=prepared_dir.parent))
    try:
        counts = {}
        for dataset in DATASETS:
            rows = [
                normalise_row(row, config.unicode_form) for row in load_dataset(dataset, raw_dir)
            ]
            write_jsonl(staging / dataset.filename, rows)
            counts[dataset.name] = len(rows)
        skipped = raw_dir / SKIPPED_INPUTS
        if skipped.exists():
            write_jsonl(staging / SKIPPED_INPUTS, [row for _, row in iter_jsonl(skipped)])
        if prepared_dir.exists():
            shutil.rmtree(prepared_dir)
        staging.rename(prepared_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log.info("prepared %s into %s", counts, prepared_dir)
    return counts
