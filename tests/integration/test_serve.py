"""`ragtune serve` as a real process on loopback: answers from the live release, follows it when
it moves, keeps answering while a refresh writes the index, and refuses bad requests clearly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from index_support import raw_docs, write_docs_and_prepare
from release_support import new_candidate, release_first

from ragtune.config import Settings
from ragtune.index.refresh import refresh_index
from ragtune.release.promote import promote, rollback

pytestmark = pytest.mark.slow
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(demo_project) -> Iterator[tuple[Settings, httpx.Client]]:
    settings = release_first(demo_project)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ragtune", "-C", str(demo_project), "serve", "--port", str(port)]
        + ["--poll-seconds", "0.2"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
        yield settings, client
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_release(client: httpx.Client, release_id: str) -> None:
    deadline = time.monotonic() + 120
    while client.get("/health").json()["release_id"] != release_id:
        assert time.monotonic() < deadline, f"server never switched to {release_id}"
        time.sleep(0.2)


BAD_REQUESTS = [
    ({"question": "   "}, "empty"),
    ({"question": "x" * 20_000}, "20,000 characters"),
    ({"question": "fine?", "k": 0}, "greater than or equal to 1"),
    ({"question": "fine?", "k": 500}, "less than or equal to 20"),
    ({"k": 3}, "question"),
]


def check_bad_requests(client: httpx.Client) -> None:
    for payload, expected in BAD_REQUESTS:
        reply = client.post("/ask", json=payload)
        assert reply.status_code == 422 and expected in reply.text, (payload, reply.text)
    reply = client.post(
        "/ask", content=b'{"question": "unterminated', headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400 and "not JSON" in reply.text


def check_curl_default_content_type(client: httpx.Client, title: str) -> None:
    """`curl -d '{...}'` sends form encoding; the JSON body still answers."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = f'{{"question": "What is {title}?"}}'.encode()
    reply = client.post("/ask", content=body, headers=form)
    assert reply.status_code == 200 and reply.json()["release_id"] == "r0001", reply.text


def test_serves_the_live_release_and_follows_promotion_and_rollback(server) -> None:
    settings, client = server
    title = raw_docs(settings)[0]["title"]
    reply = client.post("/ask", json={"question": f"What is {title}?", "k": 3})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    first_collection = body["collection"]
    assert body["release_id"] == "r0001" and body["adapter_version"] == "1"
    assert len(body["retrieved_doc_ids"]) >= 1
    assert client.get("/release").json()["collection"] == first_collection
    check_bad_requests(client)
    check_curl_default_content_type(client, title)

    # A refresh writes the index store while the server answers from its own copy.
    docs = raw_docs(settings)
    docs[1]["text"] += " A late edit."
    write_docs_and_prepare(settings, docs)
    refreshed = refresh_index(settings, show_progress=False)
    assert refreshed.built
    again = client.post("/ask", json={"question": f"What is {title}?"}).json()
    assert again["release_id"] == "r0001" and again["collection"] == first_collection

    version, collection = new_candidate(settings, f1=0.7)
    assert promote(settings).promoted
    wait_for_release(client, "r0002")
    moved = client.post("/ask", json={"question": f"What is {title}?"}).json()
    assert (moved["release_id"], moved["adapter_version"], moved["collection"]) == (
        "r0002",
        version,
        collection,
    )
    rollback(settings)
    wait_for_release(client, "r0001")
    assert client.post("/ask", json={"question": "Hi?"}).json()["collection"] == first_collection
