"""One file → its title, text and date, per format (Markdown, text, rST, HTML, PDF)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragtune.data.importer.html import parse_html
from ragtune.data.importer.text import (
    UnreadableFile,
    clean_text,
    decode_text,
    iso_timestamp,
)

logger = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_DATE_KEYS = ("updated_at", "updated", "last_modified", "lastmod", "modified", "date")


@dataclass(frozen=True)
class ParsedFile:
    """What one document file yields; empty title or missing date fall back to path and mtime."""

    title: str
    text: str
    updated_at: str | None = None


def read_markdown(data: bytes) -> ParsedFile:
    """Markdown: YAML front matter (title, date), else the first heading; the body as text."""
    text = decode_text(data).replace("\r\n", "\n")
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(match.group(1))
        text = text[match.end() :]
    title = str(meta.get("title") or "").strip() or _markdown_heading(text)
    updated = next((iso_timestamp(meta[key]) for key in _DATE_KEYS if key in meta), None)
    if updated is None and any(key in meta for key in _DATE_KEYS):
        logger.warning("front matter date is not ISO 8601; using the file's mtime instead")
    return ParsedFile(title=title, text=clean_text(text), updated_at=updated)


def _front_matter(block: str) -> dict[str, object]:
    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise UnreadableFile(f"front matter is not valid YAML: {exc}") from None
    return meta if isinstance(meta, dict) else {}


def _markdown_heading(text: str) -> str:
    """The first ATX (``# Title``) or setext (``Title`` / ``=====``) heading outside code fences."""
    in_fence = False
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            return heading.group(1).strip()
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and _SETEXT_UNDERLINE.match(following):
            return line.strip()
    return ""


def read_rst(data: bytes) -> ParsedFile:
    """reStructuredText as text; the title is the first underlined (or overlined) heading."""
    text = decode_text(data).replace("\r\n", "\n")
    lines = text.split("\n")
    title = ""
    for index, line in enumerate(lines[:-1]):
        candidate = line.strip()
        underline = lines[index + 1].rstrip()
        if (
            candidate
            and not _RST_ADORNMENT.match(line)
            and not candidate.startswith("..")
            and _RST_ADORNMENT.match(underline)
            and len(underline) >= len(candidate)
        ):
            title = candidate
            break
    return ParsedFile(title=title, text=clean_text(text))


def read_plain(data: bytes) -> ParsedFile:
    """Plain text: the whole file; the title comes from the file name."""
    return ParsedFile(title="", text=clean_text(decode_text(data)))


def read_html(data: bytes) -> ParsedFile:
    """HTML: visible text via BeautifulSoup, ``<title>`` or first heading, modified-date meta."""
    content = parse_html(decode_text(data))
    return ParsedFile(title=content.title, text=content.text, updated_at=content.updated_at)


def read_pdf(data: bytes) -> ParsedFile:
    """PDF via pypdf: the text of every page; title and modification date from the metadata."""
    from io import BytesIO

    from pypdf import PasswordType, PdfReader

    if not data.strip():
        raise UnreadableFile("empty file")
    # pypdf raises many exception types on damaged files (its own, ValueError, KeyError,
    # zlib errors...). Each is turned into the file's skip reason, never hidden.
    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise UnreadableFile("encrypted PDF (needs a password); decrypt it and re-import")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata
        title = str(metadata.title or "").strip() if metadata else ""
        updated = iso_timestamp(metadata.modification_date) if metadata else None
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as the reason this file is skipped
        raise UnreadableFile(f"broken PDF ({type(exc).__name__}: {exc})") from None
    text = clean_text("\n\n".join(pages))
    if not text:
        raise UnreadableFile("PDF has no extractable text (scanned images?); OCR it first")
    return ParsedFile(title=title, text=text, updated_at=updated)


DOCUMENT_READERS: dict[str, Callable[[bytes], ParsedFile]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_plain,
    ".text": read_plain,
    ".rst": read_rst,
    ".rest": read_rst,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}
TABLE_SUFFIXES = (".jsonl", ".csv")
SUPPORTED_SUFFIXES = (*DOCUMENT_READERS, *TABLE_SUFFIXES)


def read_document(path: Path, data: bytes) -> ParsedFile:
    """Parse one document file by its extension (other names, picked by --glob, as plain text)."""
    return DOCUMENT_READERS.get(path.suffix.lower(), read_plain)(data)
