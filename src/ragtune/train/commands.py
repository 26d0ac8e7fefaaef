"""`ragtune finetune`: train (always), or `--if-needed` (trigger policy), and its helpers."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from ragtune.cli_context import settings

finetune_app = typer.Typer(
    help="Occasional LoRA fine-tuning of the generator (MLflow run + registered version).",
    invoke_without_command=True,
)


@finetune_app.callback()
def finetune_command(
    ctx: typer.Context,
    if_needed: Annotated[
        bool,
        typer.Option(
            "--if-needed",
            help="Train only when training data or settings changed, the fine-tuned arms "
            "scored below finetune.min_finetuned_score, or the latest version is too old.",
        ),
    ] = False,
) -> None:
    """Fine-tune now; with --if-needed, first ask the trigger policy and maybe skip."""
    if ctx.invoked_subcommand is not None:
        return
    from ragtune.stages import finetune_stage

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    outcome = finetune_stage(settings(), if_needed=if_needed)
    typer.echo(outcome.decision.render())
    if outcome.version is not None:
        loss = (
            f"{outcome.metrics['eval_loss_before']:.3f} -> {outcome.metrics['eval_loss_after']:.3f}"
        )
        typer.echo(f"run {outcome.run_id}: eval loss {loss}; registered version {outcome.version}")


@finetune_app.command("decide")
def decide_command() -> None:
    """Print what `--if-needed` would do now, and why, without training."""
    from ragtune.train.run import decide_training, load_tables

    config = settings()
    typer.echo(decide_training(config, load_tables(config)).render())


@finetune_app.command("data")
def data_command() -> None:
    """Build the RAFT training data only (data/finetune/train.jsonl, eval.jsonl)."""
    from ragtune.data.gate import require_validated
    from ragtune.train.run import build_data, load_tables, preflight

    config = settings()
    require_validated(config)
    _, base_dir = preflight(config)
    built = build_data(config, base_dir, load_tables(config))
    typer.echo(json.dumps({k: str(v) for k, v in built.paths.items()} | built.data.counts))
