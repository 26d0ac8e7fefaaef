"""A real `ragtune index refresh` killed or paused mid-embedding: staging keeps answering.

SIGKILL leaves the published version answering and the rerun succeeds. Readers are never
blocked: a query process answers from the published version while another process builds
the next one, and sees the next one only once it is published."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from index_support import (
    points_behind,
    query_process,
    raw_docs,
    set_index_params,
    start_refresh,
    wait_for_embedding,
)

from ragtune.index.chunk import chunk_documents
from ragtune.index.embed import load_tokenizer
from ragtune.index.refresh import refresh_index

pytestmark = pytest.mark.slow


def test_sigkill_mid_embedding_leaves_staging_answering(validated_project) -> None:
    settings = set_index_params(validated_project, chunk_size=128, chunk_overlap=16)
    first = refresh_index(settings, show_progress=False)

    # New chunking params: every chunk text is new, so the next refresh embeds for seconds.
    settings = set_index_params(validated_project, chunk_size=96, chunk_overlap=8)
    process, lines = start_refresh(validated_project)
    wait_for_embedding(process, lines)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert not any("built " in line for line in lines)

    collection, points = points_behind(settings, settings.index.staging_alias)
    assert collection == first.collection and len(points) == first.counts["chunks_total"]
    hits = query_process(validated_project, raw_docs(settings)[0]["title"])
    assert len(hits) == 3 and {hit["chunk_id"] for hit in hits} <= {p.id for p in points}

    again = refresh_index(settings, show_progress=False)
    assert again.built and again.previous == first.collection
    expected = chunk_documents(raw_docs(settings), load_tokenizer(settings.index), 96, 8)
    old_hashes = {p.payload["content_hash"] for p in points}
    assert again.counts["chunks_embedded"] == len({c.content_hash for c in expected} - old_hashes)
    collection, points = points_behind(settings, settings.index.staging_alias)
    assert collection == again.collection
    assert sorted(p.id for p in points) == sorted(c.chunk_id for c in expected)


def test_query_answers_during_a_refresh_and_switches_when_it_publishes(validated_project) -> None:
    settings = set_index_params(validated_project, chunk_size=128, chunk_overlap=16)
    first = refresh_index(settings, show_progress=False)
    _, old_points = points_behind(settings, settings.index.staging_alias)
    title = raw_docs(settings)[0]["title"]

    # New chunking params: every chunk is new. The refresh is frozen mid-embedding, holding
    # the index lock and its half-built version, while a query runs as a separate process.
    settings = set_index_params(validated_project, chunk_size=96, chunk_overlap=8)
    process, lines = start_refresh(validated_project)
    try:
        wait_for_embedding(process, lines)
        process.send_signal(signal.SIGSTOP)
        during = query_process(validated_project, title)
        assert len(during) == 3
        assert {hit["chunk_id"] for hit in during} <= {p.id for p in old_points}
    finally:
        process.send_signal(signal.SIGCONT)
    assert process.wait(timeout=600) == 0, "".join(lines)

    collection, new_points = points_behind(settings, settings.index.staging_alias)
    assert collection != first.collection
    after = query_process(validated_project, title)
    assert {hit["chunk_id"] for hit in after} <= {p.id for p in new_points}
    assert not {hit["chunk_id"] for hit in after} <= {p.id for p in old_points}
    command = [sys.executable, "-m", "ragtune", "-C", str(validated_project), "index", "status"]
    status = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    assert status["aliases"][settings.index.staging_alias] == collection
    assert status["collections"] == {first.collection: len(old_points), collection: len(new_points)}
