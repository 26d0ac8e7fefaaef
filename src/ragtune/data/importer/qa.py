"""Import a user's own evaluation questions (CSV or JSONL) into ``data/raw/qa.jsonl``.

Each row names the question, the expected answer and the documents that answer it, by doc id
or by source path. Rows citing anything not in ``docs.jsonl`` are refused with file and line.
Without an explicit split, questions are split *by document* (every question about one doc
lands in the same split) so no held-out fact is ever trained on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.data.importer.staging import clear_staging, staging_dir
from ragtune.data.importer.tables import iter_records, refuse_unmapped
from ragtune.data.importer.text import UnreadableFile, clean_text
from ragtune.data.load import iter_jsonl
from ragtune.data.schema import DOCS, QA, SPLITS
from ragtune.errors import DataFormatError

KIND = "user"
QA_COLUMNS: dict[str, tuple[str, ...]] = {
    "qa_id": ("qa_id", "id"),
    "question": ("question", "query", "q"),
    "answer": ("answer", "expected_answer", "ground_truth", "a"),
    "doc_ids": ("doc_ids", "doc_id", "sources", "source", "paths", "path", "references"),
    "split": ("split",),
}
_LIST_SEPARATORS = re.compile(r"[;|,]")
_MAX_LISTED = 20


@dataclass(frozen=True)
class QaImportOptions:
    """Column mapping and the shares of documents whose questions are held out by default."""

    column_map: dict[str, str] = field(default_factory=dict)
    dev_share: float = 0.25
    test_share: float = 0.25


@dataclass
class _Question:
    line: int
    qa_id: str
    question: str
    answer: str
    doc_ids: list[str]
    split: str | None


def parse_qa_column_map(pairs: list[str]) -> dict[str, str]:
    """``["question=prompt"]`` → ``{"question": "prompt"}``, field names checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not column or name not in QA_COLUMNS:
            raise DataFormatError(
                f"--map '{pair}': expected FIELD=COLUMN with FIELD one of {', '.join(QA_COLUMNS)}"
            )
        mapping[name] = column
    return mapping


def corpus_index(raw_dir: Path) -> tuple[set[str], dict[str, list[str]]]:
    """Doc ids in ``docs.jsonl`` and, for imported docs, source path → doc ids (texts not kept)."""
    docs_file = raw_dir / DOCS.filename
    if not docs_file.exists():
        raise DataFormatError(f"{docs_file} not found; run `ragtune data import FOLDER` first")
    doc_ids: set[str] = set()
    by_path: dict[str, list[str]] = {}
    for _, row in iter_jsonl(docs_file):
        doc_ids.add(str(row.get("doc_id")))
        if row.get("path"):
            by_path.setdefault(str(row["path"]), []).append(str(row["doc_id"]))
    return doc_ids, by_path


