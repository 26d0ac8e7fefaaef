"""JSONL and CSV files whose rows are documents, with a mapping from doc fields to columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.data.importer.text import UnreadableFile, clean_text, decode_text, iso_timestamp
from ragtune.errors import DataFormatError

DOC_FIELDS = ("doc_id", "title", "text", "updated_at")
# Columns tried, in order, when the user does not map a field explicitly.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "doc_id": ("doc_id", "id"),
    "title": ("title", "name"),
    "text": ("text", "body", "content"),
    "updated_at": ("updated_at", "updated", "modified", "date"),
}


@dataclass(frozen=True)
class TableRow:
    """One document row; ``row_id`` is the mapped id column (None when the table has none)."""

    line: int
    row_id: str | None
    title: str
    text: str
    updated_at: str | None


@dataclass(frozen=True)
class SkippedRow:
    """A row that cannot become a document, with the reason."""

    line: int
    reason: str


def parse_column_map(pairs: list[str]) -> dict[str, str]:
    """``["text=body", "doc_id=id"]`` → ``{"text": "body", "doc_id": "id"}``, fields checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not column or field not in DOC_FIELDS:
            raise DataFormatError(
                f"--map '{pair}': expected FIELD=COLUMN with FIELD one of {', '.join(DOC_FIELDS)}"
            )
        mapping[field] = column
    return mapping


def iter_table(
    path: Path, data: bytes, mapping: Mapping[str, str], columns_seen: set[str] | None = None
) -> Iterator[TableRow | SkippedRow]:
    """Yield each row of a JSONL or CSV file as a TableRow, or a SkippedRow saying why not.

    ``columns_seen`` collects the first row's columns, to check ``--map`` over a whole folder.
    """
    rows_seen = 0
    for line, row in iter_records(path, data):
        if isinstance(row, str):
            yield SkippedRow(line, row)
            continue
        rows_seen += 1
        if rows_seen == 1 and columns_seen is not None:
            columns_seen.update(map(str, row.keys()))
        # Columns are resolved per row: JSONL rows need not all carry the same keys.
        try:
            columns = _resolve_columns(row.keys(), mapping)
        except UnreadableFile as exc:
            if rows_seen == 1:
                raise  # the first row has no text column: the mapping is wrong for this file
            yield SkippedRow(line, str(exc))
            continue
        yield _table_row(line, row, columns)
    if not rows_seen:
        raise UnreadableFile("no rows")


def refuse_unmapped(where: Path, keys: Iterable[Any], mapping: Mapping[str, str]) -> None:
    """A ``--map FIELD=COLUMN`` naming a column no table has refuses the import (no fallback)."""
    present = sorted({str(key) for key in keys})
    for field, column in mapping.items():
        if column not in present:
            raise DataFormatError(
                f"{where}: --map {field}={column}: no column '{column}' (columns present: "
                f"{', '.join(present)}); nothing was imported, fix the --map"
            )


def _resolve_columns(keys: Any, mapping: Mapping[str, str]) -> dict[str, str | None]:
    """Per field, the mapped column if this file has it, else the first default name it has."""
    present = set(keys)
    columns: dict[str, str | None] = {}
    for field, defaults in DEFAULT_COLUMNS.items():
        candidates = (mapping[field], *defaults) if field in mapping else defaults
        columns[field] = next((name for name in candidates if name in present), None)
    if columns["text"] is None:
        looked_for = ", ".join((mapping["text"],) if "text" in mapping else DEFAULT_COLUMNS["text"])
        raise UnreadableFile(
            f"no text column (looked for {looked_for}; columns: "
            f"{', '.join(sorted(map(str, present)))}); map one with --map text=COLUMN"
        )
    return columns


def _table_row(
    line: int, row: dict[str, Any], columns: dict[str, str | None]
) -> TableRow | SkippedRow:
    def value(field: str) -> str:
        column = columns[field]
        raw = row.get(column) if column else None
        return "" if raw is None else str(raw).strip()

    text = clean_text(value("text"))
    if not text:
        return SkippedRow(line, f"empty '{columns['text']}' column")
    return TableRow(
        line=line,
        row_id=value("doc_id") or None,
        title=value("title"),
        text=text,
        updated_at=iso_timestamp(value("updated_at")),
    )


def iter_records(path: Path, data: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line, row)`` of a JSONL or CSV file; ``row`` is a reason string when the line is bad."""
    text = decode_text(data)
    return _jsonl_rows(text) if path.suffix.lower() in (".jsonl", ".json") else _csv_rows(text)


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_number, f"broken JSON ({exc.msg} at column {exc.colno})"
            continue
        yield (
            line_number,
            row if isinstance(row, dict) else f"not a JSON object ({type(row).__name__})",
        )


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if None in row:
                yield reader.line_num, "more cells than header columns"
            elif any(cell and cell.strip() for cell in row.values()):
                yield reader.line_num, row
    except csv.Error as exc:
        raise UnreadableFile(f"broken CSV at line {reader.line_num}: {exc}") from None
