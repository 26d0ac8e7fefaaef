"""Latency and throughput of `ragtune serve` on loopback, 1 and 4 concurrent clients, one run.

Needs a project with a live release (after `make demo`):

    python benchmarks/serve.py -C . --requests 24

Starts the server on a free loopback port, warms it up, then sends the same questions with 1
and with 4 client threads, and prints p50/p95 latency and answers/s side by side. A refresh can
be run beside it (``--with-refresh``) to show answers are not blocked while the index is written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def questions(project: Path, count: int) -> list[str]:
    rows = [json.loads(line) for line in (project / "data/prepared/qa.jsonl").open()]
    chosen = [row["question"] for row in rows if row.get("split") == "test"] or [
        row["question"] for row in rows
    ]
    return [chosen[i % len(chosen)] for i in range(count)]


def start_server(project: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "ragtune", "-C", str(project), "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("the server exited; is a release live? (`ragtune release show`)")
            try:
                if client.get("/health").status_code == 200:
                    return process
            except httpx.TransportError:
                time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start within 300 s")


def run_load(base_url: str, asked: list[str], clients: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(question: str) -> None:
        with httpx.Client(base_url=base_url, timeout=300) as client:
            started = time.perf_counter()
            reply = client.post("/ask", json={"question": question})
            elapsed = time.perf_counter() - started
        reply.raise_for_status()
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, asked))
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "p50_s": statistics.median(ordered),
        "p95_s": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "answers_per_s": len(ordered) / wall,
    }


class HealthProbe(threading.Thread):
    """Polls /health every 0.1 s and keeps the slowest reply: does anything block the server?"""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.slowest = 0.0
        self.count = 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            while not self.done.is_set():
                started = time.perf_counter()
                client.get("/health").raise_for_status()
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.count += 1
                self.done.wait(0.1)

    def stop(self) -> None:
        self.done.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-C", "--project-dir", type=Path, default=Path("."))
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--with-refresh", action="store_true")
    parser.add_argument("--refresh-nice", type=int, default=10, help="niceness of that refresh")
    args = parser.parse_args()
    project = args.project_dir.resolve()
    port = free_port()
    server = start_server(project, port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        asked = questions(project, args.requests)
        run_load(base_url, asked[:4], 1)  # warm-up
        results = {clients: run_load(base_url, asked, clients) for clients in (1, 4)}
        refresh = None
        if args.with_refresh:
            # A refresh on the serving machine runs niced (as README advises): it shares the CPUs,
            # so without it answers slow down by CPU contention, not by any lock.
            refresh = subprocess.Popen(
                ["nice", "-n", str(args.refresh_nice), sys.executable, "-m", "ragtune"]
                + ["-C", str(project), "index", "refresh"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=os.environ.copy(),
            )
            health = HealthProbe(base_url)
            health.start()
            results["1 during refresh"] = run_load(base_url, asked[:8], 1)
            refresh_code = refresh.wait()
            health.stop()
            print(
                f"refresh exit code {refresh_code}; /health during it: {health.count} probes, "
                f"slowest {health.slowest:.3f} s (a blocked server would show seconds here)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"# serve benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {args.requests} questions"
    )
    print("| clients | p50 s | p95 s | answers/s |\n|---|---|---|---|")
    for clients, row in results.items():
        print(
            f"| {clients} | {row['p50_s']:.3f} | {row['p95_s']:.3f} | {row['answers_per_s']:.2f} |"
        )
    base = results[1]["answers_per_s"]
    print(f"4 clients / 1 client answers/s: {results[4]['answers_per_s'] / base:.2f}x")


if __name__ == "__main__":
    main()
