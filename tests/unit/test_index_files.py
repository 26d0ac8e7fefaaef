"""An index archive keeps bytes and holes, and refuses names that escape its target."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from ragtune.index.files import pack_tree, unpack_sparse

MB = 1 << 20


def _preallocated(path: Path, data: bytes, size: int) -> None:
    """Like an edge segment file: a little data at the start of a large sparse file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.truncate(size)


def test_round_trip_keeps_bytes_and_leaves_the_zeros_as_holes(tmp_path: Path) -> None:
    shard = tmp_path / "shard"
    _preallocated(shard / "segments" / "a" / "vectors.dat", b"\x01" * 3000, 32 * MB)
    (shard / "edge_config.json").write_text('{"vectors": 384}')
    (shard / "empty").mkdir()

    archive = pack_tree(shard, tmp_path / "out" / "index.tar.gz")
    assert archive.stat().st_size < MB  # 32 MB of zeros compress away

    target = tmp_path / "copy"
    unpack_sparse(archive, target)
    copied = target / "segments" / "a" / "vectors.dat"
    assert copied.read_bytes() == (shard / "segments" / "a" / "vectors.dat").read_bytes()
    assert (target / "edge_config.json").read_text() == '{"vectors": 384}'
    assert (target / "empty").is_dir()
    if hasattr(os, "SEEK_DATA"):  # a filesystem with holes: far fewer blocks than bytes
        assert copied.stat().st_blocks * 512 < 4 * MB


def test_a_member_escaping_the_target_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        member = tarfile.TarInfo("../outside.txt")
        member.size = 2
        tar.addfile(member, io.BytesIO(b"hi"))
    with pytest.raises(tarfile.OutsideDestinationError):
        unpack_sparse(archive, tmp_path / "target")
    assert not (tmp_path / "outside.txt").exists()