def import_qa(
    qa_file: Path, raw_dir: Path, options: QaImportOptions | None = None
) -> dict[str, int]:
    """Check every question against the corpus and write ``qa.jsonl``; return counts per split."""
    options = options or QaImportOptions()
    if not qa_file.is_file():
        raise DataFormatError(f"{qa_file}: file not found")
    doc_ids, by_path = corpus_index(raw_dir)
    problems: list[str] = []
    questions = _read_questions(qa_file, options, doc_ids, by_path, problems)
    _assign_splits(qa_file, questions, options, problems)
    if problems:
        listed = "\n  ".join(problems[:_MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        )
        raise DataFormatError(
            f"{qa_file}: {len(problems)} rows refused, nothing written:\n  {listed}{more}"
        )
    if not questions:
        raise DataFormatError(f"{qa_file}: no questions found")
    target = raw_dir / QA.filename
    staging = staging_dir(raw_dir)
    temporary = staging / target.name
    try:
        _write_questions(temporary, questions)
        os.replace(temporary, target)
    finally:
        clear_staging(staging)
    counts = Counter(item.split for item in questions)
    return {split: counts.get(split, 0) for split in SPLITS}


def _write_questions(temporary: Path, questions: list[_Question]) -> None:
    with temporary.open("w", encoding="utf-8", newline="\n") as handle:
        for item in questions:
            row = {
                "qa_id": item.qa_id,
                "question": item.question,
                "answer": item.answer,
                "doc_ids": item.doc_ids,
                "split": item.split,
                "kind": KIND,
                "revision": 1,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_questions(
    qa_file: Path,
    options: QaImportOptions,
    doc_ids: set[str],
    by_path: dict[str, list[str]],
    problems: list[str],
) -> list[_Question]:
    try:
        records = list(iter_records(qa_file, qa_file.read_bytes()))
    except UnreadableFile as exc:
        raise DataFormatError(f"{qa_file}: {exc}") from None
    first = next((record for _, record in records if isinstance(record, dict)), None)
    if first is not None:
        refuse_unmapped(qa_file, first.keys(), options.column_map)
    questions: list[_Question] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        where = f"{qa_file}:{line}"
        if isinstance(record, str):
            problems.append(f"{where}: {record}")
            continue
        columns = _columns(record, options.column_map)
        missing = [name for name in ("question", "answer", "doc_ids") if columns[name] is None]
        if missing:
            problems.append(
                f"{where}: no column for {', '.join(missing)} (has: {', '.join(record)}); "
                "name them question, answer, doc_ids or map them with --map doc_ids=COLUMN"
            )
            continue
        values = {name: record.get(column) if column else None for name, column in columns.items()}
        question = clean_text(str(values["question"] or ""))
        answer = clean_text(str(values["answer"] or ""))
        if not question or not answer:
            problems.append(f"{where}: empty {'question' if not question else 'answer'}")
            continue
        cited = _resolve(_references(values["doc_ids"]), doc_ids, by_path, where, problems)
        if cited is None:
            continue
        split = str(values["split"]).strip().lower() if values["split"] else None
        if split is not None and split not in SPLITS:
            problems.append(f"{where}: split '{split}' is not one of {', '.join(SPLITS)}")
            continue
        qa_id = str(values["qa_id"] or "").strip() or (
            "user-" + hashlib.sha1(question.encode()).hexdigest()[:10]
        )
        if qa_id in first_line:
            problems.append(
                f"{where}: duplicate qa_id/question '{qa_id}' (line {first_line[qa_id]})"
            )
            continue
        first_line[qa_id] = line
        questions.append(_Question(line, qa_id, question, answer, cited, split))
    return questions


def _columns(record: dict[str, Any], mapping: dict[str, str]) -> dict[str, str | None]:
    """Per QA field, the mapped column if the row has it, else the first default name it has."""
    columns: dict[str, str | None] = {}
    for name, defaults in QA_COLUMNS.items():
        candidates = (mapping[name], *defaults) if name in mapping else defaults
        columns[name] = next((column for column in candidates if column in record), None)
    return columns


def _references(value: object) -> list[str]:
    """Cited ids/paths from a JSON list, a JSON-list string or ``a; b | c`` text."""
    if isinstance(value, str) and value.strip().startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    items = value if isinstance(value, list) else _LIST_SEPARATORS.split(str(value or ""))
    return [str(item).strip() for item in items if str(item).strip()]


def _resolve(
    references: list[str],
    doc_ids: set[str],
    by_path: dict[str, list[str]],
    where: str,
    problems: list[str],
) -> list[str] | None:
    """Doc ids for the cited references, or None (with a problem recorded) if any is unknown."""
    if not references:
        problems.append(f"{where}: cites no document; every question needs the doc that answers it")
        return None
    resolved: list[str] = []
    for reference in references:
        path = reference.replace("\\", "/").removeprefix("./")
        found = [reference] if reference in doc_ids else by_path.get(path)
        if not found:
            problems.append(
                f"{where}: cites '{reference}', which is neither a doc_id nor a source path in "
                "the imported corpus; import that document or fix the reference"
            )
            return None
        resolved.extend(doc for doc in found if doc not in resolved)
    return resolved


def _assign_splits(
    qa_file: Path, questions: list[_Question], options: QaImportOptions, problems: list[str]
) -> None:
    """Give each question without a split its document group's split; refuse train leaks."""
    parent: dict[str, str] = {}

    def root(doc: str) -> str:
        while parent.setdefault(doc, doc) != doc:
            parent[doc] = parent[parent[doc]]
            doc = parent[doc]
        return doc

    for item in questions:  # documents cited by one question share one group
        for doc in item.doc_ids[1:]:
            parent[root(doc)] = root(item.doc_ids[0])
    groups: dict[str, list[_Question]] = {}
    for item in questions:
        groups.setdefault(root(item.doc_ids[0]), []).append(item)
    smallest: dict[str, str] = {}
    for doc in list(parent):
        group = root(doc)
        smallest[group] = min(smallest.get(group, doc), doc)
    for group, members in groups.items():
        held_out = [item for item in members if item.split in ("dev", "test")]
        if held_out:
            chosen = held_out[0].split
        elif any(item.split == "train" for item in members):
            chosen = "train"
        else:
            chosen = _hashed_split(smallest[group], options)
        for item in members:
            if item.split is None:
                item.split = chosen
            elif item.split == "train" and held_out:
                problems.append(
                    f"{qa_file}:{item.line}: split 'train' but its documents are also cited by a "
                    f"'{held_out[0].split}' question (line {held_out[0].line}); questions "
                    "about one document need one split, or held-out facts leak into training"
                )


def _hashed_split(doc_id: str, options: QaImportOptions) -> str:
    """A stable split for a document group from the hash of its smallest doc id."""
    fraction = int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if fraction < options.test_share:
        return "test"
    if fraction < options.test_share + options.dev_share:
        return "dev"
    return "train"
