"""Cold start of `ragtune index query`: a fresh process per query, per retrieval mode.

Builds a generated corpus of about ``--chunks`` chunks (vectors from the hashing stand-in of
benchmarks/refresh.py, so the build takes seconds; the query itself embeds with the real
model), then times ``python -m ragtune index query`` as a new process, median of ``--runs``,
for each ``index.retrieval``. Also prints Python's own import time of the CLI.

    .venv/bin/python benchmarks/cold_start.py --chunks 10000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


QUESTION = "Who approves travel over 2,000 EUR?"


def _build(project: Path, chunks: int, onnx: bool) -> int:
    from refresh import StandInEmbedder

    from ragtune.config import load_settings
    from ragtune.data.generate import GeneratorSpec, write_corpus
    from ragtune.data.prepare import prepare
    from ragtune.index.onnx_embed import prepare_query_model
    from ragtune.index.refresh import refresh_index

    settings = load_settings(project)
    raw = settings.path(settings.data.raw_dir)
    write_corpus(GeneratorSpec(seed=settings.data.seed, docs=max(10, chunks * 2 // 3)), raw)
    prepare(raw, settings.path(settings.prepare.prepared_dir), settings.prepare)
    result = refresh_index(settings, show_progress=False, embedder=StandInEmbedder())
    if onnx:  # what the index stage does after a refresh
        print(f"ONNX query model: {prepare_query_model(settings, [QUESTION])}")
    return result.counts["chunks_total"]


def _set_index(project: Path, key: str, value: str) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["index"][key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def _time_query(project: Path) -> float:
    command = [sys.executable, "-m", "ragtune", "-C", str(project), "index", "query"]
    command += [QUESTION, "-k", "3"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=os.environ.copy())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=["edge", "local"], default="edge")
    parser.add_argument(
        "--no-onnx", action="store_true", help="embed the query with sentence-transformers"
    )
    parser.add_argument("--modes", nargs="+", default=["sparse", "dense", "hybrid"])
    parser.add_argument("--warm", type=int, default=200, help="warm queries timed in-process")
    args = parser.parse_args()
    project = Path(tempfile.mkdtemp(prefix="ragtune-bench-cold-"))
    shutil.copy(REPO / "params.yaml", project / "params.yaml")
    from ragtune.runtime import configure_environment

    configure_environment(project)
    print(f"ragtune cold-start benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; engine {args.engine}")
    _set_index(project, "engine", args.engine)
    print(f"index: {_build(project, args.chunks, not args.no_onnx)} chunks", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import ragtune.cli"], check=True)
    print(f"import ragtune.cli alone: {time.perf_counter() - started:.2f} s")
    for mode in args.modes:
        _set_index(project, "retrieval", mode)
        times = [_time_query(project) for _ in range(args.runs)]
        print(
            f"ragtune index query, retrieval={mode}: median {statistics.median(times):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in times)}; load average "
            f"{os.getloadavg()[0]:.2f})",
            flush=True,
        )
    _warm(project, args.warm)
    shutil.rmtree(project, ignore_errors=True)


def _warm(project: Path, count: int) -> None:
    """Warm, in one process: query embedding alone, and the whole hybrid query, p50/p95."""
    from ragtune.config import load_settings
    from ragtune.index import store
    from ragtune.index.embed import embed_texts, load_embedder
    from ragtune.index.onnx_embed import load_query_embedder
    from ragtune.index.query import query_collection

    settings = load_settings(project)
    embedder = load_query_embedder(settings) or load_embedder(settings.index)
    questions = [f"{QUESTION} case {i}" for i in range(count + 10)]
    embed_ms, query_ms = [], []
    with store.open_store(settings) as client:
        collection = store.aliases(client)[settings.index.staging_alias]
        for i, question in enumerate(questions):
            started = time.perf_counter()
            embed_texts(embedder, [question], 1, show_progress=False)
            middle = time.perf_counter()
            query_collection(client, collection, embedder, [question], 5, retrieval="hybrid")
            if i >= 10:  # the first ten warm up
                embed_ms.append((middle - started) * 1000)
                query_ms.append((time.perf_counter() - middle) * 1000)
    for label, times in (("query embedding", embed_ms), ("hybrid query incl. embedding", query_ms)):
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"warm {label} ({type(embedder).__name__}): p50 {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms"
        )


if __name__ == "__main__":
    main()
