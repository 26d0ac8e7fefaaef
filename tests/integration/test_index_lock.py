"""Overlapping index refreshes: the second waits or refuses naming the first; nothing is mixed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from index_support import points_behind, raw_docs, set_index_params, write_docs_and_prepare
from qdrant_client import QdrantClient

from ragtune.errors import RetrievalIndexError
from ragtune.index.chunk import chunk_documents
from ragtune.index.embed import load_tokenizer
from ragtune.index.lock import (
    index_write_lock,
    lease_collection,
    lock_path,
    owner_info,
    server_lease,
)
from ragtune.index.refresh import refresh_index
from ragtune.stages import validate_stage

pytestmark = pytest.mark.slow


def start_refresh(project_dir) -> subprocess.Popen:
    command = [sys.executable, "-m", "ragtune", "-C", str(project_dir), "index", "refresh"]
    return subprocess.Popen(
        [*command, "--no-evaluate", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_owner(settings, process, seconds=120.0) -> dict:
    """The lock file's owner once ``process`` holds the lock."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = lock_path(settings).read_text() if lock_path(settings).exists() else ""
        if text and json.loads(text)["pid"] == process.pid:
            return json.loads(text)
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.05)
    raise AssertionError("the first refresh never took the lock")


def expected_chunks(settings) -> int:
    tokenizer = load_tokenizer(settings.index)
    size, overlap = settings.index.chunk_size, settings.index.chunk_overlap
    return len(chunk_documents(raw_docs(settings), tokenizer, size, overlap))


def test_a_second_refresh_refuses_then_waits_and_nothing_is_mixed(validated_project):
    demo_project = validated_project
    settings = set_index_params(demo_project, lock_timeout_seconds=0)
    first = start_refresh(demo_project)
    owner = wait_for_owner(settings, first)
    with pytest.raises(RetrievalIndexError) as excinfo:
        refresh_index(settings, show_progress=False)
    message = str(excinfo.value)
    assert f"pid {first.pid} on {socket.gethostname()}" in message
    assert "lock_timeout_seconds" in message and owner["host"] == socket.gethostname()
    assert first.wait(timeout=300) == 0, first.stdout.read()
    collection, points = points_behind(settings, settings.index.staging_alias)
    assert len(points) == expected_chunks(settings)

    docs = raw_docs(settings)
    for doc in docs[:10]:
        doc["text"] += " Revised: the service interval is now twelve months."
    write_docs_and_prepare(settings, docs)
    settings = set_index_params(demo_project, lock_timeout_seconds=300)
    validate_stage(settings)
    first = start_refresh(demo_project)
    wait_for_owner(settings, first)
    result = refresh_index(settings, show_progress=False)  # waits for the first, then agrees
    assert first.wait(timeout=300) == 0
    assert not result.built and result.collection != collection
    published, points = points_behind(settings, settings.index.staging_alias)
    assert published == result.collection and len(points) == expected_chunks(settings)
    assert sum("Revised" in p.payload["text"] for p in points) >= 10


def test_a_killed_owner_releases_the_lock_at_once(demo_project):
    settings = set_index_params(demo_project, lock_timeout_seconds=0)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ragtune.config import load_settings; "
            "from ragtune.index.lock import index_write_lock\n"
            "with index_write_lock(load_settings(Path(sys.argv[1]))):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(demo_project),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RetrievalIndexError, match=f"pid {holder.pid} on"):
        refresh_index(settings, show_progress=False)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with index_write_lock(settings, timeout=0):  # the kernel released the dead owner's flock
        assert json.loads(lock_path(settings).read_text())["pid"] == os.getpid()


def test_server_lease_refuses_while_the_owner_lives_and_takes_over_when_it_expires():
    client = QdrantClient(":memory:")  # the lease logic only needs a client; shared by threads
    held, release, errors = threading.Event(), threading.Event(), []

    def first_writer():
        deadline = time.monotonic()
        with server_lease(client, "proj", deadline, 0, "http://qdrant:6333", lease_seconds=0.6):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert held.wait(10)
    time.sleep(1.5)  # longer than the lease: the living owner keeps renewing it
    second = server_lease(client, "proj", time.monotonic() + 0.5, 0.5, "http://qdrant:6333")
    with pytest.raises(RetrievalIndexError) as excinfo, second:
        errors.append("second writer got in")
    assert f"pid {os.getpid()} on {socket.gethostname()}" in str(excinfo.value)
    assert "http://qdrant:6333 (collection lease__proj)" in str(excinfo.value)
    release.set()
    thread.join()
    assert not client.collection_exists(lease_collection("proj")) and not errors

    dead = {**owner_info(), "pid": 999_999, "host": "gone", "expires": time.time() - 1}
    from qdrant_client import models

    client.create_collection(
        lease_collection("proj"), vectors_config=models.VectorParams(size=1, distance="Dot")
    )
    client.upsert(lease_collection("proj"), [models.PointStruct(id=1, vector=[1.0], payload=dead)])
    with server_lease(client, "proj", time.monotonic() + 5, 5, "url") as mine:
        assert mine["pid"] == os.getpid()
