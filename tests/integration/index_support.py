"""Shared steps of the index integration tests: params, raw edits, reading the store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from ragtune.config import Settings, load_settings
from ragtune.data.load import load_dataset, write_jsonl
from ragtune.data.prepare import prepare
from ragtune.data.schema import DOCS
from ragtune.index import store


def set_index_params(project_dir: Path, **values: Any) -> Settings:
    """Override `index:` keys in the project's params.yaml and reload it."""
    path = project_dir / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["index"].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return load_settings(project_dir)


def raw_docs(settings: Settings) -> list[dict[str, Any]]:
    return load_dataset(DOCS, settings.path(settings.data.raw_dir))


def write_docs_and_prepare(settings: Settings, docs: list[dict[str, Any]]) -> None:
    write_jsonl(settings.path(settings.data.raw_dir) / DOCS.filename, docs)
    prepare(
        settings.path(settings.data.raw_dir),
        settings.path(settings.prepare.prepared_dir),
        settings.prepare,
    )


def points_behind(settings: Settings, alias: str) -> tuple[str, list[Any]]:
    """The collection an alias names and all its points, read from the configured engine."""
    with store.open_store(settings) as client:
        collection = store.aliases(client)[alias]
        return collection, list(store.scroll_points(client, collection, with_vectors=False))


def collections(settings: Settings) -> list[str]:
    with store.open_store(settings) as client:
        return sorted(store.collection_names(client, settings.index.collection_prefix))


def start_refresh(project_dir: Path) -> tuple[subprocess.Popen, list[str]]:
    """`ragtune index refresh --no-evaluate` as a new process; its stderr lines as they come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ragtune", "-C", str(project_dir), "index", "refresh"]
        + ["--no-evaluate"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    lines: list[str] = []

    def collect() -> None:
        for line in process.stderr:
            lines.append(line)

    threading.Thread(target=collect, daemon=True).start()
    return process, lines


def wait_for_embedding(process: subprocess.Popen, lines: list[str], seconds: float = 120) -> None:
    """Return once the refresh logs that it is embedding (it then holds the index lock)."""
    deadline = time.monotonic() + seconds
    while not any("embedding" in line for line in lines):
        assert process.poll() is None, "refresh ended before embedding started:\n" + "".join(lines)
        assert time.monotonic() < deadline, "refresh never reached embedding"
        time.sleep(0.05)


def query_process(project_dir: Path, text: str, k: int = 3) -> list[dict[str, Any]]:
    """Hits of `ragtune index query --json` run as a new process."""
    import json

    command = [sys.executable, "-m", "ragtune", "-C", str(project_dir), "index", "query", text]
    answer = subprocess.run(
        [*command, "-k", str(k), "--json"], capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout)
