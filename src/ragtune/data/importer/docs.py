"""Import a folder of documents into ``data/raw/docs.jsonl``, streaming, with exact change reports.

Rows stream to a temporary file that replaces ``docs.jsonl`` only when the whole folder has been
read, so an interrupted import leaves the previous corpus intact. Files whose bytes did not change
since the last import are copied from the previous ``docs.jsonl`` instead of being parsed again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from ragtune.data.importer.folder import ImportOptions, discover_files
from ragtune.data.importer.manifest import (
    MANIFEST_FILE,
    SKIPPED_FILE,
    ManifestEntry,
    StoredDoc,
    body_hash,
    content_hashes,
    diff_docs,
    file_sha256,
    part_doc_id,
    path_doc_id,
    read_manifest,
    row_doc_id,
    scan_docs,
)
from ragtune.data.importer.readers import TABLE_SUFFIXES, read_document
from ragtune.data.importer.report import ImportReport, refuse_removals, stale_citations
from ragtune.data.importer.staging import clear_staging, staging_dir
from ragtune.data.importer.tables import SkippedRow, iter_table, refuse_unmapped
from ragtune.data.importer.text import (
    UnreadableFile,
    clean_line,
    mtime_timestamp,
    shorten,
    split_text,
    title_from_path,
)
from ragtune.data.schema import DOCS
from ragtune.errors import DataFormatError

logger = logging.getLogger(__name__)

SOURCE = "import"


def import_folder(
    source_dir: Path, raw_dir: Path, options: ImportOptions | None = None
) -> ImportReport:
    """Turn every supported file under ``source_dir`` into docs rows in ``raw_dir/docs.jsonl``."""
    from tqdm import tqdm

    options = options or ImportOptions()
    if not source_dir.is_dir():
        raise DataFormatError(
            f"{source_dir}: not a folder; point `ragtune data import` at a folder"
        )
    started = time.perf_counter()
    raw_dir.mkdir(parents=True, exist_ok=True)
    found = discover_files(source_dir, options, exclude_dir=raw_dir)
    paths, ignored = found.files, found.ignored
    old_manifest = read_manifest(raw_dir)
    docs_file = raw_dir / DOCS.filename
    old_docs = scan_docs(docs_file)
    run = _ImportRun(source_dir, options, old_manifest, old_docs)
    run.skipped.extend(found.skipped)
    targets = [docs_file, raw_dir / MANIFEST_FILE, raw_dir / SKIPPED_FILE]
    staging = staging_dir(raw_dir)
    temporaries = [staging / target.name for target in targets]
    try:
        with ExitStack() as stack:
            docs_out, manifest_out, skipped_out = (
                stack.enter_context(temp.open("wb")) for temp in temporaries
            )
            old_handle = stack.enter_context(docs_file.open("rb")) if old_docs else None
            for rel in tqdm(paths, unit="file", desc="import", disable=not options.progress):
                run.import_file(rel, docs_out, manifest_out, old_handle)
            if options.column_map and run.columns_seen and not run.reused_tables:
                refuse_unmapped(source_dir, run.columns_seen, options.column_map)
            for path, reason in run.skipped:
                skipped_out.write(_jsonl({"path": path, "reason": reason}))
        changes = diff_docs(old_docs, run.new_docs)
        imported = {doc_id for entry in old_manifest.values() for doc_id in entry.doc_ids}
        refuse_removals(
            source_dir, docs_file, options, len(paths), len(old_docs), changes, imported
        )
        for temp, target in zip(temporaries, targets, strict=True):
            os.replace(temp, target)
    finally:
        clear_staging(staging)
    report = ImportReport(
        files=len(paths),
        docs=len(run.new_docs),
        changes=changes,
        skipped=run.skipped,
        ignored=ignored,
        seconds=time.perf_counter() - started,
        warnings=stale_citations(raw_dir, {doc_id for doc_id, _, _ in run.new_docs}),
    )
    logger.info("import: %s in %.1f s", report.render(limit=0).splitlines()[0], report.seconds)
    return report


class _ImportRun:
    """State of one import: what was written so far (ids and hashes only) and what was skipped."""

    def __init__(
        self,
        root: Path,
        options: ImportOptions,
        old_manifest: dict[str, ManifestEntry],
        old_docs: dict[str, StoredDoc],
    ) -> None:
        self.root = root
        self.options = options
        self.fingerprint = options.fingerprint()
        self.old_manifest = old_manifest
        self.old_docs = old_docs
        self.new_docs: list[tuple[str, bytes, bytes]] = []
        self.owner: dict[str, str] = {}
        self.skipped: list[tuple[str, str]] = []
        self.columns_seen: set[str] = set()
        """Columns of every table file parsed, to refuse a ``--map`` naming none of them."""
        self.reused_tables = 0

    def import_file(
        self, rel: str, docs_out: BinaryIO, manifest_out: BinaryIO, old: BinaryIO | None
    ) -> None:
        """Write the docs of one file (reused or parsed) and its manifest row; never raises on bad input."""
        path = self.root / rel
        try:
            stat = path.stat()
            if stat.st_size > self.options.max_file_bytes:
                limit_mb = self.options.max_file_bytes / 1024 / 1024
                raise UnreadableFile(f"too large ({stat.st_size} bytes > {limit_mb:.0f} MB)")
            sha256, data = file_sha256(path)
        except OSError as exc:  # unreadable (permissions), or gone since the folder was listed
            self.skipped.append((rel, f"cannot read the file ({type(exc).__name__}: {exc})"))
            return
        except UnreadableFile as exc:
            self.skipped.append((rel, str(exc)))
            return
        previous = self.old_manifest.get(rel)
        reusable = (
            old is not None
            and not self.options.force
            and previous is not None
            and previous.sha256 == sha256
            and previous.parser == self.fingerprint
            and all(
                doc_id in self.old_docs and doc_id not in self.owner for doc_id in previous.doc_ids
            )
        )
        if reusable and path.suffix.lower() in TABLE_SUFFIXES:
            self.reused_tables += 1  # parsed before with this --map, which was checked then
        doc_ids = (
            self._copy(rel, previous.doc_ids, old, docs_out)  # type: ignore[union-attr,arg-type]
            if reusable
            else self._parse(rel, path, data, mtime_timestamp(stat.st_mtime), docs_out)
        )
        if doc_ids:
            entry = ManifestEntry(
                rel, sha256, stat.st_size, mtime_timestamp(stat.st_mtime), self.fingerprint, doc_ids
            )
            manifest_out.write(_jsonl(entry.to_row()))

    def _copy(self, rel: str, doc_ids: list[str], old: BinaryIO, docs_out: BinaryIO) -> list[str]:
        for doc_id in doc_ids:
            stored = self.old_docs[doc_id]
            old.seek(stored.offset)
            docs_out.write(old.read(stored.length))
            self._record(doc_id, stored.doc_hash, stored.text_hash, rel)
        return doc_ids

    def _parse(
        self, rel: str, path: Path, data: bytes, mtime: str, docs_out: BinaryIO
    ) -> list[str]:
        doc_ids: list[str] = []
        try:
            for item in self._documents(rel, path, data, mtime):
                if isinstance(item, tuple):
                    self.skipped.append(item)
                    continue
                doc_id = item["doc_id"]
                if doc_id in self.owner:
                    reason = (
                        f"duplicate doc_id '{doc_id}' (already imported from {self.owner[doc_id]})"
                    )
                    self.skipped.append((rel, reason))
                    continue
                docs_out.write(_jsonl(item))
                self._record(
                    doc_id, *content_hashes(item["title"], item["text"], item["updated_at"]), rel
                )
                doc_ids.append(doc_id)
        except UnreadableFile as exc:
            self.skipped.append((rel, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one odd file must not abort a 10,000-file run
            logger.warning("importing %s failed", rel, exc_info=True)
            self.skipped.append((rel, f"unexpected error ({type(exc).__name__}: {exc})"))
        return doc_ids

    def _record(self, doc_id: str, doc_hash: bytes, text_hash: bytes, rel: str) -> None:
        self.new_docs.append((doc_id, doc_hash, text_hash))
        self.owner[doc_id] = rel

    def _documents(
        self, rel: str, path: Path, data: bytes, mtime: str
    ) -> Iterator[dict[str, Any] | tuple[str, str]]:
        """Rows for one file, or ``(path, reason)`` for the parts that cannot be imported."""
        file_id = path_doc_id(rel)
        if path.suffix.lower() in TABLE_SUFFIXES:
            for number, row in enumerate(
                iter_table(path, data, self.options.column_map, self.columns_seen), start=1
            ):
                if isinstance(row, SkippedRow):
                    yield rel, f"line {row.line}: {row.reason}"
                    continue
                base_id = row_doc_id(file_id, row.row_id, number)
                title = clean_line(row.title) or f"{title_from_path(rel)} {row.row_id or number}"
                location = f"line {row.line}: "
                yield from self._parts(
                    rel, base_id, title, row.text, row.updated_at, mtime, location
                )
            return
        parsed = read_document(path, data)
        title = clean_line(parsed.title) or title_from_path(rel)
        yield from self._parts(rel, file_id, title, parsed.text, parsed.updated_at, mtime, "")

    def _parts(
        self,
        rel: str,
        base_id: str,
        title: str,
        text: str,
        updated_at: str | None,
        mtime: str,
        location: str,
    ) -> Iterator[dict[str, Any] | tuple[str, str]]:
        """Rows of one document, split for length; without its own date it takes the mtime."""
        if len(text) < self.options.min_chars:
            reason = "no text" if not text else f"too short: {len(text)} characters"
            yield rel, f"{location}{reason} (validate.min_doc_chars is {self.options.min_chars})"
            return
        parts = split_text(text, self.options.max_chars, self.options.min_chars)
        for number, part in enumerate(parts, start=1):
            doc_id = part_doc_id(base_id, number)
            part_title = title if number == 1 else f"{title} (part {number})"
            part_title = shorten(part_title, self.options.max_title_chars)
            yield {
                "doc_id": doc_id,
                "title": part_title,
                "text": part,
                "source": SOURCE,
                "updated_at": updated_at or self._kept_date(doc_id, part_title, part, mtime),
                "path": rel,
            }

    def _kept_date(self, doc_id: str, title: str, text: str, mtime: str) -> str:
        """The previous date of a doc that says the same; a touched file is not a changed doc."""
        previous = self.old_docs.get(doc_id)
        if previous is not None and previous.body_hash == body_hash(title, text):
            return previous.updated_at
        return mtime


def _jsonl(row: dict[str, Any]) -> bytes:
    return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
