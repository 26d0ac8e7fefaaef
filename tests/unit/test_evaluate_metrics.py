"""Answer metrics, slices and the numbers-only DVC metrics document."""

from __future__ import annotations

import json
import math

import pytest

from ragtune.evaluate.arms import slices_of, table
from ragtune.evaluate.metrics import (
    citation_accuracy,
    citation_format,
    exact_match,
    groundedness,
    percentile,
    token_f1,
)
from ragtune.evaluate.report import finetuned_scores, markdown_table, metrics_document

GOLD = "The Kelvane X12 router costs 1,240 EUR."


def test_answer_metrics() -> None:
    answer = "The Kelvane X12 router costs 1,240 EUR. [doc:prod-00012]"
    assert token_f1(answer, GOLD) == 1.0 and exact_match(answer, GOLD) == 1.0
    assert token_f1("It costs 990 EUR.", GOLD) == pytest.approx(
        2 * (2 / 4) * (2 / 7) / (2 / 4 + 2 / 7)
    )
    assert exact_match("the kelvane x12 router costs 1,240 eur", GOLD) == 1.0
    assert token_f1("", GOLD) == 0.0
    assert citation_accuracy(answer, ["prod-00012"]) == 1.0
    assert citation_accuracy(answer, ["prod-00099"]) == 0.0
    assert citation_accuracy("No citation.", ["prod-00012"]) == 0.0
    assert citation_format(answer) == 1.0
    assert citation_format("[doc:prod-00012] The router costs 1,240 EUR.") == 0.0
    assert groundedness("costs 1,240 EUR", "The router costs 1,240 EUR per year.") == 1.0
    assert groundedness("costs 990 EUR", "The router costs 1,240 EUR.") == pytest.approx(2 / 3)
    assert groundedness("anything", "") is None


def test_percentile_nearest_rank() -> None:
    values = [0.1 * i for i in range(1, 21)]
    assert percentile(values, 0.5) == pytest.approx(1.0)
    assert percentile(values, 0.95) == pytest.approx(1.9)
    assert math.isnan(percentile([], 0.5))


def _row(arm: str, qa: dict, f1: float, trained: int | None = 1) -> dict:
    return {
        "arm": arm,
        "slices": slices_of(qa, trained),
        "f1": f1,
        "exact_match": 0.0,
        "citation_accuracy": 1.0,
        "citation_format": 1.0,
        "groundedness": 0.5 if arm in ("rag", "ft_rag") else None,
        "retrieval_seconds": 0.01,
        "generation_seconds": 0.2,
    }


def test_slices_table_and_metrics_document() -> None:
    stable = {"revision": 1, "kind": "product"}
    changed = {"revision": 2, "kind": "glossary"}
    assert slices_of(changed, 1) == ["all", "changed", "glossary"]
    assert slices_of(stable, None) == ["all"]  # unknown training revision: no such slices
    rows = [
        _row(arm, qa, f1)
        for arm in ("base", "rag", "ft", "ft_rag")
        for qa, f1 in ((stable, 0.8), (changed, 0.2))
    ]
    summary = table(rows)
    assert [(r["arm"], r["slice"]) for r in summary[:4]] == [
        ("base", "all"),
        ("base", "changed"),
        ("base", "unchanged"),
        ("base", "glossary"),
    ]
    by = {(r["arm"], r["slice"]): r for r in summary}
    assert by[("FT", "all")]["f1"] == pytest.approx(0.5)
    assert by[("FT", "changed")]["f1"] == 0.2 and by[("FT", "unchanged")]["f1"] == 0.8
    assert math.isnan(by[("base", "all")]["groundedness"])
    assert finetuned_scores(summary) == {"ft_score": 0.5, "ft_rag_score": 0.5}
    document = metrics_document(summary)
    json.dumps(document, allow_nan=False)  # numbers only: NaN would break DVC
    assert "groundedness" not in document["base"]["all"]
    assert document["ft_rag"]["all"]["groundedness"] == 0.5
    assert "| FT+RAG | glossary | 1 | 0.200 |" in markdown_table(summary)


def test_question_selection_keeps_a_share_of_changed_facts(tmp_path) -> None:
    from ragtune.config import Settings
    from ragtune.data.load import write_jsonl
    from ragtune.evaluate.stage import evaluation_questions

    rows = [
        {
            "qa_id": f"qa-{i:02d}",
            "question": f"Question {i}?",
            "answer": f"Answer {i}.",
            "doc_ids": [f"doc-{i}"],
            "split": "test" if i % 5 else "dev",
            "kind": "product",
            "revision": 2 if i >= 15 else 1,
        }
        for i in range(20)
    ]
    settings = Settings()
    settings.project_dir = tmp_path
    write_jsonl(tmp_path / "data" / "prepared" / "qa.jsonl", rows)
    settings.evaluate.max_questions = 6
    plain = evaluation_questions(settings, trained_revision=1)
    assert [row["qa_id"] for row in plain] == ["qa-01", "qa-02", "qa-03", "qa-04", "qa-06", "qa-07"]
    settings.evaluate.changed_share = 0.5
    mixed = evaluation_questions(settings, trained_revision=1)
    assert [row["revision"] for row in mixed].count(2) == 3 and len(mixed) == 6
    assert [row["qa_id"] for row in mixed] == sorted(row["qa_id"] for row in mixed)  # file order
    assert evaluation_questions(settings, trained_revision=None) == plain


def test_question_selection_spreads_over_kinds(tmp_path) -> None:
    """A prepared QA file is grouped by kind; a small sample must still ask every kind."""
    from ragtune.config import Settings
    from ragtune.data.load import write_jsonl
    from ragtune.evaluate.stage import evaluation_questions

    kinds = ["glossary"] * 6 + ["policy"] * 3 + ["product"] * 8 + ["procedure"]
    rows = [
        {
            "qa_id": f"qa-{i:02d}",
            "question": f"Question {i}?",
            "answer": f"Answer {i}.",
            "doc_ids": [f"doc-{i}"],
            "split": "test",
            "kind": kind,
            "revision": 1,
        }
        for i, kind in enumerate(kinds)
    ]
    settings = Settings()
    settings.project_dir = tmp_path
    write_jsonl(tmp_path / "data" / "prepared" / "qa.jsonl", rows)
    picked = evaluation_questions(settings, max_questions=7)
    assert [row["kind"] for row in picked].count("procedure") == 1
    assert sorted(row["kind"] for row in picked) == sorted(
        ["glossary", "glossary", "policy", "policy", "product", "product", "procedure"]
    )
    assert [row["qa_id"] for row in picked] == sorted(row["qa_id"] for row in picked)
    assert evaluation_questions(settings, max_questions=7) == picked  # deterministic
    assert len(evaluation_questions(settings, max_questions=100)) == len(rows)
