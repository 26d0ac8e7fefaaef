"""Read the prepared documents for a refresh, parsing only lines the previous version did not hold.

A refresh needs every document's id and hash (to diff) but the text only of changed ones (to
chunk). Each line of ``docs.jsonl`` has a digest of its bytes; a line the previous version was
built from (``line digest → doc_id``, recorded with the version beside its ``doc_id →
doc_hash``) is not parsed or re-hashed again. The digests come from the line feed ``prepare``
wrote with the file (:mod:`ragtune.data.feed`: the file is not read at all) or, when there is
no current feed, from hashing each line (~0.2 s at 20,000 documents, against ~1.2 s of JSON
parsing, field checks and document hashing). Every line that is parsed is checked as
:func:`ragtune.data.load.load_dataset` checks it, with the same file:line errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import not_
from pathlib import Path
from typing import Any

from ragtune.data.feed import LineFeed, line_digest, read_feed
from ragtune.data.load import check_row, check_unique, load_dataset, parse_line
from ragtune.data.schema import DOCS
from ragtune.errors import RetrievalIndexError
from ragtune.index.diff import doc_hash


@dataclass
class PreparedDocs:
    """The prepared documents that have text to index: ids and hashes, text on demand."""

    path: Path
    read_line: Callable[[int], bytes]
    """Line number → its bytes."""
    hashes: dict[str, str] = field(default_factory=dict)
    """doc_id → :func:`ragtune.index.diff.doc_hash`."""
    lines: dict[str, str] = field(default_factory=dict)
    """line digest → doc_id: what the next refresh need not parse again."""
    _numbers: dict[str, int] = field(default_factory=dict)
    _parsed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hashes)

    def docs(self, doc_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The rows of these documents, in file order (parsed now if they were not before)."""
        rows = []
        for doc_id in sorted(doc_ids, key=self._numbers.__getitem__):
            if doc_id not in self._parsed:
                number = self._numbers[doc_id]
                self._parsed[doc_id] = _checked(self.path, number, self.read_line(number))
            rows.append(self._parsed[doc_id])
        return rows


def scan_prepared_docs(
    directory: Path, known_lines: Mapping[str, str], known_hashes: Mapping[str, str]
) -> PreparedDocs:
    """Ids and hashes of the documents in ``directory/docs.jsonl``.

    ``known_lines`` (line digest → doc_id) and ``known_hashes`` (doc_id → doc_hash): what a
    version was built from; those lines are not parsed. Lines are matched in bulk (map, zip,
    set), so a 20,000-line file with 10 changed lines costs a few milliseconds of Python.
    """
    path = directory / DOCS.filename
    if not path.exists():
        load_dataset(DOCS, directory)  # the loader's own "file not found"
    feed = read_feed(path)
    numbers: Sequence[int]
    if feed is None:
        raw_lines = path.read_bytes().split(b"\n")
        numbers = [number for number, raw in enumerate(raw_lines, start=1) if raw.strip()]
        digests = [line_digest(raw_lines[number - 1]) for number in numbers]
        prepared = PreparedDocs(path, lambda number: raw_lines[number - 1])
    else:
        numbers, digests = range(1, len(feed.digests) + 1), feed.digests
        prepared = PreparedDocs(path, _FeedLines(path, feed))
    ids = list(map(known_lines.get, digests))
    known = list(map(known_hashes.__contains__, ids))
    kept_ids, kept_numbers = list(compress(ids, known)), list(compress(numbers, known))
    fresh = list(map(not_, known))
    parsed = [
        (number, digest, _checked(path, number, prepared.read_line(number)))
        for number, digest in zip(compress(numbers, fresh), compress(digests, fresh), strict=True)
    ]
    parsed_ids = [str(row[DOCS.id_field]) for _, _, row in parsed]
    if len(set(kept_ids).union(parsed_ids)) != len(kept_ids) + len(parsed_ids):
        parsed_numbers = [number for number, _, _ in parsed]
        _name_duplicate(path, kept_numbers + parsed_numbers, kept_ids + parsed_ids)
    prepared.hashes.update(zip(kept_ids, map(known_hashes.__getitem__, kept_ids), strict=True))
    prepared.lines.update(zip(compress(digests, known), kept_ids, strict=True))
    prepared._numbers.update(zip(kept_ids, kept_numbers, strict=True))
    for (number, digest, row), doc_id in zip(parsed, parsed_ids, strict=True):
        if str(row["text"]).strip():  # a document without text has nothing to index
            prepared.hashes[doc_id] = doc_hash(row)
            prepared.lines[digest] = doc_id
            prepared._numbers[doc_id] = number
            prepared._parsed[doc_id] = row
    return prepared


def _name_duplicate(path: Path, numbers: list[int], doc_ids: list[str]) -> None:
    """Refuse a doc_id on two lines, naming both, as the full loader does."""
    first_seen: dict[str, int] = {}
    for number, doc_id in sorted(zip(numbers, doc_ids, strict=True)):
        check_unique(DOCS, path, number, doc_id, first_seen)


class _FeedLines:
    """Lines of the file where its feed says they are, checked against the feed's digests.

    Read one by one (a few changed lines), or the whole file once more than
    ``SINGLE_READS`` are asked for (a params change re-chunks every document).
    """

    SINGLE_READS = 64

    def __init__(self, path: Path, feed: LineFeed) -> None:
        self.path, self.feed = path, feed
        self.reads = 0
        self.data: bytes | None = None

    def __call__(self, number: int) -> bytes:
        start, length = self.feed.span(number - 1)
        self.reads += 1
        if self.data is None and self.reads > self.SINGLE_READS:
            self.data = self.path.read_bytes()
        if self.data is not None:
            raw = self.data[start : start + length]
        else:
            with self.path.open("rb") as handle:
                handle.seek(start)
                raw = handle.read(length)
        if line_digest(raw) != self.feed.digests[number - 1]:
            raise RetrievalIndexError(
                f"{self.path}:{number}: the file changed while the refresh read it "
                "(`ragtune data prepare` ran meanwhile?); run the refresh again"
            )
        return raw


def _checked(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    row = parse_line(path, number, raw)
    assert row is not None  # blank lines are skipped before
    check_row(DOCS, path, number, row)
    return row
