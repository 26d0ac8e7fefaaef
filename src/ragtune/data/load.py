"""Strict JSONL loading: refuse malformed input before anything else sees it.

Every error names the file and the line: wrong encoding, a broken JSON line, a missing or
mistyped field, a duplicate id. Nothing is skipped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragtune.data.feed import write_jsonl_with_feed
from ragtune.data.schema import DATASETS, Dataset
from ragtune.errors import DataFormatError


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)`` for each non-blank line of a UTF-8 JSONL file."""
    if not path.exists():
        raise DataFormatError(f"{path}: file not found")
    with path.open("rb") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            row = parse_line(path, line_number, raw_line)
            if row is not None:
                yield line_number, row


def parse_line(path: Path, line_number: int, raw_line: bytes) -> dict[str, Any] | None:
    """One JSONL line as a JSON object (None when blank); errors name the file and line."""
    try:
        line = raw_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{path}:{line_number}: not valid UTF-8 (byte {exc.start}: "
            f"{raw_line[exc.start : exc.start + 1]!r}); re-encode the file as UTF-8"
        ) from None
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{path}:{line_number}: broken JSON ({exc.msg} at column {exc.colno}); "
            "each line must be one complete JSON object"
        ) from None
    if not isinstance(row, dict):
        raise DataFormatError(
            f"{path}:{line_number}: expected a JSON object, got {type(row).__name__}"
        )
    return row


def check_row(dataset: Dataset, path: Path, line_number: int, row: dict[str, Any]) -> None:
    """Raise DataFormatError if ``row`` lacks a required field or has one of the wrong type."""
    for field, expected in dataset.fields.items():
        if field not in row or row[field] is None:
            raise DataFormatError(
                f"{path}:{line_number}: missing required field '{field}' "
                f"({dataset.name} rows need: {', '.join(dataset.fields)})"
            )
        value = row[field]
        # bool is an int subclass; a revision of `true` is still wrong.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise DataFormatError(
                f"{path}:{line_number}: field '{field}' should be "
                f"{getattr(expected, '__name__', expected)}, got {type(value).__name__}"
            )


def load_dataset(dataset: Dataset, directory: Path) -> list[dict[str, Any]]:
    """Load and structurally check one dataset; duplicate ids name both lines."""
    path = directory / dataset.filename
    rows: list[dict[str, Any]] = []
    if not path.exists() and not dataset.required:
        return rows
    first_seen: dict[str, int] = {}
    for line_number, row in iter_jsonl(path):
        check_row(dataset, path, line_number, row)
        check_unique(dataset, path, line_number, row[dataset.id_field], first_seen)
        rows.append(row)
    return rows


def check_unique(
    dataset: Dataset, path: Path, line_number: int, row_id: str, first_seen: dict[str, int]
) -> None:
    """Record ``row_id`` as seen on ``line_number``; a second sighting names both lines."""
    if row_id in first_seen:
        raise DataFormatError(
            f"{path}:{line_number}: duplicate {dataset.id_field} '{row_id}' "
            f"(first seen on line {first_seen[row_id]}); ids must be unique"
        )
    first_seen[row_id] = line_number


def load_all(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Load docs, QA and behaviour examples from ``directory`` (raw or prepared)."""
    return {dataset.name: load_dataset(dataset, directory) for dataset in DATASETS}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows as deterministic UTF-8 JSONL (stable key order from the dicts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl_with_feed(path, rows)
