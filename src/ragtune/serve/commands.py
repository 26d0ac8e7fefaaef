"""`ragtune ask "question"`: one answer through the same path evaluation and serving use."""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from enum import StrEnum
from typing import Annotated, Any

import typer

from ragtune.cli_context import settings
from ragtune.errors import EvaluationError

MAX_QUESTION_CHARS = 2000


class ArmOption(StrEnum):
    """`--arm` values (the arms of ragtune.evaluate.arms)."""

    base = "base"
    rag = "rag"
    ft = "ft"
    ft_rag = "ft+rag"


def check_question(question: str) -> str:
    """The question stripped; EvaluationError when it is empty or too long to be one."""
    text = question.strip()
    if not text:
        raise EvaluationError('the question is empty; ask something, e.g. `ragtune ask "..."`')
    if len(text) > MAX_QUESTION_CHARS:
        raise EvaluationError(
            f"the question is {len(text):,} characters; at most {MAX_QUESTION_CHARS:,} are "
            "accepted (ask a question, not a document)"
        )
    return text


def doc_titles(config: Any, doc_ids: list[str]) -> dict[str, str]:
    """Titles of ``doc_ids`` from the prepared documents (empty when not prepared)."""
    from ragtune.data.load import load_dataset
    from ragtune.data.schema import DOCS

    prepared = config.path(config.prepare.prepared_dir)
    if not (prepared / DOCS.filename).exists():
        return {}
    wanted = set(doc_ids)
    return {
        row["doc_id"]: row["title"]
        for row in load_dataset(DOCS, prepared)
        if row["doc_id"] in wanted
    }


def ask_command(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    arm: Annotated[
        ArmOption,
        typer.Option(help="base model, base+retrieval, fine-tuned, or fine-tuned+retrieval."),
    ] = ArmOption.ft_rag,
    k: Annotated[
        int | None, typer.Option("-k", min=1, help="Chunks (default: evaluate.k).")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Collection or alias (default: the release, else staging).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Adapter version (default: the release, else latest).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show model loading progress bars.")] = False,
) -> None:
    """Answer QUESTION with retrieval and/or the fine-tuned adapter; cite the documents used."""
    from ragtune.evaluate.arms import ARM_BY_OPTION
    from ragtune.index.query import refuse_long_query
    from ragtune.runtime import quiet_model_loading
    from ragtune.serve.answer import answer, open_retriever
    from ragtune.serve.generators import load_base, load_finetuned
    from ragtune.serve.release import serving_choice

    logging.basicConfig(level=logging.WARNING)
    text = check_question(question)
    config = settings()
    chosen = ARM_BY_OPTION[ArmOption(arm).value]
    choice = serving_choice(config, chosen, collection, version)
    limit = config.evaluate.max_new_tokens
    if chosen.retrieval:  # before any model loads
        refuse_long_query(config.index, text)
    with (
        nullcontext() if progress else quiet_model_loading(),
        open_retriever(config, choice.collection) if chosen.retrieval else nullcontext() as found,
    ):
        generator = (
            load_finetuned(choice.adapter, limit) if choice.adapter else load_base(config, limit)
        )
        result = answer([text], generator, found, k or config.evaluate.k, batch_size=1)[0]
    titles = doc_titles(config, result.cited_doc_ids)
    titles.update({hit.doc_id: hit.title for hit in result.passages})
    payload = {
        "arm": chosen.option,
        "generator": generator.label,
        "collection": found.collection if found else None,
        "source": choice.source,
        **result.as_dict(),
        "citations": [{"doc_id": d, "title": titles.get(d, "")} for d in result.cited_doc_ids],
    }
    if as_json:
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    typer.echo(result.answer)
    typer.echo(f"\ncitations: {len(payload['citations'])}")
    for item in payload["citations"]:
        known = "" if item["title"] else " (not a known document)"
        typer.echo(f"  [doc:{item['doc_id']}] {item['title']}{known}")
    if result.passages:
        typer.echo(f"passages used ({payload['collection']}):")
        for rank, hit in enumerate(result.passages, start=1):
            snippet = " ".join(hit.text.split())[:120]
            typer.echo(f"  {rank}. [doc:{hit.doc_id}] {hit.title} ({hit.score:.3f}): {snippet}")
    typer.echo(f"answered by {generator.label}; {choice.source}")
