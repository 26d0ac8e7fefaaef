"""A light query embedder: the same model exported to ONNX, run by ONNX Runtime without torch.

A fresh ``ragtune index query`` process spends most of its time importing torch and
sentence-transformers to embed one question, and a refresh with a few new chunks to embed
spends ~6 s loading them (see :func:`load_document_embedder`). After a refresh, the embedding
model's transformer is exported once to ``<manifest dir>/onnx/<model>/model.onnx`` (when
onnxruntime and onnx are installed, as pyproject.toml pins them) and checked against
sentence-transformers on sample texts: every vector must agree within ``MAX_COSINE_GAP``
(1 - cosine). Queries then tokenise with the model's own ``tokenizer.json`` (the Rust
tokenizers library), run the ONNX graph and apply the same mean pooling and normalisation.
Without the export, or without onnxruntime, queries load sentence-transformers as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from ragtune.config import Settings

logger = logging.getLogger(__name__)

MAX_COSINE_GAP = 1e-3
"""Largest 1 - cosine between an ONNX vector and sentence-transformers' for the same text."""
CHECK_FILE = "check.json"
MODEL_FILE = "model.onnx"
RAW_MODEL_FILE = "exported.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_dir(settings: Settings) -> Path:
    """Where the ONNX export of the configured embedding model lives."""
    from ragtune.index.embed import embedding_model_path

    model_dir = embedding_model_path(settings.index.embedding_model)
    manifest_dir = settings.path(settings.index.manifest_path).parent
    return manifest_dir / "onnx" / model_dir.parent.name / _fingerprint(model_dir)


def _fingerprint(model_dir: Path) -> str:
    """Changes when the model's weights or configuration change."""
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json"):
        path = model_dir / name
        digest.update(path.read_bytes() if path.exists() else b"")
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def runtime_available() -> bool:
    """True when ONNX Runtime can be imported."""
    return importlib.util.find_spec("onnxruntime") is not None


