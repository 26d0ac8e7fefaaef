"""Answer concurrent requests in batches: one ``generate`` call serves every waiting question.

Batched greedy generation costs little more per call than one question on a CPU, so the
server collects the questions that arrive within a few milliseconds of each other and answers
them together through :func:`ragtune.serve.answer.answer`, the path evaluation measured.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import groupby

from ragtune.serve.answer import Answer, answer
from ragtune.serve.live import LiveRelease

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """An answer and the release (id, adapter, collection) that produced it."""

    answer: Answer
    release_id: str
    adapter_version: str
    collection: str


@dataclass
class _Request:
    question: str
    k: int
    future: Future[Answered] = field(default_factory=Future)


class AnswerBatcher:
    """A worker thread draining a queue of questions into batched :func:`answer` calls."""

    def __init__(self, live: LiveRelease, max_batch: int = 8, wait_seconds: float = 0.01) -> None:
        self.live = live
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="answer-batcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def submit(self, question: str, k: int) -> Future[Answered]:
        """Queue one question; the future resolves when its batch is answered."""
        request = _Request(question, k)
        self._queue.put(request)
        return request.future

    def _collect(self, first: _Request) -> list[_Request]:
        """``first`` plus whatever else arrives within ``wait_seconds``, up to ``max_batch``."""
        batch = [first]
        deadline = time.monotonic() + self.wait_seconds
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is None:  # the stop signal: leave it for the worker loop
                self._queue.put(None)
                break
            batch.append(item)
        return batch

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._collect(first)
            try:
                self._answer(batch)
            except Exception as exc:  # every waiting request gets the error, the worker lives on
                logger.exception("answering a batch of %d failed", len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _answer(self, batch: list[_Request]) -> None:
        with self.live.use() as release:
            manifest = release.manifest
            for k, group in groupby(sorted(batch, key=lambda r: r.k), key=lambda r: r.k):
                requests = list(group)
                answers = answer(
                    [r.question for r in requests],
                    release.generator,
                    release.retriever,
                    k,
                    batch_size=self.max_batch,
                )
                for request, result in zip(requests, answers, strict=True):
                    request.future.set_result(
                        Answered(
                            result,
                            manifest.release_id,
                            manifest.adapter_version,
                            manifest.collection,
                        )
                    )
