"""`ragtune release …`: promote a candidate, list and show releases, roll back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from ragtune.cli_context import settings

if TYPE_CHECKING:
    from ragtune.release.manifest import ReleaseManifest

release_app = typer.Typer(
    help="Promote the fine-tuned adapter and the index together (both or neither); roll back.",
    no_args_is_help=True,
)


@release_app.command("promote")
def promote_command(
    adapter_version: Annotated[
        str | None,
        typer.Option("--adapter-version", help="Registered generator version (default: latest)."),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(help="Collection to release (default: the one behind index.staging_alias)."),
    ] = None,
) -> None:
    """Prepare, gate and commit a release; exit 1 when the gate rejects the candidate."""
    from ragtune.stages import promote_stage

    result = promote_stage(settings(), adapter_version, collection)
    typer.echo(result.gate.render())
    manifest = result.manifest
    if not result.promoted:
        typer.echo(
            f"not promoted: adapter {manifest.adapter_version} + {manifest.collection}; "
            "the live release is unchanged"
        )
        raise typer.Exit(code=1)
    typer.echo(
        f"release {manifest.release_id} live: adapter {manifest.registered_model} "
        f"v{manifest.adapter_version} + collection {manifest.collection} ({manifest.points} points)"
    )


@release_app.command("list")
def list_command() -> None:
    """Every release, oldest first; the live one is marked with *."""
    from ragtune.release import manifest as releases
    from ragtune.release.promote import recover

    config = settings()
    message = recover(config)
    if message:
        typer.echo(message)
    live = releases.live_release_id(config.project_dir)
    ids = releases.list_release_ids(config.project_dir)
    if not ids:
        typer.echo("no releases yet; run `ragtune release promote`")
        return
    for release_id in ids:
        item = releases.read_manifest(config.project_dir, release_id)
        marker = "*" if release_id == live else " "
        typer.echo(
            f"{marker} {release_id}  adapter v{item.adapter_version}  {item.collection}  "
            f"data {item.data_revision}  {item.created_at}"
        )


@release_app.command("show")
def show_command(
    release_id: Annotated[str | None, typer.Argument(help="Release id (default: live).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole manifest as JSON.")] = False,
) -> None:
    """What a release (the live one by default) holds, and how its arms scored."""
    from ragtune.errors import ReleaseError
    from ragtune.release import manifest as releases
    from ragtune.release.promote import recover

    config = settings()
    recover(config)
    if release_id is None:
        release_id = releases.live_release_id(config.project_dir)
        if release_id is None:
            raise ReleaseError("no release is live yet; run `ragtune release promote`")
    item = releases.read_manifest(config.project_dir, release_id)
    if as_json:
        typer.echo(json.dumps(item.as_dict(), indent=2))
        return
    live = releases.live_release_id(config.project_dir)
    typer.echo(summary(item, live == item.release_id))


HEADLINE_METRICS = ("f1", "citation_accuracy", "citation_format", "groundedness")


def summary(item: ReleaseManifest, is_live: bool) -> str:
    """A release manifest for people: what was released and the evaluation it passed."""
    from ragtune.evaluate.arms import ARMS

    lines = [
        f"release {item.release_id}{' (live)' if is_live else ''}, "
        f"created {item.created_at} by {item.created_by}",
        f"  adapter     {item.registered_model} v{item.adapter_version}; "
        f"served as one MLflow model, hybrid v{item.hybrid_version}",
        f"  collection  {item.collection} ({item.points} points, "
        f"{item.embedding_model}, {item.embedding_dimension}-d)",
        f"  data        revision {item.data_revision}; prompt {item.prompt_hash}",
        f"  evaluation  MLflow run {item.evaluation_run_id}",
        f"  previous    {item.previous or '(none)'}",
        "",
        "| arm | " + " | ".join(HEADLINE_METRICS) + " |",
        "|---" * (len(HEADLINE_METRICS) + 1) + "|",
    ]
    for arm in ARMS:
        values = [item.metrics.get(f"{arm.key}/all/{name}") for name in HEADLINE_METRICS]
        cells = ["–" if value is None else f"{value:.3f}" for value in values]
        lines.append(f"| {arm.label} | " + " | ".join(cells) + " |")
    lines.append("\n(`--json` prints every metric and slice)")
    return "\n".join(lines)


@release_app.command("rollback")
def rollback_command(
    release_id: Annotated[
        str | None, typer.Argument(help="Release to make live (default: the previous one).")
    ] = None,
) -> None:
    """Move the MLflow alias and the Qdrant alias back to the previous (or named) release."""
    from ragtune.release.promote import rollback

    target = rollback(settings(), release_id)
    typer.echo(
        f"release {target.release_id} live again: adapter v{target.adapter_version} + "
        f"{target.collection}"
    )
