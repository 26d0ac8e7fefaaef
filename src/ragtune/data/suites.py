"""Great Expectations suites for the prepared data, and the tables they run on.

Each table has a ``row`` column: the 1-based line of the row in its prepared JSONL file (for
citation tables, the line of the QA or behaviour row that cites). Failures point back there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import great_expectations.expectations as gxe
import pandas as pd

from ragtune.config import ValidateConfig
from ragtune.data.schema import SPLITS

DOC_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
CITATION_AT_END = r"\[doc:[A-Za-z0-9][A-Za-z0-9._:-]*\]\s*$"
NOT_BLANK = r"\S"
# C0/C1 control characters other than tab/newline/CR, lone surrogates, and U+FFFD (the mark
# a lossy decoder leaves behind): each means the text did not arrive as valid UTF-8 prose.
BAD_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]"
HELD_OUT_SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Table:
    """One dataframe validated by one suite; ``parent`` names the dataset its rows belong to."""

    name: str
    parent: str
    id_column: str
    frame: pd.DataFrame


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    records = [{"row": number, **{c: row.get(c) for c in columns}} for number, row in rows]
    return pd.DataFrame.from_records(records, columns=["row", *columns])


def build_tables(data: dict[str, list[dict[str, Any]]]) -> list[Table]:
    """Dataframes for docs, QA, behaviour and their citations (one row per cited doc id)."""
    numbered = {name: list(enumerate(rows, start=1)) for name, rows in data.items()}
    held_out = {
        doc_id
        for row in data["qa"]
        if row.get("split") in HELD_OUT_SPLITS
        for doc_id in row.get("doc_ids") or []
    }
    citations: dict[str, list[dict[str, Any]]] = {"qa": [], "behaviour": []}
    for parent, id_field in (("qa", "qa_id"), ("behaviour", "example_id")):
        for number, row in numbered[parent]:
            trains_on_it = parent == "behaviour" or row.get("split") == "train"
            for doc_id in row.get("doc_ids") or []:
                citations[parent].append(
                    {
                        "row": number,
                        id_field: row.get(id_field),
                        "doc_id": doc_id,
                        "leaks_held_out_doc": bool(trains_on_it and doc_id in held_out),
                    }
                )
    for parent in ("qa", "behaviour"):
        numbered[parent] = [
            (number, {**row, "citation_count": len(row.get("doc_ids") or [])})
            for number, row in numbered[parent]
        ]
    citation_columns = ["row", "doc_id", "leaks_held_out_doc"]
    return [
        Table(
            "docs",
            "docs",
            "doc_id",
            _frame(numbered["docs"], ["doc_id", "title", "text", "source", "updated_at"]),
        ),
        Table(
            "qa",
            "qa",
            "qa_id",
            _frame(numbered["qa"], ["qa_id", "question", "answer", "split", "citation_count"]),
        ),
        Table(
            "qa_citations",
            "qa",
            "qa_id",
            pd.DataFrame.from_records(citations["qa"], columns=[*citation_columns, "qa_id"]),
        ),
        Table(
            "behaviour",
            "behaviour",
            "example_id",
            _frame(numbered["behaviour"], ["example_id", "question", "answer", "citation_count"]),
        ),
        Table(
            "behaviour_citations",
            "behaviour",
            "example_id",
            pd.DataFrame.from_records(
                citations["behaviour"], columns=[*citation_columns, "example_id"]
            ),
        ),
    ]


def _unique_id(column: str) -> list:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column),
        gxe.ExpectColumnValuesToBeUnique(column=column),
    ]


def expectations_for(
    table: str, config: ValidateConfig, doc_ids: list[str]
) -> list[gxe.Expectation]:
    """The expectation suite of one table."""
    not_blank = gxe.ExpectColumnValuesToMatchRegex
    if table == "docs":
        return [
            *_unique_id("doc_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="doc_id", regex=DOC_ID_PATTERN),
            not_blank(column="text", regex=NOT_BLANK),
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="text", min_value=config.min_doc_chars, max_value=config.max_doc_chars
            ),
            gxe.ExpectColumnValuesToNotMatchRegex(column="text", regex=BAD_CHARACTERS),
            not_blank(column="title", regex=NOT_BLANK),
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="title", min_value=1, max_value=config.max_title_chars
            ),
            gxe.ExpectColumnValuesToNotMatchRegex(column="title", regex=BAD_CHARACTERS),
            gxe.ExpectColumnValuesToBeInSet(column="source", value_set=list(config.sources)),
            gxe.ExpectColumnValuesToBeDateutilParseable(column="updated_at"),
        ]
    if table == "qa":
        return [
            *_unique_id("qa_id"),
            not_blank(column="question", regex=NOT_BLANK),
            not_blank(column="answer", regex=NOT_BLANK),
            gxe.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS)),
            gxe.ExpectColumnValuesToBeBetween(column="citation_count", min_value=1),
        ]
    if table == "behaviour":
        return [
            *_unique_id("example_id"),
            not_blank(column="question", regex=NOT_BLANK),
            gxe.ExpectColumnValuesToMatchRegex(column="answer", regex=CITATION_AT_END),
            gxe.ExpectColumnValuesToBeBetween(column="citation_count", min_value=1),
        ]
    # Citation tables: every cited doc exists; nothing trained on cites a held-out doc.
    return [
        gxe.ExpectColumnValuesToBeInSet(column="doc_id", value_set=doc_ids),
        gxe.ExpectColumnValuesToBeInSet(column="leaks_held_out_doc", value_set=[False]),
    ]
