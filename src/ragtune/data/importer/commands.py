"""`ragtune data import` and `ragtune data import-qa`; registered on the CLI's ``data`` group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli_context import settings
from ragtune.config import Settings

NEXT_STEPS = "next: ragtune data snapshot && ragtune data prepare && ragtune validate"


def import_command(
    path: Annotated[Path, typer.Argument(help="Folder of documents to import.")],
    glob: Annotated[
        list[str] | None,
        typer.Option(
            "--glob", help="Only files matching this pattern (repeatable), e.g. '**/*.md'."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out matching files (repeatable).")
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="JSONL/CSV column for a doc field, FIELD=COLUMN (repeatable): "
            "doc_id, title, text, updated_at.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Parse every file again, even those whose bytes did not change.")
    ] = False,
    max_file_mb: Annotated[int, typer.Option(min=1, help="Skip files larger than this.")] = 50,
    snapshot: Annotated[
        bool, typer.Option(help="Record data/raw as a DVC revision afterwards.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (files/s).")] = True,
    follow_symlinks: Annotated[
        bool, typer.Option(help="Read symlinks pointing outside the folder (skipped otherwise).")
    ] = False,
    allow_removals: Annotated[
        bool,
        typer.Option(
            help="Write the import even if it matches no file or removes more than "
            "data.import_max_removal_share of the corpus."
        ),
    ] = False,
) -> None:
    """Import a folder (Markdown, text, rST, HTML, PDF, JSONL/CSV) as the docs in data/raw."""
    from ragtune.data.importer.docs import import_folder
    from ragtune.data.importer.folder import ImportOptions
    from ragtune.data.importer.tables import parse_column_map

    config = settings()
    options = ImportOptions(
        globs=tuple(glob or ()),
        excludes=tuple(exclude or ()),
        column_map=parse_column_map(column_map or []),
        min_chars=config.validate_.min_doc_chars,
        max_chars=config.validate_.max_doc_chars,
        max_title_chars=config.validate_.max_title_chars,
        max_file_bytes=max_file_mb * 1024 * 1024,
        force=force,
        progress=progress,
        follow_symlinks=follow_symlinks,
        allow_removals=allow_removals,
        max_removal_share=config.data.import_max_removal_share,
    )
    raw_dir = config.path(config.data.raw_dir)
    report = import_folder(path, raw_dir, options)
    typer.echo(report.render())
    _finish(config, raw_dir, snapshot)


def import_qa_command(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL: question, answer, doc_ids, [split].")],
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Column for a QA field, FIELD=COLUMN (repeatable): "
            "qa_id, question, answer, doc_ids, split.",
        ),
    ] = None,
    dev_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of documents whose questions go to dev.")
    ] = 0.25,
    test_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of documents whose questions go to test.")
    ] = 0.25,
    snapshot: Annotated[
        bool, typer.Option(help="Record data/raw as a DVC revision afterwards.")
    ] = False,
) -> None:
    """Import your own evaluation questions; rows citing unknown docs are refused by line."""
    from ragtune.data.importer.qa import QaImportOptions, import_qa, parse_qa_column_map

    config = settings()
    if dev_share + test_share > 1:
        raise typer.BadParameter("--dev-share plus --test-share must not exceed 1")
    options = QaImportOptions(
        column_map=parse_qa_column_map(column_map or []),
        dev_share=dev_share,
        test_share=test_share,
    )
    raw_dir = config.path(config.data.raw_dir)
    counts = import_qa(file, raw_dir, options)
    summary = ", ".join(f"{count} {split}" for split, count in counts.items())
    typer.echo(f"imported {sum(counts.values())} questions to {raw_dir / 'qa.jsonl'}: {summary}")
    if counts.get(config.evaluate.split, 0) == 0:
        typer.echo(
            f"warning: no '{config.evaluate.split}' questions (evaluate.split); "
            "give some rows an explicit split or raise --dev-share/--test-share"
        )
    _finish(config, raw_dir, snapshot)


def _finish(config: Settings, raw_dir: Path, snapshot: bool) -> None:
    """Snapshot with DVC when asked, else say what to run next."""
    if not snapshot:
        typer.echo(NEXT_STEPS)
        return
    from ragtune.data.versioning import snapshot as dvc_snapshot

    revision = dvc_snapshot(config.project_dir, raw_dir)
    typer.echo(f"data revision {revision.id}")
    typer.echo(NEXT_STEPS.replace("ragtune data snapshot && ", ""))