class OnnxEmbedder:
    """The part of SentenceTransformer's interface ragtune's query path uses, on ONNX Runtime."""

    uses_torch = False

    class _Device:
        type = "cpu"

    device = _Device()

    def __init__(self, model_dir: Path, onnx_file: Path, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        self.max_seq_length = int(config["max_seq_length"])
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        # One question: threads only wait for each other. Document batches: every core.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # The export was optimised once (``_optimise``); optimising again costs ~0.2 s a process.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {item.name for item in self._session.get_inputs()}

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with special tokens, untruncated."""
        return len(self._counter.encode(text).ids)

    def get_embedding_dimension(self) -> int:
        return int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit-length mean-pooled vectors, as sentence-transformers computes them."""
        import numpy as np

        rows = []
        # Batches of similar lengths pad less (as sentence-transformers sorts); order restored.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        texts = [texts[i] for i in order]
        for start in range(0, len(texts), batch_size):
            encoded = self._tokenizer.encode_batch(list(texts[start : start + batch_size]))
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            tokens = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (tokens[0] * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            rows.append(
                pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            )
        if not rows:
            return np.zeros((0, 0), np.float32)
        vectors = np.concatenate(rows).astype(np.float32)
        restored = np.empty_like(vectors)
        restored[order] = vectors
        return restored


def load_query_embedder(settings: Settings, threads: int = 1) -> Any | None:
    """The ONNX embedder when a checked export exists and onnxruntime is installed, else None."""
    from ragtune.index.embed import embedding_model_path

    folder = export_dir(settings)
    if not (folder / CHECK_FILE).exists() or not runtime_available():
        return None
    started = time.perf_counter()
    embedder = OnnxEmbedder(
        embedding_model_path(settings.index.embedding_model), folder / MODEL_FILE, threads
    )
    logger.info("loaded ONNX query embedder in %.2fs", time.perf_counter() - started)
    return embedder


ONNX_MAX_TEXTS = 256
"""New texts up to which a refresh embeds with the checked ONNX export instead of torch.

Measured on 2 CPUs (document chunks of up to 256 tokens): the export loads in 0.3 s and
embeds ~15 chunks/s on two threads; sentence-transformers takes ~6 s to load (torch) and
embeds ~20/s. Below ~370 texts the export is done first; their vectors agreed within 2e-7
(1 - cosine)."""


def load_document_embedder(settings: Settings, count: int) -> Any:
    """The model a refresh embeds ``count`` new texts with: the export for a few, else torch.

    Only an export whose check covered a text longer than the model's window (see
    :func:`export_query_model`) embeds documents; vectors are cached by content hash, so a
    later full build reuses them whichever runtime made them.
    """
    if count <= ONNX_MAX_TEXTS and _checked_on_long_text(export_dir(settings)):
        embedder = load_query_embedder(settings, threads=os.cpu_count() or 1)
        if embedder is not None:
            return embedder
    from ragtune.index.embed import load_embedder

    return load_embedder(settings.index)


def _checked_on_long_text(folder: Path) -> bool:
    try:
        check = json.loads((folder / CHECK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(check, dict) and bool(check.get("long_text"))


def _token_embeddings_module(transformer: Any, names: Sequence[str]) -> Any:
    """The transformer as a module of positional inputs returning token embeddings only."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: Any) -> Any:
            named = dict(zip(names, inputs, strict=True))
            return self.transformer(**named).last_hidden_state

    return TokenEmbeddings()


def export_query_model(
    settings: Settings, model: SentenceTransformer, samples: Sequence[str]
) -> Path | None:
    """Export ``model``'s transformer to ONNX and check it on ``samples``; None when not possible.

    The export is written beside its final place and renamed in only after every sample's
    vector matched sentence-transformers' within MAX_COSINE_GAP.
    """
    import shutil

    folder = export_dir(settings)
    if _checked_on_long_text(folder):  # an export checked before documents used it is redone
        return folder
    if not runtime_available() or importlib.util.find_spec("onnx") is None:
        logger.info("onnxruntime/onnx not installed: queries embed with sentence-transformers")
        return None
    import numpy as np
    import torch

    from ragtune.index.embed import embedding_model_path

    started = time.perf_counter()
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    example = model.tokenizer(["an example question"], return_tensors="pt")
    names = [name for name in INPUTS if name in example]
    with torch.no_grad():
        torch.onnx.export(
            _token_embeddings_module(model[0].auto_model.eval(), names),
            tuple(example[name] for name in names),
            str(partial / RAW_MODEL_FILE),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names}
            | {"token_embeddings": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    _optimise(partial / RAW_MODEL_FILE, partial / MODEL_FILE)
    (partial / RAW_MODEL_FILE).unlink()
    model_dir = embedding_model_path(settings.index.embedding_model)
    light = OnnxEmbedder(model_dir, partial / MODEL_FILE)
    texts = list(samples) or ["an example question"]
    # One text longer than the model's window: documents are embedded with the export too.
    texts.append(" ".join(texts * (1 + 8 * model.max_seq_length // max(1, len(" ".join(texts))))))
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    gap = float(np.max(1.0 - np.sum(light.encode(texts) * expected, axis=1)))
    if gap > MAX_COSINE_GAP:
        shutil.rmtree(partial, ignore_errors=True)
        logger.warning("ONNX export differs from the model (1 - cosine %.2e); not used", gap)
        return None
    check = {
        "texts": len(texts),
        "max_cosine_gap": gap,
        "model_dir": str(model_dir),
        "long_text": light.count_tokens(texts[-1]) > model.max_seq_length,
    }
    (partial / CHECK_FILE).write_text(json.dumps(check, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    logger.info(
        "exported the query model to ONNX in %.1fs (1 - cosine at most %.1e over %d texts)",
        time.perf_counter() - started,
        gap,
        len(texts),
    )
    return folder


def _optimise(source: Path, target: Path) -> None:
    """Save ONNX Runtime's portable (basic) graph optimisations of ``source`` as ``target``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def prepare_query_model(settings: Settings, questions: Sequence[str]) -> str:
    """Make the checked ONNX export of the query model if it is missing; say what happened."""
    if _checked_on_long_text(export_dir(settings)):
        return "present"
    if not runtime_available() or importlib.util.find_spec("onnx") is None:
        return "skipped: onnxruntime/onnx not installed (pip install -e . installs them)"
    from ragtune.index.embed import load_embedder

    folder = export_query_model(settings, load_embedder(settings.index), questions)
    return "exported" if folder else f"rejected: vectors differ by more than {MAX_COSINE_GAP}"
