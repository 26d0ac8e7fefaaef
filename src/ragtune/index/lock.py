"""One index write at a time per project: a lock file beside the manifest, a lease on a server.

Every write to the index (refresh, its orphan clean-up and garbage collection) holds
:func:`index_write_lock`. Locally an exclusive ``flock`` on ``<manifest>.lock`` serialises
processes and threads; the kernel drops it when the owner dies, so a half-built collection
found while holding the lock always belongs to a dead refresh. Against a Qdrant server
(``QDRANT_URL``), writers on other hosts share no file, so the lock also takes a lease: a
point in the collection ``lease__<prefix>`` naming the owner, renewed while it works and
expiring when it dies. Unlike the staging collections, the lease collection is not named
``<prefix>-…``, so no build, garbage collection or orphan clean-up ever sees it.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ragtune.errors import RetrievalIndexError

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from ragtune.config import Settings

LEASE_SECONDS = 60.0
"""A server lease not renewed for this long belongs to a dead writer and may be taken over."""
POLL_SECONDS = 0.5
_LEASE_POINT = 1
P = ParamSpec("P")
R = TypeVar("R")


def owner_info(lease_seconds: float = LEASE_SECONDS) -> dict[str, Any]:
    """Who holds a lock: process id, host, start and expiry (epoch seconds), a unique token."""
    now = time.time()
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": now,
        "expires": now + lease_seconds,
        "token": uuid.uuid4().hex,
    }


def describe(owner: dict[str, Any] | None) -> str:
    """``pid 123 on host-a since 10:02:03 UTC`` (or that the owner is unknown)."""
    if not owner:
        return "owner unknown"
    since = time.strftime("%H:%M:%S UTC", time.gmtime(owner.get("started", 0)))
    return f"pid {owner.get('pid')} on {owner.get('host')} since {since}"


def lock_path(settings: Settings) -> Path:
    """``<index.manifest_path>.lock``."""
    manifest = settings.path(settings.index.manifest_path)
    return manifest.with_name(manifest.name + ".lock")


@contextmanager
def index_write_lock(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    """Hold the project's index lock (and a server lease with QDRANT_URL) for the block.

    Waits up to ``timeout`` (default ``index.lock_timeout_seconds``) for another writer, then
    raises RetrievalIndexError naming it.
    """
    wait = settings.index.lock_timeout_seconds if timeout is None else timeout
    deadline = time.monotonic() + wait
    with _file_lock(lock_path(settings), deadline, wait):
        url = os.environ.get("QDRANT_URL")
        if not url:
            yield
            return
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=os.environ.get("QDRANT_API_KEY"))
        try:
            with server_lease(client, settings.index.collection_prefix, deadline, wait, url):
                yield
        finally:
            client.close()


def holding_index_lock(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run an index write (first argument: Settings) under :func:`index_write_lock`."""

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        settings = args[0] if args else kwargs["settings"]
        with index_write_lock(settings):  # type: ignore[arg-type]
            return function(*args, **kwargs)

    return locked


@contextmanager
def _file_lock(path: Path, deadline: float, wait: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(path, _read_owner(path), wait) from None
                time.sleep(POLL_SECONDS)
        payload = json.dumps(owner_info()).encode()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, payload, 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _read_owner(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, json.JSONDecodeError):
        return None


def _busy(where: object, owner: dict[str, Any] | None, wait: float) -> RetrievalIndexError:
    return RetrievalIndexError(
        f"{where}: another index refresh is running ({describe(owner)}); waited {wait:.0f} s. "
        "Let it finish, or raise index.lock_timeout_seconds to wait longer"
    )


def lease_collection(prefix: str) -> str:
    """Name of the lease collection; outside ``<prefix>-…`` so it is never an index build."""
    return f"lease__{prefix}"


@contextmanager
def server_lease(
    client: QdrantClient,
    prefix: str,
    deadline: float,
    wait: float,
    where: str,
    lease_seconds: float = LEASE_SECONDS,
) -> Iterator[dict[str, Any]]:
    """Hold the lease of ``prefix`` in Qdrant, renewing it until the block ends.

    Creating a collection is atomic on the server (it fails when the name exists), so the
    writer that creates ``lease__<prefix>`` holds the lease; its point names the owner and
    the expiry. A lease left by a dead writer expires and is taken over.
    """
    name = lease_collection(prefix)
    mine = owner_info(lease_seconds)
    first_seen_empty: float | None = None
    while not _create_lease(client, name, mine):
        holder = _read_lease(client, name)
        now = time.time()
        if holder is None:  # being created this instant, or its creator died right after
            first_seen_empty = first_seen_empty or now
            expired = now - first_seen_empty > lease_seconds
        else:
            expired = holder.get("expires", 0) < now
        if expired:
            client.delete_collection(name)
            continue
        if time.monotonic() >= deadline:
            raise _busy(f"{where} (collection {name})", holder, wait)
        time.sleep(POLL_SECONDS)
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(client, name, mine, lease_seconds, stop), daemon=True
    )
    renewer.start()
    try:
        yield mine
    finally:
        stop.set()
        renewer.join()
        holder = _read_lease(client, name)
        if holder and holder.get("token") == mine["token"]:
            client.delete_collection(name)


def _renew(
    client: QdrantClient,
    name: str,
    mine: dict[str, Any],
    lease_seconds: float,
    stop: threading.Event,
) -> None:
    while not stop.wait(lease_seconds / 3):
        mine["expires"] = time.time() + lease_seconds
        try:
            _write_lease(client, name, mine)
        except Exception:  # noqa: BLE001 - the server blinked: the next renewal tries again
            logger.warning("could not renew the index lease %s", name, exc_info=True)


def _create_lease(client: QdrantClient, name: str, owner: dict[str, Any]) -> bool:
    """True when this call created the lease collection (and wrote ``owner`` into it)."""
    from qdrant_client import models

    try:
        client.create_collection(
            name, vectors_config=models.VectorParams(size=1, distance=models.Distance.DOT)
        )
    except Exception:  # noqa: BLE001 - it exists (held by someone), or the server is down
        if not client.collection_exists(name):
            raise
        return False
    _write_lease(client, name, owner)
    return True


def _read_lease(client: QdrantClient, name: str) -> dict[str, Any] | None:
    try:
        points = client.retrieve(name, ids=[_LEASE_POINT], with_payload=True)
    except Exception:  # noqa: BLE001 - released (collection deleted) between two calls
        if client.collection_exists(name):
            raise
        return None
    return dict(points[0].payload or {}) if points else None


def _write_lease(client: QdrantClient, name: str, owner: dict[str, Any]) -> None:
    from qdrant_client import models

    point = models.PointStruct(id=_LEASE_POINT, vector=[1.0], payload=dict(owner))
    client.upsert(name, points=[point], wait=True)
