"""Embedded vector store at scale: Qdrant local mode vs qdrant-edge-py on the same workload.

Synthetic unit 384-d vectors with a ~600 B payload (doc_id, text), 2 chunks per doc. Each
(engine, size) runs in fresh processes so peak RSS and reopen are its own: one process bulk
loads and closes; a second reopens, runs 200 top-10 queries (p50/p95) and deletes 0.2 % of the
docs by a doc_id filter. Edge is configured as ragtune's edge engine configures it (no WAL,
sealed after loading), and "copy s" is what a refresh pays to start the next version from it:
a byte copy of the shard directory. Prints one table, with the machine, load and date.

    .venv/bin/pip install qdrant-edge-py==0.9.0   # the `bench` extra of pyproject.toml
    .venv/bin/python benchmarks/store.py --points 10000 100000 300000 --engines edge
    .venv/bin/python benchmarks/store.py --points 10000 100000 --engines local
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DIMENSION = 384
BATCH = 1024
TEXT = ("The pump seal was replaced after the pressure test; see the maintenance log. " * 7)[:560]


def _vectors(count: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _payload(index: int) -> dict:
    return {"doc_id": f"doc-{index // 2}", "position": index % 2, "text": TEXT}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Local:
    """Qdrant local mode (qdrant-client), the project's current embedded store."""

    def __init__(self, path: str) -> None:
        from qdrant_client import QdrantClient

        self.client = QdrantClient(path=path)

    def create(self) -> None:
        from qdrant_client import models

        from ragtune.index.store import skip_local_fsync

        self.client.create_collection(
            "bench",
            vectors_config={
                "dense": models.VectorParams(size=DIMENSION, distance=models.Distance.COSINE)
            },
        )
        skip_local_fsync(self.client, "bench")  # WAL + synchronous=NORMAL, as ragtune does

    def upsert(self, start: int, vectors) -> None:
        from qdrant_client import models

        ids = list(range(start, start + len(vectors)))
        self.client.upsert(
            "bench",
            points=models.Batch(
                ids=ids, vectors={"dense": vectors.tolist()}, payloads=[_payload(i) for i in ids]
            ),
        )

    def query(self, vector) -> list:
        return self.client.query_points(
            "bench", query=vector.tolist(), using="dense", limit=10
        ).points

    def delete_docs(self, doc_ids: list[str]) -> None:
        from qdrant_client import models

        condition = models.FieldCondition(key="doc_id", match=models.MatchAny(any=doc_ids))
        self.client.delete("bench", points_selector=models.Filter(must=[condition]))

    def count(self) -> int:
        return self.client.count("bench", exact=True).count

    def finish_load(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()


class Edge:
    """qdrant-edge-py: Qdrant's own engine (segments, HNSW, payload indexes) in-process."""

    def __init__(self, path: str) -> None:
        import qdrant_edge as edge

        self.edge = edge
        self.path = path
        self.shard = edge.EdgeShard.load(path) if Path(path, "segments").exists() else None

    def create(self) -> None:
        edge = self.edge
        dense = edge.EdgeVectorParams(
            size=DIMENSION, distance=edge.Distance.Cosine, memory=edge.Memory.Cold
        )
        config = edge.EdgeConfig(
            vectors={"dense": dense},  # mapped, not read in at open, as ragtune.index.edge
            wal_enabled=False,  # as ragtune.index.edge: a version counts once sealed
        )
        self.shard = edge.EdgeShard.create(self.path, config)
        self.shard.update(
            edge.UpdateOperation.create_field_index("doc_id", edge.PayloadSchemaType.Keyword)
        )

    def upsert(self, start: int, vectors) -> None:
        points = [
            self.edge.Point(start + i, {"dense": vector.tolist()}, _payload(start + i))
            for i, vector in enumerate(vectors)
        ]
        self.shard.update(self.edge.UpdateOperation.upsert_points(points))

    def query(self, vector) -> list:
        edge = self.edge
        return self.shard.query(
            edge.QueryRequest(
                limit=10,
                query=edge.Query.Nearest(vector.tolist(), using="dense"),
                with_payload=True,
            )
        )

    def delete_docs(self, doc_ids: list[str]) -> None:
        edge = self.edge
        condition = edge.FieldCondition(key="doc_id", match=edge.MatchAny(any=doc_ids))
        self.shard.update(
            edge.UpdateOperation.delete_points_by_filter(edge.Filter(must=[condition]))
        )

    def count(self) -> int:
        return self.shard.count(self.edge.CountRequest(exact=True))

    def finish_load(self) -> None:
        self.shard.optimize()  # build HNSW so queries do not scan every vector

    def close(self) -> None:
        self.shard.flush()
        self.shard.close()
        self.edge.EdgeShard.load(self.path).close()  # sealed, as ragtune seals a version


def copy_version(engine: str, path: Path) -> float | None:
    """Seconds to copy a closed store directory (edge: how a refresh starts the next version)."""
    if engine != "edge":
        return None
    from ragtune.index.files import copy_sparse_tree

    started = time.perf_counter()
    copy_sparse_tree(path, path.with_name("copy"))
    seconds = time.perf_counter() - started
    shutil.rmtree(path.with_name("copy"))
    return seconds


ENGINES = {"local": Local, "edge": Edge}
MODULES = {"local": "qdrant_client", "edge": "qdrant_edge"}


def worker(engine: str, phase: str, points: int, path: str, queries: int) -> dict:
    """One phase in this process; returns its figures."""
    store_class = ENGINES[engine]
    __import__(MODULES[engine])  # import time is not the store's
    if phase in ("load", "load-raw"):
        started = time.perf_counter()
        store = store_class(path)
        store.create()
        for start in range(0, points, BATCH):
            store.upsert(start, _vectors(min(BATCH, points - start), seed=start))
        loaded = time.perf_counter() - started
        if phase == "load":
            store.finish_load()
        optimised = time.perf_counter() - started - loaded
        store.close()
        return {"load_s": loaded, "optimise_s": optimised, "load_peak_mb": _peak_mb()}
    started = time.perf_counter()
    store = store_class(path)
    reopen = time.perf_counter() - started
    vectors = _vectors(queries + 10, seed=10**9)
    for vector in vectors[:10]:
        store.query(vector)
    latencies = []
    for vector in vectors[10:]:
        started = time.perf_counter()
        store.query(vector)
        latencies.append((time.perf_counter() - started) * 1000)
    doomed = [f"doc-{i}" for i in range(0, points // 2, 500)]  # 0.2 % of docs
    before = store.count()
    started = time.perf_counter()
    store.delete_docs(doomed)
    delete = time.perf_counter() - started
    deleted = before - store.count()
    store.close()
    return {
        "reopen_s": reopen,
        "p50_ms": statistics.median(latencies),
        "p95_ms": statistics.quantiles(latencies, n=20)[-1],
        "delete_s": delete,
        "deleted_points": deleted,
        "query_peak_mb": _peak_mb(),
    }


def _disk_mb(path: Path) -> float:
    """Bytes the store's files take on disk (allocated blocks, not apparent sizes)."""
    blocks = sum(entry.stat().st_blocks for entry in path.rglob("*") if entry.is_file())
    return blocks * 512 / 2**20


def run_phase(engine: str, phase: str, points: int, path: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", engine, phase, str(points), str(path)]
    command += [str(args.queries)]
    timeout = args.timeout
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per phase")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per store")
    parser.add_argument(
        "--no-optimise", action="store_true", help="query edge's plain segments (no HNSW build)"
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, phase, points, path, queries = args.worker
        print(json.dumps(worker(engine, phase, int(points), path, int(queries))))
        return

    print(f"ragtune store benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {platform.platform()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}"
    )
    header = ["engine", "points", "load s", "optimise s", "copy s", "reopen s", "p50 ms"]
    header += ["p95 ms", "delete s", "deleted", "peak MB", "disk MB", "load avg"]
    print(" | ".join(header), flush=True)
    for points in args.points:
        for engine in args.engines:
            root = Path(tempfile.mkdtemp(prefix=f"ragtune-bench-store-{engine}-"))
            try:
                load = run_phase(
                    engine, "load-raw" if args.no_optimise else "load", points, root / "store", args
                )
                figures = {**load}
                if "error" not in load:
                    figures["copy_s"] = copy_version(engine, root / "store")
                    figures["disk_mb"] = _disk_mb(root / "store")
                    figures |= run_phase(engine, "query", points, root / "store", args)
            except subprocess.TimeoutExpired:
                figures = {"error": f"over {args.timeout:.0f} s"}
            finally:
                shutil.rmtree(root, ignore_errors=True)
            if "error" in figures:
                print(f"{engine} | {points} | error: {figures['error']}", flush=True)
                continue
            peak = max(figures["load_peak_mb"], figures["query_peak_mb"])
            row = [
                engine,
                f"{points}",
                f"{figures['load_s']:.1f}",
                f"{figures['optimise_s']:.1f}",
                "—" if figures["copy_s"] is None else f"{figures['copy_s']:.2f}",
                f"{figures['reopen_s']:.2f}",
                f"{figures['p50_ms']:.1f}",
                f"{figures['p95_ms']:.1f}",
                f"{figures['delete_s']:.3f}",
                f"{figures['deleted_points']}",
                f"{peak:.0f}",
                f"{figures['disk_mb']:.0f}",
                f"{os.getloadavg()[0]:.1f}",
            ]
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
