"""The live release held open by the serving process, swapped when ``releases/live.json`` moves.

Serving reads only the release manifest: the adapter version and the exported index it names,
so it never pairs a model with an index it was not evaluated with. It opens the release's own
index copy (``releases/index/<id>``), not ``index.qdrant_path``, so scheduled refreshes, which
hold that store while they write, never block an answer. A watcher thread polls the live
pointer; the next release is loaded in full before the swap, and a request that has started
keeps the release it started with until it finishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune.errors import ReleaseError
from ragtune.release import manifest as releases
from ragtune.release.export import export_dir
from ragtune.serve.answer import Generator, Retriever
from ragtune.serve.generators import find_adapter, load_finetuned

if TYPE_CHECKING:
    from ragtune.config import Settings
    from ragtune.release.manifest import ReleaseManifest

logger = logging.getLogger(__name__)


@dataclass
class LoadedRelease:
    """A release ready to answer: its manifest, generator and an open index copy."""

    manifest: ReleaseManifest
    generator: Generator
    retriever: Retriever
    users: int = 0
    retired: bool = False

    def close(self) -> None:
        """Release the index copy's store lock."""
        self.retriever.client.close()


def load_release(settings: Settings, manifest: ReleaseManifest, embedder: Any) -> LoadedRelease:
    """Open the adapter version and the exported index a release names."""
    from ragtune.index import store

    index_dir = export_dir(settings.project_dir, manifest.release_id)
    if not index_dir.is_dir():
        raise ReleaseError(
            f"release {manifest.release_id} has no exported index at {index_dir}; "
            "promote it again with `ragtune release promote`"
        )
    adapter = find_adapter(settings, manifest.adapter_version)
    generator = load_finetuned(adapter, settings.finetune.max_new_tokens)
    client = store.open_path(index_dir)
    retriever = Retriever(
        client, manifest.collection, embedder, settings.index.batch_size, settings.index.retrieval
    )
    logger.info("loaded release %s (%s)", manifest.release_id, adapter.label)
    return LoadedRelease(manifest, generator, retriever)


class LiveRelease:
    """Holds the live release; :meth:`use` lends it to one request at a time-safe way."""

    def __init__(self, settings: Settings, poll_seconds: float = 1.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._current: LoadedRelease | None = None
        self._embedders: dict[str, Any] = {}
        self._thread: threading.Thread | None = None

    def _embedder(self, name: str) -> Any:
        from ragtune.index.embed import load_embedder

        if name not in self._embedders:
            config = self.settings.index.model_copy(update={"embedding_model": name})
            self._embedders[name] = load_embedder(config)
        return self._embedders[name]

    def _load_live(self) -> LoadedRelease:
        manifest = releases.live_manifest(self.settings.project_dir)
        if manifest is None:
            raise ReleaseError("no release is live; run `ragtune release promote` first")
        return load_release(self.settings, manifest, self._embedder(manifest.embedding_model))

    def start(self) -> None:
        """Load the live release, then watch for the next one."""
        self._current = self._load_live()
        self._thread = threading.Thread(target=self._watch, name="release-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and close the release."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            if self._current is not None:
                self._current.close()
                self._current = None

    @property
    def manifest(self) -> ReleaseManifest:
        """The manifest of the release new requests get."""
        if self._current is None:
            raise ReleaseError("the server has no release loaded")
        return self._current.manifest

    @contextmanager
    def use(self) -> Iterator[LoadedRelease]:
        """The current release, kept open until the caller is done with it."""
        with self._lock:
            release = self._current
            if release is None:
                raise ReleaseError("the server has no release loaded")
            release.users += 1
        try:
            yield release
        finally:
            with self._lock:
                release.users -= 1
                if release.retired and release.users == 0:
                    release.close()

    def check(self) -> bool:
        """Load and switch to the live release if the pointer moved; True when it switched."""
        live_id = releases.live_release_id(self.settings.project_dir)
        if live_id is None or self._current is None:
            return False
        if live_id == self._current.manifest.release_id:
            return False
        loaded = self._load_live()
        with self._lock:
            previous, self._current = self._current, loaded
            previous.retired = True
            if previous.users == 0:
                previous.close()
        logger.info("now serving release %s", loaded.manifest.release_id)
        return True

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check()
            except Exception:  # keep serving the loaded release; say why the next did not load
                logger.exception("could not load the new live release; still serving the old one")
