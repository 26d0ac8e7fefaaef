"""The import manifest (path → doc ids, content hash, mtime) and the per-document change diff.

The manifest is JSONL in ``data/raw`` so DVC versions it and ``git diff``/``dvc diff`` read it.
It holds hashes, never texts, so even a 10,000-file corpus costs a few MB of memory.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ragtune.data.load import iter_jsonl
from ragtune.errors import DataFormatError

MANIFEST_FILE = "import_manifest.jsonl"
SKIPPED_FILE = "import_skipped.jsonl"
_SLUG_LENGTH = 60
# The same rule the docs suite enforces (ragtune.data.suites.DOC_ID_PATTERN).
DOC_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def slug(value: str) -> str:
    """Lower-case ASCII words joined by ``-``: ``Guides/Über Setup`` → ``guides-uber-setup``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_SLUG_LENGTH].strip("-")


def path_doc_id(relative_path: str) -> str:
    """Stable id from the relative path: readable slug + 6 hex of the exact path (no collisions)."""
    stem = str(PurePosixPath(relative_path).with_suffix(""))
    digest = hashlib.sha1(relative_path.encode("utf-8")).hexdigest()[:6]
    return f"{slug(stem) or 'doc'}-{digest}"


def part_doc_id(base_id: str, part: int) -> str:
    """Id of part ``part`` (1-based) of a document split for length; part 1 keeps the base id."""
    return base_id if part == 1 else f"{base_id}:p{part}"


def row_doc_id(file_id: str, row_id: str | None, row_number: int) -> str:
    """Id of a table row: the row's own id when it is citation-safe, else derived from the file."""
    if row_id and DOC_ID_PATTERN.match(row_id):
        return row_id
    if row_id:
        return f"{file_id}:{slug(row_id) or hashlib.sha1(row_id.encode()).hexdigest()[:8]}"
    return f"{file_id}:r{row_number}"


def content_hashes(title: str, text: str, updated_at: str) -> tuple[bytes, bytes]:
    """(digest of the whole document, digest of its text alone — what a rename keeps).

    Raw 16-byte digests, not hex: one import holds three per document in memory.
    """
    document = hashlib.blake2b(json.dumps([title, text, updated_at]).encode(), digest_size=16)
    return document.digest(), hashlib.blake2b(text.encode(), digest_size=16).digest()


def body_hash(title: str, text: str) -> bytes:
    """Digest of what a document says, whatever its date."""
    return hashlib.blake2b(json.dumps([title, text]).encode(), digest_size=16).digest()


def file_sha256(path: Path) -> tuple[str, bytes]:
    """The file's bytes and their sha256."""
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), data


@dataclass(frozen=True)
class ManifestEntry:
    """One imported file: where it was, what it hashed to, which docs it became."""

    path: str
    sha256: str
    size: int
    mtime: str
    parser: str
    doc_ids: list[str]

    def to_row(self) -> dict[str, object]:
        """The JSONL row (stable key order)."""
        return {
            "path": self.path,
            "doc_ids": self.doc_ids,
            "sha256": self.sha256,
            "size": self.size,
            "mtime": self.mtime,
            "parser": self.parser,
        }


def read_manifest(raw_dir: Path) -> dict[str, ManifestEntry]:
    """The previous import's manifest by path (empty when there was none)."""
    path = raw_dir / MANIFEST_FILE
    if not path.exists():
        return {}
    entries = {}
    for _, row in iter_jsonl(path):
        entries[row["path"]] = ManifestEntry(
            path=row["path"],
            sha256=row["sha256"],
            size=int(row["size"]),
            mtime=row["mtime"],
            parser=row.get("parser", ""),
            doc_ids=list(row["doc_ids"]),
        )
    return entries


@dataclass(frozen=True)
class StoredDoc:
    """Where a previously written doc row sits in the old docs.jsonl and what it hashed to."""

    offset: int
    length: int
    doc_hash: bytes
    text_hash: bytes
    body_hash: bytes
    """Hash of title and text: unchanged means the doc keeps its ``updated_at`` on re-parse."""
    updated_at: str


def scan_docs(docs_file: Path) -> dict[str, StoredDoc]:
    """Index an existing docs.jsonl by doc_id, one line at a time (texts are not kept)."""
    index: dict[str, StoredDoc] = {}
    if not docs_file.exists():
        return index
    offset = 0
    with docs_file.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataFormatError(
                        f"{docs_file}:{line_number}: broken JSON ({exc.msg}); restore the file "
                        "(`dvc checkout`) or delete it to import from scratch"
                    ) from None
                title, text = str(row.get("title", "")), str(row.get("text", ""))
                updated_at = str(row.get("updated_at", ""))
                doc_hash, text_hash = content_hashes(title, text, updated_at)
                index[str(row.get("doc_id"))] = StoredDoc(
                    offset, len(line), doc_hash, text_hash, body_hash(title, text), updated_at
                )
            offset += len(line)
    return index


@dataclass
class ChangeSummary:
    """What a re-import did to the corpus, document by document."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        """Counts per kind of change, in reading order."""
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "renamed": len(self.renamed),
            "unchanged": self.unchanged,
        }


def diff_docs(old: dict[str, StoredDoc], new: Iterable[tuple[str, bytes, bytes]]) -> ChangeSummary:
    """Compare old docs with new ``(doc_id, doc_hash, text_hash)``; same text under a new id is a rename."""
    summary = ChangeSummary()
    seen: set[str] = set()
    added: list[tuple[str, bytes]] = []
    for doc_id, doc_hash, text_hash in new:
        seen.add(doc_id)
        previous = old.get(doc_id)
        if previous is None:
            added.append((doc_id, text_hash))
        elif previous.doc_hash != doc_hash:
            summary.changed.append(doc_id)
        else:
            summary.unchanged += 1
    gone_by_text: dict[bytes, list[str]] = {}
    for doc_id in sorted(set(old) - seen):
        gone_by_text.setdefault(old[doc_id].text_hash, []).append(doc_id)
    for doc_id, text_hash in added:
        candidates = gone_by_text.get(text_hash)
        if candidates:
            summary.renamed.append((candidates.pop(0), doc_id))
        else:
            summary.added.append(doc_id)
    summary.removed = sorted(doc for docs in gone_by_text.values() for doc in docs)
    return summary
