"""Helpers for fine-tuning tests: a tiny chat model built from a config, and small tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ragtune.config import IndexConfig
from ragtune.index.embed import load_tokenizer

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def chat_tokenizer() -> Any:
    """The packaged MiniLM tokenizer with a small chat template (fast, offline)."""
    tokenizer = load_tokenizer(IndexConfig())
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_causal_lm(vocab_size: int, seed: int = 0) -> Any:
    """A 2-layer Llama with SmolLM2's module names, small enough to train in a second."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def save_tiny_base(target: Path) -> Path:
    """A local Hugging Face base-model directory (what ``finetune.base_model`` may point at)."""
    tokenizer = chat_tokenizer()
    model = tiny_causal_lm(len(tokenizer))
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def set_finetune_params(project_dir: Path, **overrides: Any) -> None:
    """Edit the project's params.yaml finetune section (nested keys as dicts)."""
    params_path = project_dir / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    for key, value in overrides.items():
        if isinstance(value, dict):
            params["finetune"].setdefault(key, {}).update(value)
        else:
            params["finetune"][key] = value
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))


FAST_PARAMS: dict[str, Any] = {
    "max_steps": 4,
    "batch_size": 2,
    "learning_rate": 0.01,
    "warmup_steps": 0,
    "max_eval_examples": 4,
    "eval_steps": 2,
    "logging_steps": 1,
    "max_seq_length": 256,
    "max_new_tokens": 8,
}


def edit_raw_and_prepare(settings: Any, dataset: str, edit: Any) -> None:
    """Apply ``edit(rows)`` to one raw dataset (docs, qa, behaviour), then prepare and validate."""
    from ragtune.data.load import load_all, write_jsonl
    from ragtune.stages import prepare_stage, validate_stage

    raw_dir = settings.path(settings.data.raw_dir)
    rows = load_all(raw_dir)[dataset]
    edit(rows)
    write_jsonl(raw_dir / f"{dataset}.jsonl", rows)
    prepare_stage(settings)
    validate_stage(settings)


def append_to_first(field: str, suffix: str, where: Any = lambda row: True) -> Any:
    """An edit for :func:`edit_raw_and_prepare`: append text to a field of the first match."""

    def edit(rows: list[dict]) -> None:
        row = next(row for row in rows if where(row))
        row[field] = row[field] + suffix

    return edit
