"""The front door: one Typer app for people, DVC stages, Prefect flows and tests.

Heavy libraries (torch, mlflow, GX) are imported inside commands so ``ragtune --help``
stays fast. Every command reads ``params.yaml`` from the project directory.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli_context import State, settings
from ragtune.data.importer.commands import import_command, import_qa_command
from ragtune.errors import RagtuneError
from ragtune.evaluate.commands import advise_command, evaluate_command
from ragtune.index.commands import index_app
from ragtune.release.commands import release_app
from ragtune.runtime import configure_environment
from ragtune.serve.commands import ask_command
from ragtune.serve.server import serve_command
from ragtune.train.commands import finetune_app

app = typer.Typer(
    help="ragtune: a retrieval index and a LoRA fine-tune, validated and tracked together.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Generate, import, prepare and version the raw data.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
data_app.command("import")(import_command)
data_app.command("import-qa")(import_qa_command)
app.add_typer(index_app, name="index")
app.add_typer(finetune_app, name="finetune")
app.add_typer(release_app, name="release")
app.command("ask")(ask_command)
app.command("evaluate")(evaluate_command)
app.command("serve")(serve_command)
app.command("advise")(advise_command)


@app.callback()
def root(
    project_dir: Annotated[
        Path,
        typer.Option(
            "--project-dir",
            "-C",
            envvar="RAGTUNE_PROJECT_DIR",
            help="Project directory holding params.yaml (default: current directory).",
        ),
    ] = Path("."),
) -> None:
    """Resolve the project directory and set offline, embedded defaults."""
    State.project_dir = project_dir.resolve()
    configure_environment(State.project_dir)


@data_app.command("generate")
def data_generate(
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default: data.raw_dir).")
    ] = None,
    revision: Annotated[
        int | None, typer.Option(min=1, help="Corpus revision (default: data.revision).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Generator seed (default: data.seed).")] = None,
    docs: Annotated[
        int | None, typer.Option(min=20, help="Documents at revision 1 (default: data.docs).")
    ] = None,
) -> None:
    """Write the deterministic demo knowledge base (docs, QA, behaviour examples)."""
    from ragtune.data.generate import GeneratorSpec, write_corpus

    config = settings()
    spec = GeneratorSpec(
        seed=config.data.seed if seed is None else seed,
        revision=config.data.revision if revision is None else revision,
        docs=config.data.docs if docs is None else docs,
    )
    target = out if out is not None else config.path(config.data.raw_dir)
    counts = write_corpus(spec, target)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    typer.echo(f"wrote revision {spec.revision} (seed {spec.seed}) to {target}: {summary}")


@data_app.command("snapshot")
def data_snapshot(
    push: Annotated[bool, typer.Option(help="Push to the DVC remote after adding.")] = True,
) -> None:
    """Record data/raw as a new DVC revision (dvc add + push) and print its id."""
    from ragtune.data.versioning import snapshot

    config = settings()
    revision = snapshot(config.project_dir, config.path(config.data.raw_dir), push=push)
    typer.echo(revision.id)


@data_app.command("revision")
def data_revision_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print files and hashes as JSON.")
    ] = False,
) -> None:
    """Print the data revision of data/raw as it is now (wip-… when not snapshotted)."""
    from ragtune.data.versioning import data_revision

    config = settings()
    revision = data_revision(config.project_dir, config.path(config.data.raw_dir))
    if as_json:
        payload = {
            "id": revision.id,
            "snapshotted": revision.snapshotted,
            "reason": revision.reason,
            "files": revision.files,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(revision.id)
    if revision.reason:
        typer.echo(f"note: {revision.reason}", err=True)


@data_app.command("prepare")
def data_prepare() -> None:
    """Load raw data strictly and write normalised JSONL to prepare.prepared_dir."""
    from ragtune.stages import prepare_stage

    counts = prepare_stage(settings())
    typer.echo("prepared " + ", ".join(f"{count} {name}" for name, count in counts.items()))


@app.command("validate")
def validate_command() -> None:
    """Run the Great Expectations suites; exit non-zero with a report when data is bad."""
    from ragtune.errors import ValidationFailed
    from ragtune.stages import validate_stage

    try:
        report = validate_stage(settings())
    except ValidationFailed as failed:
        typer.echo(str(failed))
        raise typer.Exit(code=1) from None
    typer.echo(report.render())


@app.command("schedule")
def schedule(
    list_only: Annotated[
        bool, typer.Option("--list", help="Print the deployments and their schedules, then exit.")
    ] = False,
) -> None:
    """Serve the scheduled Prefect deployments (index refresh, fine-tune) until interrupted."""
    from ragtune.flows.deployments import build_deployments, describe, serve_deployments

    config = settings()
    if list_only:
        typer.echo(json.dumps(describe(build_deployments(config)), indent=2, default=str))
        return
    serve_deployments(config)


@app.command("demo")
def demo() -> None:
    """Run the pipeline on the demo data (generate if absent) and answer from the live release."""
    from ragtune.demo import run_demo

    config = settings()
    if not config.path(config.data.raw_dir).exists():
        data_generate(out=None, revision=None, seed=None, docs=None)
    run_demo(config, typer.echo)


def main() -> None:
    """Console-script entry point: RagtuneErrors become a one-line message and exit 1."""
    from ragtune.index.connection import SERVER_VERSION_WARNING, unreachable_server

    warnings.filterwarnings("ignore", message=SERVER_VERSION_WARNING)
    try:
        app()
    except RagtuneError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
    except Exception as exc:
        message = unreachable_server(exc)
        if message is None:
            raise
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        sys.exit(1)
