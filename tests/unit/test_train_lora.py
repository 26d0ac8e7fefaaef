"""LoRA on a tiny model built from a config: settings checked first, answer-only loss, learning."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_support import chat_tokenizer, tiny_causal_lm

from ragtune.config import FinetuneConfig, LoraSettings, settings_from_dict
from ragtune.errors import ConfigError, FinetuneError
from ragtune.train.lora import (
    IGNORE_INDEX,
    collate_answer_only,
    collate_full_logits,
    lora_config,
    tokenize_example,
    train_lora,
)
from ragtune.train.prompt import build_messages


@pytest.fixture(scope="module")
def tokenizer():
    return chat_tokenizer()


def examples(count: int, offset: int = 0) -> list[dict]:
    rows = []
    for index in range(offset, offset + count):
        answer = f"The Zorbex Z{index % 5} costs {100 + index % 5} euros. [doc:prod-{index % 5}]"
        rows.append({"messages": build_messages(f"Price of Z{index % 5}?", (), answer)})
    return rows


def test_invalid_lora_settings_name_the_setting(tokenizer, tmp_path: Path) -> None:
    model = tiny_causal_lm(len(tokenizer))
    with pytest.raises(FinetuneError, match=r"finetune\.lora\.target_modules.*qkv_fused"):
        lora_config(LoraSettings(target_modules=["q_proj", "qkv_fused"]), model)
    with pytest.raises(ConfigError, match=r"finetune\.lora\.r"):
        settings_from_dict({"finetune": {"lora": {"r": 0}}}, tmp_path, "params.yaml")
    config = lora_config(LoraSettings(r=4, alpha=8, target_modules=["q_proj", "o_proj"]), model)
    assert (config.r, config.lora_alpha, set(config.target_modules)) == (4, 8, {"q_proj", "o_proj"})


def test_labels_score_only_the_answer(tokenizer) -> None:
    messages = examples(1)[0]["messages"]
    features = tokenize_example(messages, tokenizer)
    scored = [
        t
        for t, label in zip(features["input_ids"], features["labels"], strict=True)
        if label != IGNORE_INDEX
    ]
    assert tokenizer.decode(scored).startswith("the zorbex z0 costs 100 euros")
    assert len(scored) < len(features["input_ids"]) / 2


def test_answer_only_batch_gives_the_full_sequence_loss(tokenizer) -> None:
    model = tiny_causal_lm(len(tokenizer)).eval()
    features = [tokenize_example(e["messages"], tokenizer) for e in examples(3)]
    features[1] = {k: v[:-3] if k != "labels" else v[:-3] for k, v in features[1].items()}
    batch = collate_answer_only(features, tokenizer.pad_token_id)
    assert batch["labels"].shape[1] == batch["logits_to_keep"] < batch["input_ids"].shape[1]
    with torch.no_grad():
        fast = model(**batch).loss
        # Reference: each sequence alone, unpadded, all logits.
        total, count = 0.0, 0
        for feature in features:
            labels = torch.tensor([feature["labels"]])
            out = model(input_ids=torch.tensor([feature["input_ids"]]), labels=labels)
            scored = int((labels[:, 1:] != IGNORE_INDEX).sum())
            total, count = total + out.loss.item() * scored, count + scored
    assert fast.item() == pytest.approx(total / count, rel=1e-4)
    with torch.no_grad():
        plain = model(**collate_full_logits(features, tokenizer.pad_token_id)).loss
    assert plain.item() == pytest.approx(fast.item(), rel=1e-4)


def test_training_lowers_held_out_loss_and_saves_adapter(tokenizer, tmp_path: Path) -> None:
    config = FinetuneConfig(
        max_steps=8,
        batch_size=4,
        learning_rate=0.05,
        warmup_steps=0,
        eval_steps=4,
        logging_steps=2,
        lora=LoraSettings(r=8, alpha=16, target_modules=["q_proj", "v_proj", "up_proj"]),
    )
    logged: list[tuple[dict, int]] = []
    model = tiny_causal_lm(len(tokenizer))
    trained, result = train_lora(
        model,
        tokenizer,
        examples(48),
        examples(8, offset=100),
        config,
        tmp_path,
        step_logger=lambda metrics, step: logged.append((metrics, step)),
    )
    assert result.steps == 8
    # A random tiny model moves little, but it must move the right way.
    assert result.eval_loss_after < result.eval_loss_before - 0.05
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert result.train_tokens > 0 and result.tokens_per_second > 0
    steps_with_loss = [step for metrics, step in logged if "loss" in metrics]
    assert steps_with_loss == [2, 4, 6, 8]
    assert any("eval_loss" in metrics for metrics, _ in logged)
    assert any("learning_rate" in metrics for metrics, _ in logged)
    trainable = [name for name, p in trained.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
