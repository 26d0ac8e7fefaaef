"""Bytes → text for imported files: encoding detection, binary detection, dates and titles."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import PurePosixPath

from ragtune.errors import DataFormatError

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Control characters (Unicode category Cc) other than tab, newline, CR, form and line feed.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_DEBRIS = re.compile(r"[\ud800-\udfff\ufffd]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
_MAX_CONTROL_SHARE = 0.01
_NEWLINES = str.maketrans({"\r": "\n", "\f": "\n", "\v": "\n"})


class UnreadableFile(DataFormatError):
    """One input file cannot be turned into text; the importer lists it and skips it."""


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (BOM optional), UTF-16 with BOM, else Windows-1252/Latin-1."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"undecodable UTF-16 text (byte {exc.start})") from None
    if b"\x00" in data:
        raise UnreadableFile("binary content (NUL bytes), not a text file")
    try:
        return _checked(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    # Valid multi-byte UTF-8 before the bad byte means a damaged UTF-8 file, not Latin-1:
    # decoding it as Windows-1252 would silently turn every accent into mojibake.
    if any(byte >= 0x80 for byte in data[:first_bad]):
        raise UnreadableFile(
            f"undecodable text: UTF-8 up to byte {first_bad}, then an invalid byte "
            f"0x{data[first_bad]:02x}; re-save the file as UTF-8"
        )
    try:
        return _checked(data.decode("cp1252"))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"undecodable text: neither UTF-8 nor Windows-1252/Latin-1 "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save the file as UTF-8"
        ) from None


def _checked(text: str) -> str:
    """Refuse text that is mostly control characters (a binary file that happened to decode)."""
    controls = len(_CONTROLS.findall(text))
    if controls and controls > _MAX_CONTROL_SHARE * len(text):
        raise UnreadableFile(f"binary content ({controls} control characters), not a text file")
    return text


def clean_text(text: str) -> str:
    """Unify newlines, drop control characters and decoding debris, trim blank edges."""
    text = text.replace("\r\n", "\n").translate(_NEWLINES)
    # U+FFFD and lone surrogates are what lossy decoders (and PDF glyph maps) leave behind;
    # validation refuses them, and they carry no meaning a reader or an embedding could use.
    text = _DEBRIS.sub("", _CONTROLS.sub("", text))
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def clean_line(text: str) -> str:
    """One-line field (a title): clean text with every run of whitespace made one space."""
    return " ".join(clean_text(text).split())


def iso_timestamp(value: object) -> str | None:
    """A date/datetime/ISO string as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); None when not a date."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def mtime_timestamp(mtime: float) -> str:
    """A file modification time as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(mtime, UTC).strftime(TIMESTAMP_FORMAT)


def title_from_path(relative_path: str) -> str:
    """A readable title from a file name: ``getting_started.md`` → ``Getting started``."""
    stem = PurePosixPath(relative_path).stem
    words = re.sub(r"[-_.]+", " ", stem).strip() or stem
    return words[:1].upper() + words[1:]


def shorten(text: str, limit: int) -> str:
    """Cut a one-line string to ``limit`` characters at a word boundary, with an ellipsis."""
    text = clean_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut + "…"


def split_text(text: str, max_chars: int, min_chars: int = 0) -> list[str]:
    """Cut text longer than ``max_chars`` into balanced parts at paragraph, line or word breaks."""
    if len(text) <= max_chars:
        return [text]
    parts_needed = -(-len(text) // max_chars)
    target = len(text) / parts_needed
    pieces = [piece for paragraph in text.split("\n\n") for piece in _fit(paragraph, max_chars)]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if current and (len(joined) > max_chars or len(current) >= target):
            parts.append(current)
            current = piece
        else:
            current = joined
    parts.append(current)
    return _absorb_short_parts(parts, max_chars, min_chars)


def _absorb_short_parts(parts: list[str], max_chars: int, min_chars: int) -> list[str]:
    """Merge each part under ``min_chars`` (a lone heading) into a neighbour, re-halving if long."""
    index = 0
    while index < len(parts):
        if len(parts) == 1 or len(parts[index]) >= min_chars:
            index += 1
            continue
        first = index if index + 1 < len(parts) else index - 1
        combined = f"{parts[first]}\n\n{parts[first + 1]}"
        halves = [combined] if len(combined) <= max_chars else _halve(combined, max_chars)
        if min(map(len, halves)) < min_chars:
            index += 1  # limits too tight to fix (min_chars near max_chars): leave it
            continue
        parts[first : first + 2] = halves
        index = first
    return parts


def _halve(text: str, max_chars: int) -> list[str]:
    """Cut text in two parts of at most ``max_chars`` at the line or word break nearest the middle."""
    middle = len(text) // 2
    low, high = max(len(text) - max_chars, len(text) // 4), min(max_chars, 3 * len(text) // 4)
    for separator in ("\n", " "):
        before, after = text.rfind(separator, low, middle), text.find(separator, middle, high)
        candidates = [cut for cut in (before, after) if cut > 0]
        if candidates:
            cut = min(candidates, key=lambda position: abs(position - middle))
            return [text[:cut].rstrip(), text[cut:].lstrip()]
    return [text[:middle], text[middle:]]


def _fit(paragraph: str, max_chars: int) -> list[str]:
    """A paragraph as pieces of at most ``max_chars``, cut at line breaks, then spaces."""
    if len(paragraph) <= max_chars:
        return [paragraph]
    pieces: list[str] = []
    rest = paragraph
    while len(rest) > max_chars:
        window = rest[:max_chars]
        cut = max(window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > max_chars // 2 else max_chars
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces
