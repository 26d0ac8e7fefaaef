"""LoRA training with peft and the transformers Trainer; settings checked before any step runs."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ragtune.config import FinetuneConfig, LoraSettings
from ragtune.errors import FinetuneError

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
StepLogger = Callable[[dict[str, float], int], None]


@dataclass
class TrainingResult:
    """What one training run produced and measured."""

    adapter_dir: Path
    eval_loss_before: float
    eval_loss_after: float
    steps: int
    train_tokens: int
    train_seconds: float
    device: str
    peak_memory_mb: float
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        """Training throughput over all processed (non-padding) tokens."""
        return self.train_tokens / self.train_seconds if self.train_seconds else 0.0


def linear_module_names(model: Any) -> set[str]:
    """Last name segment of every nn.Linear in the model (what LoRA can target)."""
    import torch

    return {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name
    }


def lora_config(settings: LoraSettings, model: Any) -> Any:
    """peft LoraConfig from params; FinetuneError naming the setting when it cannot work."""
    from peft import LoraConfig, TaskType

    if settings.r < 1:
        raise FinetuneError(f"finetune.lora.r = {settings.r}: the rank must be at least 1")
    if settings.alpha < 1:
        raise FinetuneError(f"finetune.lora.alpha = {settings.alpha}: must be at least 1")
    available = linear_module_names(model)
    unknown = [name for name in settings.target_modules if name not in available]
    if unknown or not settings.target_modules:
        raise FinetuneError(
            f"finetune.lora.target_modules: {unknown or '[]'} not linear layers of the base "
            f"model; choose from {sorted(available)}"
        )
    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        task_type=TaskType.CAUSAL_LM,
    )


def tokenize_example(messages: list[dict[str, str]], tokenizer: Any) -> dict[str, list[int]]:
    """Token ids of the whole chat and labels that score only the assistant's answer."""
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=True, add_generation_prompt=True, return_dict=True
    )["input_ids"]
    full = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    if full[: len(prompt)] != prompt:
        raise FinetuneError(
            "finetune.base_model: its chat template renders the prompt differently inside the "
            "full conversation, so answer tokens cannot be isolated; use another chat model"
        )
    labels = [IGNORE_INDEX] * len(prompt) + full[len(prompt) :]
    return {"input_ids": full, "attention_mask": [1] * len(full), "labels": labels}


def tokenize_examples(examples: Sequence[dict[str, Any]], tokenizer: Any) -> list[dict]:
    """Tokenize every example of a split (see :func:`tokenize_example`)."""
    return [tokenize_example(example["messages"], tokenizer) for example in examples]


def collate_answer_only(features: Sequence[dict[str, list[int]]], pad_token_id: int) -> dict:
    """Left-pad a batch and keep logits only for the answer span.

    With left padding every answer ends at the last position, so ``logits_to_keep`` covers
    them all and the vocabulary projection (a fifth of a small model's compute) skips the
    prompt. Position ids come from the mask, so padding never shifts a sequence.
    """
    import torch

    width = max(len(feature["input_ids"]) for feature in features)
    # One extra position: the last prompt token is what predicts the first answer token.
    keep = 1 + max(
        len(f["labels"]) - next(i for i, t in enumerate(f["labels"]) if t != IGNORE_INDEX)
        for f in features
    )
    input_ids, attention, labels = [], [], []
    for feature in features:
        pad = width - len(feature["input_ids"])
        input_ids.append([pad_token_id] * pad + feature["input_ids"])
        attention.append([0] * pad + feature["attention_mask"])
        labels.append([IGNORE_INDEX] * pad + feature["labels"])
    mask = torch.tensor(attention)
    return {
        "input_ids": torch.tensor(input_ids),
        "attention_mask": mask,
        "position_ids": (mask.cumsum(-1) - 1).clamp(min=0),
        "labels": torch.tensor(labels)[:, -min(keep, width) :],
        "logits_to_keep": min(keep, width),
    }


