"""`ragtune evaluate` (four arms, one MLflow run) and `ragtune advise` (RAG, fine-tune or both)."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from ragtune.cli_context import settings


def evaluate_command(
    collection: Annotated[
        str | None, typer.Option(help="Collection or alias (default: index.staging_alias).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Adapter version (default: the latest registered).")
    ] = None,
    max_questions: Annotated[
        int | None, typer.Option(min=1, help="Questions per arm (default: evaluate.max_questions).")
    ] = None,
) -> None:
    """Answer evaluate.split with base, base+RAG, FT and FT+RAG; log one MLflow run."""
    from ragtune.evaluate.report import markdown_table
    from ragtune.evaluate.stage import evaluate_stage

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    outcome = evaluate_stage(settings(), collection, version, max_questions)
    typer.echo(f"{outcome.adapter} with {outcome.collection}:")
    typer.echo(markdown_table(outcome.table))
    typer.echo(", ".join(f"{name}={value:.3f}" for name, value in outcome.scores.items()))
    typer.echo(f"mlflow run {outcome.run_id} (experiment ragtune-evaluate)")


def advise_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print signals and advice as JSON.")
    ] = False,
) -> None:
    """Recommend RAG, fine-tuning or hybrid from measured signals; print the signals used."""
    from dataclasses import asdict

    from ragtune.evaluate.advise import decide
    from ragtune.evaluate.signals import measure

    config = settings()
    signals, sources = measure(config)
    advice = decide(
        signals, config.advise.change_rate_threshold, config.advise.jargon_tokens_threshold
    )
    if as_json:
        payload = {"signals": asdict(signals), "sources": sources, **asdict(advice)}
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo("signals:")
    for name, value in asdict(signals).items():
        shown = "not measured" if value is None else value
        typer.echo(f"  {name}: {shown}  ({sources[name]})")
    typer.echo(f"recommendation: {advice.recommendation}")
    for reason in advice.reasons:
        typer.echo(f"  - {reason}")
