"""The validation gate: a stage that consumes prepared data runs only on data that passed.

``ragtune validate`` records, next to its verdict in ``reports/validation/summary.json``, a
hash of exactly the prepared files it checked. :func:`require_validated` recomputes that hash
and refuses (one line, naming what to run) when the record is missing, failed, or describes
other data, so neither the CLI, DVC nor a scheduled Prefect flow can train or index rows that
Great Expectations rejected or never saw.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import DataNotValidated

if TYPE_CHECKING:
    from ragtune.config import Settings

SUMMARY_FILE = "summary.json"
HASH_KEY = "prepared_sha256"
"""summary.json key holding :func:`prepared_data_hash` of the data that was validated."""


def prepared_data_hash(prepared_dir: Path) -> str:
    """sha256 over the sorted relative names and bytes of every file under ``prepared_dir``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in prepared_dir.rglob("*") if p.is_file()):
        name = path.relative_to(prepared_dir).as_posix().encode()
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def summary_path(settings: Settings) -> Path:
    """reports/validation/summary.json of this project."""
    return settings.path(settings.validate_.reports_dir) / SUMMARY_FILE


def read_summary(settings: Settings) -> dict[str, Any] | None:
    """The latest validation record, or None when there is none (or it cannot be read)."""
    try:
        return json.loads(summary_path(settings).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def require_validated(settings: Settings) -> str:
    """Refuse unless the prepared data on disk is exactly the data that last passed validation.

    Returns the hash of the prepared data. Raises :class:`DataNotValidated` otherwise.
    """
    prepared_dir = settings.path(settings.prepare.prepared_dir)
    if not prepared_dir.is_dir():
        raise DataNotValidated(f"{prepared_dir} does not exist; run `ragtune data prepare` first")
    summary = read_summary(settings)
    where = summary_path(settings)
    if summary is None:
        raise DataNotValidated(
            f"{where}: no validation record for {prepared_dir}; run `ragtune validate` first"
        )
    if not summary.get("success"):
        raise DataNotValidated(
            f"{where}: the prepared data failed validation; fix data/raw, then run "
            "`ragtune data prepare && ragtune validate`"
        )
    current = prepared_data_hash(prepared_dir)
    if summary.get(HASH_KEY) != current:
        raise DataNotValidated(
            f"{where}: {prepared_dir} changed since it was validated; run `ragtune validate`"
        )
    return current
