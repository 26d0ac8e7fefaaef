"""Which files of a folder an import reads, and the options that shape the rows."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from ragtune.data.importer.readers import SUPPORTED_SUFFIXES
from ragtune.errors import DataFormatError

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
    follow_symlinks: bool = False
    """Read symlinks that point outside the folder (skipped and listed otherwise)."""
    allow_removals: bool = False
    """Write the import even when it matches no file or removes more than ``max_removal_share``."""
    max_removal_share: float = 0.5
    """Largest share of the previous corpus an import may remove without ``allow_removals``."""

    def fingerprint(self) -> str:
        """Changes to anything that shapes the rows invalidate rows reused from the last import."""
        shape = [PARSER_VERSION, sorted(self.column_map.items()), self.min_chars, self.max_chars]
        shape.append(self.max_title_chars)
        return hashlib.sha1(json.dumps(shape).encode()).hexdigest()[:10]


@dataclass
class Discovery:
    """What a walk of the import folder found: files to read, types left out, paths skipped."""

    files: list[str] = field(default_factory=list)
    """Sorted relative POSIX paths to import."""
    ignored: dict[str, int] = field(default_factory=dict)
    """Counts of unsupported extensions left out."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` for symlinks leaving the folder, symlink loops, unreadable folders."""


def path_spec(patterns: tuple[str, ...], option: str) -> pathspec.PathSpec | None:
    """Gitignore-style patterns (``*.md`` at any depth, ``docs/*.md`` from the root, ``drafts/``)."""
    if not patterns:
        return None
    try:
        return pathspec.PathSpec.from_lines("gitwildmatch", patterns)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(
            f"{option} {' '.join(patterns)}: not a valid pattern ({exc})"
        ) from None


def discover_files(
    root: Path, options: ImportOptions, exclude_dir: Path | None = None
) -> Discovery:
    """Walk ``root`` without ever leaving it (unless ``follow_symlinks``); never raises on odd files."""
    walk = _Walk(root.resolve(), options, exclude_dir.resolve() if exclude_dir else None)
    walk.directory(root, "", frozenset({walk.root}))
    found = walk.found
    return Discovery(sorted(found.files), dict(walk.ignored), found.skipped)


class _Walk:
    def __init__(self, root: Path, options: ImportOptions, excluded: Path | None) -> None:
        self.root = root
        self.options = options
        self.excluded = excluded
        self.includes = path_spec(options.globs, "--glob")
        self.excludes = path_spec(options.excludes, "--exclude")
        self.found = Discovery()
        self.ignored: Counter[str] = Counter()

    def directory(self, path: Path, prefix: str, ancestors: frozenset[Path]) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except OSError as exc:
            self.found.skipped.append((prefix or ".", f"cannot read the folder ({exc.strerror})"))
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIPPED_DIRS:
                continue
            rel = prefix + entry.name
            target = self._target(Path(entry.path), rel)
            if target is None or (self.excluded and target.is_relative_to(self.excluded)):
                continue
            if target.is_dir():
                if target in ancestors:
                    self.found.skipped.append((rel, f"symlink loop (back to {target})"))
                else:
                    self.directory(Path(entry.path), rel + "/", ancestors | {target})
            elif target.is_file():
                self._file(rel, target)

    def _target(self, path: Path, rel: str) -> Path | None:
        """Where ``path`` really is, or None (recorded as skipped) when it must not be read."""
        if not path.is_symlink():
            return path.resolve()
        try:
            target = path.resolve(strict=True)
        except (RuntimeError, OSError) as exc:
            loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
            reason = "symlink loop" if loop else f"broken symlink to {os.readlink(path)}"
            self.found.skipped.append((rel, reason))
            return None
        if not target.is_relative_to(self.root) and not self.options.follow_symlinks:
            self.found.skipped.append(
                (
                    rel,
                    f"symlink to {target}, outside the import folder; "
                    "pass --follow-symlinks to import it",
                )
            )
            return None
        return target

    def _file(self, rel: str, target: Path) -> None:
        if self.excludes and self.excludes.match_file(rel):
            return
        if self.includes and not self.includes.match_file(rel):
            return
        # A file named by --glob is imported whatever its extension (README, NOTES as text).
        suffix = Path(rel).suffix.lower()
        if self.includes or suffix in SUPPORTED_SUFFIXES:
            self.found.files.append(rel)
        else:
            self.ignored[suffix] += 1
