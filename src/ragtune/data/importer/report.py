"""What an import did: counts, changes, skipped files, and warnings about stale citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ragtune.data.importer.folder import ImportOptions
from ragtune.data.importer.manifest import SKIPPED_FILE, ChangeSummary
from ragtune.data.load import iter_jsonl
from ragtune.data.schema import BEHAVIOUR, QA
from ragtune.errors import DataFormatError


@dataclass
class ImportReport:
    """What one import did."""

    files: int
    docs: int
    changes: ChangeSummary
    skipped: list[tuple[str, str]]
    ignored: dict[str, int]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def render(self, limit: int = 20) -> str:
        """Human-readable summary: counts, first changes, every skip reason (up to ``limit``)."""
        rate = self.files / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{count} {name}" for name, count in self.changes.counts().items())
        lines = [
            f"imported {self.docs} docs from {self.files} files in {self.seconds:.1f} s "
            f"({rate:.0f} files/s): {counts}; {len(self.skipped)} skipped"
        ]
        for old_id, new_id in self.changes.renamed[:limit]:
            lines.append(f"  renamed  {old_id} -> {new_id}")
        for name in ("added", "changed", "removed"):
            for doc_id in getattr(self.changes, name)[:limit]:
                lines.append(f"  {name:<8} {doc_id}")
        for path, reason in self.skipped[:limit]:
            lines.append(f"  skipped  {path}: {reason}")
        if len(self.skipped) > limit:
            lines.append(f"  ... {len(self.skipped) - limit} more in {SKIPPED_FILE}")
        if self.ignored:
            common = sorted(self.ignored.items(), key=lambda item: (-item[1], item[0]))
            kinds = ", ".join(f"{suffix or '(none)'}: {n}" for suffix, n in common[:8])
            more = f", {len(common) - 8} more types" if len(common) > 8 else ""
            lines.append(
                f"ignored {sum(self.ignored.values())} files of other types ({kinds}{more}); "
                "name them with --glob to import them as text"
            )
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)


def stale_citations(raw_dir: Path, doc_ids: set[str]) -> list[str]:
    """Warn when QA or behaviour rows already in ``raw_dir`` cite docs the import did not write."""
    warnings: list[str] = []
    for dataset, advice in (
        (QA, "import your own questions with `ragtune data import-qa FILE`"),
        (BEHAVIOUR, "delete it (demo examples) or re-cite imported doc ids"),
    ):
        path = raw_dir / dataset.filename
        if not path.exists():
            continue
        try:
            stale = sum(
                1 for _, row in iter_jsonl(path) if not set(row.get("doc_ids") or []) <= doc_ids
            )
        except DataFormatError as exc:
            warnings.append(f"cannot check {path}: {exc}")
            continue
        if stale:
            warnings.append(
                f"{stale} rows of {path} cite docs not in the imported corpus; {advice}"
            )
    return warnings


def refuse_removals(
    source_dir: Path,
    docs_file: Path,
    options: ImportOptions,
    files: int,
    previous_docs: int,
    changes: ChangeSummary,
    imported_ids: set[str],
) -> None:
    """Refuse an import that matched no file or removes too much, unless removals are allowed.

    The share counts only docs a previous import wrote (``imported_ids``): replacing the
    generated demo corpus with your own folder is the expected first import.
    """
    if options.allow_removals:
        return
    patterns = " ".join(
        [f"--glob '{g}'" for g in options.globs] + [f"--exclude '{e}'" for e in options.excludes]
    )
    if files == 0 and previous_docs:
        raise DataFormatError(
            f"{source_dir}: no file to import{f' matches {patterns}' if patterns else ''}; this "
            f"would remove all {previous_docs} docs of {docs_file}; nothing was changed. Check the "
            "folder and patterns, or pass --allow-removals to empty the corpus"
        )
    if files == 0 and not previous_docs:
        raise DataFormatError(
            f"{source_dir}: no file to import{f' matches {patterns}' if patterns else ''}"
        )
    removed = sum(1 for doc_id in changes.removed if doc_id in imported_ids)
    share = removed / len(imported_ids) if imported_ids else 0.0
    if share > options.max_removal_share:
        raise DataFormatError(
            f"{source_dir}: this import would remove {removed} of the {len(imported_ids)} "
            f"imported docs in "
            f"{docs_file} ({share:.0%} > data.import_max_removal_share "
            f"{options.max_removal_share:.0%}); nothing was changed. Check {patterns or 'the folder'}"
            ", or pass --allow-removals if the documents are really gone"
        )
