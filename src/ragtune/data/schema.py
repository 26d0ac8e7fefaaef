"""The three raw datasets, their files and required fields."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One JSONL dataset: file name, id field and the fields every row must carry."""

    name: str
    filename: str
    id_field: str
    fields: dict[str, type | tuple[type, ...]]
    required: bool = True
    """A missing file is an error; optional datasets load as empty (e.g. imported corpora)."""


DOCS = Dataset(
    name="docs",
    filename="docs.jsonl",
    id_field="doc_id",
    fields={"doc_id": str, "title": str, "text": str, "source": str, "updated_at": str},
)
QA = Dataset(
    name="qa",
    filename="qa.jsonl",
    id_field="qa_id",
    fields={
        "qa_id": str,
        "question": str,
        "answer": str,
        "doc_ids": list,
        "split": str,
        "kind": str,
        "revision": int,
    },
    required=False,
)
BEHAVIOUR = Dataset(
    name="behaviour",
    filename="behaviour.jsonl",
    id_field="example_id",
    fields={
        "example_id": str,
        "kind": str,
        "question": str,
        "answer": str,
        "doc_ids": list,
        "revision": int,
    },
    required=False,
)
DATASETS = (DOCS, QA, BEHAVIOUR)
SPLITS = ("train", "dev", "test")
SKIPPED_INPUTS = "import_skipped.jsonl"
"""Files an import could not read (path, reason); listed in the validation report."""
