"""HTTP serving of the live release: `POST /ask`, `GET /health`, `GET /release`.

A thin layer over :func:`ragtune.serve.answer.answer` (through the batcher), the same path the
four-arm evaluation measured. Bad requests get a 4xx with a message saying what to change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from ragtune.config import Settings
from ragtune.errors import EvaluationError
from ragtune.serve.batcher import AnswerBatcher
from ragtune.serve.commands import check_question
from ragtune.serve.live import LiveRelease

MAX_K = 20


class AskRequest(BaseModel):
    """A question and, optionally, how many chunks to retrieve for it."""

    question: str = Field(description="The question, at most 2,000 characters.")
    k: int | None = Field(
        None,
        ge=1,
        le=MAX_K,
        description="Chunks to retrieve (default evaluate.k, as the release was gated).",
    )


class Citation(BaseModel):
    doc_id: str
    title: str


class AskResponse(BaseModel):
    """The answer, the documents it cites, and the release that answered."""

    answer: str
    citations: list[Citation]
    retrieved_doc_ids: list[str]
    release_id: str
    adapter_version: str
    collection: str
    retrieval_seconds: float
    generation_seconds: float


def _citations(answered: Any) -> list[Citation]:
    titles = {hit.doc_id: hit.title for hit in answered.answer.passages}
    return [
        Citation(doc_id=doc_id, title=titles.get(doc_id, "(not among the retrieved passages)"))
        for doc_id in dict.fromkeys(answered.answer.cited_doc_ids)
    ]


def parse_ask_request(body: bytes) -> AskRequest:
    """The request body as an :class:`AskRequest`; 400/422 naming what to change."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(
            status_code=400,
            detail=f'the body is not JSON ({exc}); send {{"question": "...", "k": 5}}',
        ) from None
    try:
        return AskRequest.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise HTTPException(status_code=422, detail=problems) from None


def create_app(settings: Settings, live: LiveRelease | None = None) -> FastAPI:
    """The FastAPI app serving ``settings``' live release (loaded on startup)."""
    holder = live or LiveRelease(settings)
    batcher = AnswerBatcher(holder, max_batch=8)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(holder.start)
        batcher.start()
        try:
            yield
        finally:
            batcher.stop()
            holder.stop()

    app = FastAPI(title="ragtune", summary="Answers with citations from the live release.")
    app.router.lifespan_context = lifespan

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "release_id": holder.manifest.release_id}

    @app.get("/release")
    def release() -> dict[str, Any]:
        return holder.manifest.as_dict()

    # The body is read as JSON whatever its Content-Type: `curl -d '{"question": ...}'` sends
    # form encoding by default, and that should answer, not fail on a header.
    ask_schema = AskRequest.model_json_schema()
    ask_body = {"content": {"application/json": {"schema": ask_schema}}, "required": True}

    @app.post("/ask", response_model=AskResponse, openapi_extra={"requestBody": ask_body})
    async def ask(http_request: Request) -> AskResponse:
        request = parse_ask_request(await http_request.body())
        try:
            question = check_question(request.question)
        except EvaluationError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        k = request.k or settings.evaluate.k
        answered = await asyncio.wrap_future(batcher.submit(question, k))
        result = answered.answer
        return AskResponse(
            answer=result.answer,
            citations=_citations(answered),
            retrieved_doc_ids=result.retrieved_doc_ids,
            release_id=answered.release_id,
            adapter_version=answered.adapter_version,
            collection=answered.collection,
            retrieval_seconds=round(result.retrieval_seconds, 4),
            generation_seconds=round(result.generation_seconds, 4),
        )

    return app
