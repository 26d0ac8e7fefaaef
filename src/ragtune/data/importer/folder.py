"""Which files of a folder an import reads, and the options that shape the rows."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from ragtune.data.importer.readers import SUPPORTED_SUFFIXES

PARSER_VERSION = "1"
"""Bump when readers change what they extract, so unchanged files are parsed again."""
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class ImportOptions:
    """Which files to read and the limits documents must meet (taken from ``validate:``)."""

    globs: tuple[str, ...] = ()
    """Only files matching one of these patterns, read as text unless their extension says
    otherwise (default: every file with a supported extension)."""
    excludes: tuple[str, ...] = ()
    column_map: dict[str, str] = field(default_factory=dict)
    """Doc field → column for JSONL/CSV tables (``{"text": "body"}``)."""
    min_chars: int = 40
    max_chars: int = 20_000
    """Longer texts are split into parts ``<id>``, ``<id>:p2``, … at paragraph breaks."""
    max_title_chars: int = 200
    max_file_bytes: int = 50 * 1024 * 1024
    force: bool = False
    """Parse every file again even when its bytes did not change."""
    progress: bool = True

    def fingerprint(self) -> str:
        """Changes to anything that shapes the rows invalidate rows reused from the last import."""
        shape = [PARSER_VERSION, sorted(self.column_map.items()), self.min_chars, self.max_chars]
        shape.append(self.max_title_chars)
        return hashlib.sha1(json.dumps(shape).encode()).hexdigest()[:10]


def discover_files(
    root: Path, options: ImportOptions, exclude_dir: Path | None = None
) -> tuple[list[str], dict[str, int]]:
    """Sorted relative POSIX paths to import, and counts of unsupported extensions left out."""
    selected: list[str] = []
    ignored: Counter[str] = Counter()
    excluded = exclude_dir.resolve() if exclude_dir else None
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        parts = relative.parts
        if (
            any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts)
            or not path.is_file()
        ):
            continue
        if excluded and path.resolve().is_relative_to(excluded):
            continue
        rel = relative.as_posix()
        if any(_matches(rel, pattern) for pattern in options.excludes):
            continue
        if options.globs and not any(_matches(rel, pattern) for pattern in options.globs):
            continue
        # A file named by --glob is imported whatever its extension (README, NOTES as text).
        if options.globs or path.suffix.lower() in SUPPORTED_SUFFIXES:
            selected.append(rel)
        else:
            ignored[path.suffix.lower()] += 1
    return sorted(selected), dict(ignored)


def _matches(relative_path: str, pattern: str) -> bool:
    """Glob match on the relative path; ``**/`` also matches the top level, bare names any depth."""
    if fnmatch(relative_path, pattern):
        return True
    if pattern.startswith("**/") and fnmatch(relative_path, pattern[3:]):
        return True
    return "/" not in pattern and fnmatch(relative_path.rsplit("/", 1)[-1], pattern)
