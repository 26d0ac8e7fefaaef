"""The registered generator as an MLflow pyfunc: the LoRA adapter plus a pointer to its base.

Like MLflow's own transformers flavor for PEFT models, only the adapter is stored with the
model; the base model is referenced (package name or path, and its fingerprint) and resolved
through :mod:`ragtune.train.model` on load, so a version costs megabytes, not the base weights.
Input: a DataFrame with a ``question`` column and an optional ``context`` column (passages as
rendered by :func:`ragtune.train.prompt.format_context`). Output: one answer per row.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow.pyfunc

from ragtune.errors import FinetuneError
from ragtune.runtime import BASE_CACHE_ENV
from ragtune.serve.answer import Generator, generate_batch
from ragtune.train.prompt import build_messages


def generate_answer(
    model: Any, tokenizer: Any, question: str, context: str = "", max_new_tokens: int = 96
) -> str:
    """Greedy answer in house style for one question (and optional rendered context)."""
    generator = Generator(model, tokenizer, adapter=True, max_new_tokens=max_new_tokens)
    return generate_batch(generator, [build_messages(question, context)])[0].text


def base_cache_dir() -> Path:
    """Where a packaged GGUF base is dequantised on load: $RAGTUNE_BASE_CACHE, else ~/.cache."""
    configured = os.environ.get(BASE_CACHE_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "ragtune" / "base-models"


def load_logged_generator(artifacts: dict[str, str], config: dict[str, Any]) -> tuple[Any, Any]:
    """Base model (packaged, or the logged ``base`` artifact) with the LoRA adapter attached."""
    from peft import PeftModel

    from ragtune.train.model import load_base_model, materialize_base, resolve_base_model

    reference = config.get("base_model_ref") or artifacts.get("base", "")
    source = resolve_base_model(reference, Path.cwd())
    if source.fingerprint != config["base_model_fingerprint"]:
        raise FinetuneError(
            f"base model {reference!r} has fingerprint {source.fingerprint}, but this adapter "
            f"was trained on {config['base_model_fingerprint']}; install that model"
        )
    model, tokenizer = load_base_model(materialize_base(source, base_cache_dir()))
    return PeftModel.from_pretrained(model, artifacts["adapter"]), tokenizer


class GeneratorModel(mlflow.pyfunc.PythonModel):
    """Base model + LoRA adapter, answering questions in house style with citations."""

    def load_context(self, context: Any) -> None:
        """Resolve the base model, check it is the one trained on, attach the adapter."""
        self.model, self.tokenizer = load_logged_generator(context.artifacts, context.model_config)
        self.model = self.model.eval()
        self.max_new_tokens = int(context.model_config.get("max_new_tokens", 96))

    # model_input stays unannotated: MLflow reads predict's type hints as a schema of its own.
    def predict(self, context, model_input, params: dict | None = None) -> list[str]:
        """One answer per input row (``question``, optional ``context``), generated in batches."""
        rows = model_input.to_dict(orient="records")
        limit = int((params or {}).get("max_new_tokens", self.max_new_tokens))
        generator = Generator(self.model, self.tokenizer, adapter=True, max_new_tokens=limit)
        messages = [
            build_messages(str(row["question"]), str(row.get("context") or "")) for row in rows
        ]
        return [result.text for result in generate_batch(generator, messages)]
