"""Incremental refresh benchmark: raw encode vs full build vs 1 %-changed vs no-op refresh.

Runs side by side in one process on a generated corpus (default 5,000 docs) so the ratios
compare like with like; prints b/a, c/b, d/b, counts and warm query latency p50/p95.

    .venv/bin/python benchmarks/refresh.py --docs 5000
    .venv/bin/python benchmarks/refresh.py --docs 500 --runner dask --workers 1,2
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _timed(label: str, function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s", flush=True)
    return value, seconds


def _edit(docs: list[dict], share: float, seed: int) -> int:
    """Edit ``share`` of the docs in a few sentences (one replaced, one appended)."""
    rng = random.Random(seed)
    chosen = rng.sample(range(len(docs)), max(1, round(len(docs) * share)))
    for index in chosen:
        doc = docs[index]
        sentences = doc["text"].split(". ")
        middle = len(sentences) // 2
        sentences[middle] = f"As of this week the rule in section {index} was revised by the board"
        doc["text"] = ". ".join(sentences) + f" Contact desk {rng.randint(100, 999)} for details."
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of docs edited for (c)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--chunk-size", type=int, help="override index.chunk_size (tokens)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument(
        "--runner",
        choices=["local", "dask"],
        default="local",
        help="dask: full-build chunks/s on LocalClusters of --workers (benchmarks/refresh_dask.py)",
    )
    parser.add_argument("--workers", default="1,2", help="Dask worker counts, comma-separated")
    parser.add_argument("--texts-per-task", type=int, default=128, help="texts per Dask task")
    args = parser.parse_args()

    project = Path(tempfile.mkdtemp(prefix="ragtune-bench-refresh-"))
    shutil.copy(REPO / "params.yaml", project / "params.yaml")
    from ragtune.runtime import configure_environment

    configure_environment(project)
    import torch

    from ragtune.config import load_settings
    from ragtune.data.generate import GeneratorSpec, write_corpus
    from ragtune.data.load import load_dataset, write_jsonl
    from ragtune.data.prepare import prepare
    from ragtune.data.schema import DOCS, QA
    from ragtune.index import store
    from ragtune.index.chunk import chunk_documents
    from ragtune.index.embed import embed_texts, load_embedder, load_tokenizer
    from ragtune.index.query import query_collection
    from ragtune.index.refresh import refresh_index

    settings = load_settings(project)
    if args.chunk_size:
        settings.index.chunk_overlap = min(settings.index.chunk_overlap, args.chunk_size // 4)
        settings.index.chunk_size = args.chunk_size
    raw_dir = settings.path(settings.data.raw_dir)
    prepared_dir = settings.path(settings.prepare.prepared_dir)
    write_corpus(GeneratorSpec(seed=settings.data.seed, docs=args.docs), raw_dir)
    prepare(raw_dir, prepared_dir, settings.prepare)
    if args.runner == "dask":
        from refresh_dask import run as run_dask

        counts = [int(count) for count in args.workers.split(",")]
        run_dask(settings, counts, args.texts_per_task)
        if not args.keep:
            shutil.rmtree(project, ignore_errors=True)
        return
    docs = load_dataset(DOCS, raw_dir)
    config = settings.index
    model = load_embedder(config)
    tokenizer = load_tokenizer(config)
    print(f"project {project}; torch threads {torch.get_num_threads()}; device {model.device}")

    chunks = chunk_documents(docs, tokenizer, config.chunk_size, config.chunk_overlap)
    texts = [chunk.text for chunk in chunks]
    print(f"{len(docs)} docs, {len(texts)} chunks (chunk_size {config.chunk_size})", flush=True)
    _, raw_seconds = _timed(
        f"(a) raw encode, one call, batch {config.batch_size}",
        embed_texts,
        model,
        texts,
        config.batch_size,
        True,
    )
    full, full_seconds = _timed("(b) full build", refresh_index, settings, True, model)

    changed_docs = _edit(docs, args.changed, settings.data.seed)
    write_jsonl(raw_dir / DOCS.filename, docs)
    prepare(raw_dir, prepared_dir, settings.prepare)
    partial, partial_seconds = _timed(
        f"(c) refresh, {changed_docs} docs changed", refresh_index, settings, False, model
    )
    noop, noop_seconds = _timed(
        "(d) refresh, nothing changed", refresh_index, settings, False, model
    )

    questions = [row["question"] for row in load_dataset(QA, prepared_dir)][: args.queries]
    latencies = []
    with store.open_store(settings) as client:
        for question in questions[:10]:  # warm-up
            query_collection(client, partial.collection, model, [question], config.k)
        for question in questions:
            started = time.perf_counter()
            query_collection(client, partial.collection, model, [question], config.k)
            latencies.append((time.perf_counter() - started) * 1000)
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]

    print("\nphase seconds (b):", {k: round(v, 2) for k, v in full.seconds.items()})
    print("phase seconds (c):", {k: round(v, 2) for k, v in partial.seconds.items()})
    for label, result in (("b", full), ("c", partial), ("d", noop)):
        counts = result.counts
        print(
            f"({label}) embedded {counts.get('chunks_embedded', 0)}, reused "
            f"{counts.get('chunks_reused', 0)}, deleted {counts.get('chunks_deleted', 0)}, "
            f"added {counts.get('chunks_added', 0)}, unchanged {counts.get('chunks_unchanged', 0)}, "
            f"docs updated {counts.get('docs_updated', 0)}"
        )
    print(f"\n{'metric':<28}{'value':>10}  target")
    print(f"{'b/a (pipeline overhead)':<28}{full_seconds / raw_seconds:>10.3f}  <= 1.15")
    # Shared machines drift between (a) and (b); the build's time outside its own encode call
    # is the overhead itself, so this ratio does not depend on that drift.
    outside = full_seconds - full.seconds.get("embed", 0.0)
    print(
        f"{'b/a, drift-free':<28}{(raw_seconds + outside) / raw_seconds:>10.3f}  (a + {outside:.1f} s)/a"
    )
    print(f"{'c/b (incremental cost)':<28}{partial_seconds / full_seconds:>10.4f}  < 0.01")
    print(f"{'d/b (no-op cost)':<28}{noop_seconds / full_seconds:>10.5f}  <= 0.001")
    print(f"{'raw chunks/s':<28}{len(texts) / raw_seconds:>10.1f}")
    print(f"{'build chunks/s':<28}{len(texts) / full_seconds:>10.1f}")
    print(f"{'query p50 ms':<28}{p50:>10.1f}")
    print(
        f"{'query p95 ms':<28}{p95:>10.1f}  <= 25 ({len(texts)} chunks, query embedding included)"
    )
    if not args.keep:
        shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
