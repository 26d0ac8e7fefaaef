"""Sparse-keeping directory copies and archives, atomic small-file writes, fsync helpers."""

from __future__ import annotations

import os
import shutil
import tarfile
import uuid
from pathlib import Path


def copy_sparse_tree(source: Path, target: Path) -> None:
    """Copy a shard directory keeping its files sparse.

    Edge preallocates 32 MB files for a segment's vectors and payloads and writes a few MB of
    them; a plain copy writes every zero (~30x the bytes, then flushed to disk again).
    """
    for folder, _, files in os.walk(source):
        destination = target / Path(folder).relative_to(source)
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            _copy_sparse_file(Path(folder) / name, destination / name)


def _copy_sparse_file(source: Path, target: Path) -> None:
    if not hasattr(os, "SEEK_DATA") or not hasattr(os, "copy_file_range"):  # not Linux
        shutil.copyfile(source, target)
        return
    with open(source, "rb") as reader, open(target, "wb") as writer:
        size = os.fstat(reader.fileno()).st_size
        position = 0
        while position < size:
            try:
                start = os.lseek(reader.fileno(), position, os.SEEK_DATA)
            except OSError:  # only holes are left (ENXIO)
                break
            end = os.lseek(reader.fileno(), start, os.SEEK_HOLE)
            while start < end:
                start += os.copy_file_range(
                    reader.fileno(), writer.fileno(), end - start, start, start
                )
            position = end
        os.ftruncate(writer.fileno(), size)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file and one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(path: Path) -> None:
    """Make a sealed version durable before an alias can name it."""
    for folder, _, files in os.walk(path):
        for name in files:
            descriptor = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        _fsync_dir(Path(folder))


ARCHIVE_BLOCK = 1 << 20


def pack_tree(source: Path, archive: Path) -> Path:
    """``source`` as one gzip'd tar: edge's preallocated zeros compress to almost nothing.

    Artifact stores (MLflow's included) copy files byte by byte, so a shard directory of a few
    MB of data in 32 MB preallocated files would travel as hundreds of MB of zeros.
    """
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(source, arcname=".")
    return archive


def unpack_sparse(archive: Path, target: Path) -> None:
    """Extract a :func:`pack_tree` archive into ``target``, leaving blocks of zeros as holes."""
    zeros = bytes(ARCHIVE_BLOCK)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            # The "data" filter refuses absolute names, links out and names escaping target.
            member = tarfile.data_filter(member, str(target))
            destination = target / member.name
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            reader = tar.extractfile(member) if member.isfile() else None
            if reader is None:  # links and devices: a shard has none
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(destination, "wb") as writer:
                while block := reader.read(ARCHIVE_BLOCK):
                    if block == zeros[: len(block)]:
                        writer.seek(len(block), os.SEEK_CUR)
                    else:
                        writer.write(block)
                writer.truncate(member.size)
