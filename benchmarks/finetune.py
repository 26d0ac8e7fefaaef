"""Fine-tuning throughput: training tokens/s and peak memory for the demo config.

Builds the demo RAFT data (generated corpus, params.yaml's finetune section), then trains the
packaged SmolLM2 for a few steps twice, each variant in its own subprocess so peak memory is
its own: (a) logits only for the answer span (what ragtune does) and (b) logits at every
position (the plain way). Prints tokens/s, s/step and peak memory side by side with ratios.
On a machine with CUDA the same runs happen on the GPU (``--device cuda``, the default there).

    .venv/bin/python benchmarks/finetune.py --steps 6
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {"answer_only": True, "full_logits": False}


def build_examples(work: Path, docs: int) -> Path:
    """Demo corpus → RAFT train.jsonl with the project's finetune settings."""
    from ragtune.config import load_settings
    from ragtune.data.generate import GeneratorSpec, write_corpus
    from ragtune.data.load import load_all
    from ragtune.train.run import build_data, preflight

    settings = load_settings(REPO)
    raw = work / "raw"
    write_corpus(GeneratorSpec(seed=settings.data.seed, docs=docs), raw)
    settings.finetune.data_dir = work / "finetune"
    settings.data.raw_dir = raw
    _, base_dir = preflight(settings)
    built = build_data(settings, base_dir, load_all(raw))
    return built.paths["train"]


def run_variant(train_file: Path, variant: str, steps: int, device: str) -> dict:
    """Train ``steps`` steps in this process and return the measurements."""
    import torch

    from ragtune.config import load_settings
    from ragtune.train.lora import train_lora
    from ragtune.train.model import load_base_model, materialize_base, resolve_base_model

    torch.manual_seed(0)
    settings = load_settings(REPO)
    config = settings.finetune.model_copy(update={"max_steps": steps, "eval_steps": 10_000})
    source = resolve_base_model(config.base_model, REPO)
    model, tokenizer = load_base_model(
        materialize_base(source, settings.path(config.base_cache_dir)), device
    )
    rows = [json.loads(line) for line in train_file.read_text().splitlines()]
    examples = rows[: steps * config.batch_size]
    with tempfile.TemporaryDirectory() as out:
        _, result = train_lora(
            model,
            tokenizer,
            examples,
            examples[:2],
            config,
            Path(out),
            answer_only_logits=VARIANTS[variant],
        )
    return {
        "variant": variant,
        "device": result.device,
        "steps": result.steps,
        "tokens": result.train_tokens,
        "seconds": result.train_seconds,
        "tokens_per_s": result.tokens_per_second,
        "s_per_step": result.train_seconds / result.steps,
        "peak_mb": result.peak_memory_mb,
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--docs", type=int, default=320)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--variant", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--train-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    from ragtune.runtime import configure_environment
    from ragtune.train.model import device

    configure_environment(REPO)
    target = args.device or device()
    if args.variant:
        print(json.dumps(run_variant(args.train_file, args.variant, args.steps, target)))
        return
    with tempfile.TemporaryDirectory() as work:
        train_file = build_examples(Path(work), args.docs)
        results = []
        for variant in VARIANTS:
            command = [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--steps",
                str(args.steps),
                "--device",
                target,
                "--train-file",
                str(train_file),
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
    print(f"\nLoRA fine-tuning, demo config, {args.steps} steps, device {target}")
    print(f"{'variant':<12} {'tokens/s':>9} {'s/step':>7} {'peak MB':>8} {'tokens':>7}")
    for row in results:
        print(
            f"{row['variant']:<12} {row['tokens_per_s']:>9.1f} {row['s_per_step']:>7.2f} "
            f"{row['peak_mb']:>8.0f} {row['tokens']:>7}"
        )
    fast, plain = results
    print(
        f"answer_only / full_logits: tokens/s x{fast['tokens_per_s'] / plain['tokens_per_s']:.2f}, "
        f"peak memory x{fast['peak_mb'] / plain['peak_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
