"""`ragtune index …`: refresh the index, query it, and print what it holds."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from ragtune.cli_context import settings

index_app = typer.Typer(
    help="Build, refresh and query the retrieval index (Qdrant).", no_args_is_help=True
)


@index_app.command("refresh")
def refresh_command(
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    evaluate: Annotated[bool, typer.Option(help="Score retrieval on index.eval_split.")] = True,
) -> None:
    """Refresh the staging collection incrementally, evaluate it and log the build to MLflow."""
    from ragtune.stages import index_stage

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = settings()
    outcome = index_stage(config, show_progress=progress, evaluate=evaluate)
    result = outcome.refresh
    counts = ", ".join(f"{key}={value}" for key, value in result.counts.items())
    verb = "built" if result.built else "unchanged"
    typer.echo(f"{verb} {result.collection} ({config.index.staging_alias}): {counts}")
    timing = ", ".join(f"{phase} {seconds:.2f}s" for phase, seconds in result.seconds.items())
    typer.echo(f"phases: {timing}")
    if result.deleted_collections:
        typer.echo("deleted old collections: " + ", ".join(result.deleted_collections))
    scores = ", ".join(f"{key}={value:.4f}" for key, value in outcome.scores.items())
    typer.echo(f"retrieval: {scores or outcome.evaluation}")
    typer.echo(f"mlflow run {outcome.run_id} (experiment ragtune-index)")


@index_app.command("query")
def query_command(
    text: Annotated[str, typer.Argument(help="The question or search text.")],
    k: Annotated[
        int | None, typer.Option("-k", "--k", min=1, help="Chunks to return (default: index.k).")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Collection or alias (default: index.staging_alias).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show model loading progress bars.")] = False,
) -> None:
    """Print the chunks closest to TEXT."""
    from ragtune.index.query import query_index

    hits = query_index(settings(), text, k, collection, show_progress=progress)
    if as_json:
        typer.echo(json.dumps([hit.as_dict() for hit in hits], indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.text.split())[:160]
        typer.echo(
            f"{rank}. {hit.score:.3f} {hit.doc_id} #{hit.position} {hit.title}\n   {snippet}"
        )


@index_app.command("evaluate")
def evaluate_command(
    collection: Annotated[str | None, typer.Option(help="Collection or alias to score.")] = None,
) -> None:
    """Print recall@k, MRR and nDCG@10 of the index on the QA split index.eval_split."""
    from ragtune.index.query import evaluate_retrieval

    scores = evaluate_retrieval(settings(), collection)
    typer.echo(json.dumps(scores, indent=2))


@index_app.command("status")
def status_command() -> None:
    """Print the collections, the aliases and what each alias points at."""
    from ragtune.index import store

    config = settings()
    with store.open_store(config) as client:
        payload = {
            "aliases": store.aliases(client),
            "collections": {
                name: client.count(name, exact=True).count
                for name in store.collection_names(client, config.index.collection_prefix)
            },
        }
    typer.echo(json.dumps(payload, indent=2))