def collate_full_logits(features: Sequence[dict[str, list[int]]], pad_token_id: int) -> dict:
    """Right-padded batch scoring logits at every position (the plain way; for comparison)."""
    import torch

    width = max(len(feature["input_ids"]) for feature in features)

    def padded(key: str, value: int) -> Any:
        return torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features])

    return {
        "input_ids": padded("input_ids", pad_token_id),
        "attention_mask": padded("attention_mask", 0),
        "labels": padded("labels", IGNORE_INDEX),
    }


def _step_callback(step_logger: StepLogger | None, history: list[dict[str, float]]) -> Any:
    from transformers import TrainerCallback

    class StepMetrics(TrainerCallback):
        """Forward each Trainer log line (loss, eval_loss, learning_rate) with its step."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any):
            numbers = {
                key: float(value)
                for key, value in (logs or {}).items()
                if isinstance(value, int | float) and math.isfinite(value)
            }
            if numbers:
                history.append({"step": float(state.global_step), **numbers})
                if step_logger is not None:
                    step_logger(numbers, state.global_step)

    return StepMetrics()


def train_lora(
    model: Any,
    tokenizer: Any,
    train_examples: Sequence[dict[str, Any]],
    eval_examples: Sequence[dict[str, Any]],
    config: FinetuneConfig,
    output_dir: Path,
    step_logger: StepLogger | None = None,
    answer_only_logits: bool = True,
) -> tuple[Any, TrainingResult]:
    """Wrap ``model`` with LoRA adapters, train, and save the adapter under ``output_dir``."""
    import torch
    from peft import get_peft_model
    from transformers import Trainer, TrainingArguments, set_seed

    peft_config = lora_config(config.lora, model)
    set_seed(config.seed)
    on_cuda = next(model.parameters()).is_cuda
    model = get_peft_model(model, peft_config)
    trainable, total = model.get_nb_trainable_parameters()
    logger.info(
        "LoRA: %d trainable of %d parameters (%.2f%%)", trainable, total, 100 * trainable / total
    )
    train_set, eval_set = (
        tokenize_examples(train_examples, tokenizer),
        tokenize_examples(eval_examples, tokenizer),
    )
    args = TrainingArguments(
        output_dir=str(output_dir / "trainer"),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_steps,
        lr_scheduler_type="linear",
        logging_steps=config.logging_steps,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        save_strategy="no",
        report_to="none",
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=not on_cuda,
        bf16=on_cuda and torch.cuda.is_bf16_supported(),
        dataloader_num_workers=0,
        remove_unused_columns=False,
        prediction_loss_only=True,
        include_num_input_tokens_seen="non_padding",
    )
    history: list[dict[str, float]] = []
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=partial(
            collate_answer_only if answer_only_logits else collate_full_logits,
            pad_token_id=tokenizer.pad_token_id,
        ),
        callbacks=[_step_callback(step_logger, history)],
    )
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    before = trainer.evaluate()["eval_loss"]
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    final = [
        row for row in history if "eval_loss" in row and row["step"] == trainer.state.global_step
    ]
    # The Trainer already evaluated at the last step when eval_steps divides max_steps.
    after = final[-1]["eval_loss"] if final else trainer.evaluate()["eval_loss"]
    adapter_dir = output_dir / "adapter"
    model.save_pretrained(str(adapter_dir))
    tokenizer.save_pretrained(str(adapter_dir))
    result = TrainingResult(
        adapter_dir=adapter_dir,
        eval_loss_before=float(before),
        eval_loss_after=float(after),
        steps=trainer.state.global_step,
        train_tokens=int(trainer.state.num_input_tokens_seen),
        train_seconds=seconds,
        device="cuda" if on_cuda else "cpu",
        peak_memory_mb=_peak_memory_mb(on_cuda),
        history=history,
    )
    logger.info(
        "trained %d steps in %.0fs (%.0f tokens/s); eval loss %.3f -> %.3f",
        result.steps,
        seconds,
        result.tokens_per_second,
        before,
        after,
    )
    return model, result


def _peak_memory_mb(on_cuda: bool) -> float:
    """Peak GPU memory, or the process's peak resident set size on CPU."""
    if on_cuda:
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
