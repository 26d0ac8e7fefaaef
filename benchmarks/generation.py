"""Batched vs one-at-a-time generation: answers/s and tokens/s, side by side in one run.

Loads the packaged SmolLM2 (``finetune.base_model``), takes questions from a generated demo
corpus with their source document as context (a RAG-sized prompt; ``--no-context``: the
question alone, as the base and FT arms ask it), and answers the same
questions twice through :func:`ragtune.serve.answer.generate_batch`: batch 1, then
``--batch-size``. Prints both and the speed-up per answer.

    .venv/bin/python benchmarks/generation.py --questions 16 --batch-size 8
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def demo_prompts(count: int, with_context: bool) -> list[list[dict[str, str]]]:
    """``count`` demo questions, each with its gold document as the context (RAG-sized)."""
    from ragtune.data.generate import GeneratorSpec, write_corpus
    from ragtune.data.load import load_all
    from ragtune.train.prompt import ContextChunk, build_messages

    with tempfile.TemporaryDirectory() as scratch:
        write_corpus(GeneratorSpec(docs=40), Path(scratch))
        tables = load_all(Path(scratch))
    docs = {doc["doc_id"]: doc for doc in tables["docs"]}
    prompts = []
    for row in tables["qa"][:count]:
        doc = docs[row["doc_ids"][0]]
        context = [ContextChunk(doc["doc_id"], doc["text"], doc["title"])] if with_context else []
        prompts.append(build_messages(row["question"], context))
    return prompts


def measure(generator, prompts, batch_size: int) -> dict[str, float]:
    """Wall-clock answers/s and generated tokens/s for one batch size."""
    from ragtune.serve.answer import generate_batch

    started = time.perf_counter()
    results = generate_batch(generator, prompts, batch_size)
    seconds = time.perf_counter() - started
    tokens = sum(result.new_tokens for result in results)
    return {
        "batch_size": batch_size,
        "seconds": seconds,
        "answers_per_s": len(results) / seconds,
        "tokens_per_s": tokens / seconds,
        "tokens": tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--no-context", action="store_true", help="questions alone (the base/FT arms' prompts)"
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from ragtune.config import load_settings
    from ragtune.runtime import configure_environment
    from ragtune.serve.generators import load_base

    configure_environment(REPO)
    settings = load_settings(REPO)
    generator = load_base(settings, args.max_new_tokens)
    prompts = demo_prompts(args.questions, with_context=not args.no_context)
    lengths = [
        len(
            generator.tokenizer.apply_chat_template(p, tokenize=True, return_dict=True)["input_ids"]
        )
        for p in prompts
    ]
    print(
        f"{generator.label} on {next(generator.model.parameters()).device}, "
        f"torch threads {torch.get_num_threads()}; {len(prompts)} questions, prompt tokens "
        f"{min(lengths)}-{max(lengths)}, max_new_tokens {args.max_new_tokens}",
        flush=True,
    )
    measure(generator, prompts[:2], 2)  # warm-up
    rows = []
    for size in (1, args.batch_size):
        rows.append(measure(generator, prompts, size))
        print(f"batch {size}: {rows[-1]['seconds']:.1f} s", flush=True)
    print(f"{'batch':>5} {'seconds':>8} {'answers/s':>10} {'tokens/s':>9} {'tokens':>7}")
    for row in rows:
        print(
            f"{row['batch_size']:>5} {row['seconds']:>8.2f} {row['answers_per_s']:>10.3f} "
            f"{row['tokens_per_s']:>9.1f} {row['tokens']:>7}"
        )
    single, batched = rows
    print(
        f"speed-up per answer: {batched['answers_per_s'] / single['answers_per_s']:.2f}x; "
        f"tokens/s: {batched['tokens_per_s'] / single['tokens_per_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
