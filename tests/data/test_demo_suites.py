"""The GX suites on real generated demo data: clean data passes, each kind of damage fails."""

import json

import pytest

from ragtune.data.load import load_all, write_jsonl
from ragtune.data.validate import validate_prepared


def run(settings):
    return validate_prepared(
        settings.path(settings.prepare.prepared_dir),
        settings.validate_,
        reports_dir=settings.path(settings.validate_.reports_dir),
        quarantine_dir=settings.path(settings.validate_.quarantine_dir),
    )


def damage(settings, dataset, index, **changes):
    prepared = settings.path(settings.prepare.prepared_dir)
    rows = load_all(prepared)[dataset]
    rows[index].update(changes)
    write_jsonl(prepared / f"{dataset}.jsonl", rows)
    return rows[index]


def test_demo_data_passes_and_writes_data_docs(demo_project, settings):
    report = run(settings)
    assert report.success, report.render()
    assert report.evaluated_expectations >= 20
    reports = settings.path(settings.validate_.reports_dir)
    assert (reports / "data_docs" / "index.html").exists()
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["success"] is True and summary["row_counts"]["docs"] == 60
    assert not settings.path(settings.validate_.quarantine_dir).exists()


@pytest.mark.parametrize(
    ("dataset", "changes", "table", "column", "expectation"),
    [
        ("docs", {"text": "   "}, "docs", "text", "expect_column_values_to_match_regex"),
        (
            "docs",
            {"text": "x" * 30_000},
            "docs",
            "text",
            "expect_column_value_lengths_to_be_between",
        ),
        (
            "docs",
            {"text": "A valid looking text with a bell \x07 in it, long enough."},
            "docs",
            "text",
            "expect_column_values_to_not_match_regex",
        ),
        (
            "docs",
            {"text": "Mojibake from a lossy decode: caf\ufffd and more words."},
            "docs",
            "text",
            "expect_column_values_to_not_match_regex",
        ),
        ("docs", {"source": "wiki"}, "docs", "source", "expect_column_values_to_be_in_set"),
        (
            "docs",
            {"updated_at": "sometime last spring"},
            "docs",
            "updated_at",
            "expect_column_values_to_be_dateutil_parseable",
        ),
        (
            "docs",
            {"doc_id": "has spaces/and slashes"},
            "docs",
            "doc_id",
            "expect_column_values_to_match_regex",
        ),
        (
            "qa",
            {"doc_ids": ["no-such-doc"]},
            "qa_citations",
            "doc_id",
            "expect_column_values_to_be_in_set",
        ),
        ("qa", {"answer": ""}, "qa", "answer", "expect_column_values_to_match_regex"),
        ("qa", {"split": "holdout"}, "qa", "split", "expect_column_values_to_be_in_set"),
        ("qa", {"doc_ids": []}, "qa", "citation_count", "expect_column_values_to_be_between"),
        (
            "behaviour",
            {"answer": "No citation here."},
            "behaviour",
            "answer",
            "expect_column_values_to_match_regex",
        ),
    ],
)
def test_each_kind_of_damage_fails_names_row_and_quarantines(
    demo_project, settings, dataset, changes, table, column, expectation
):
    damaged = damage(settings, dataset, 3, **changes)
    report = run(settings)
    assert not report.success
    failure = next(f for f in report.failures if (f.table, f.column) == (table, column))
    assert failure.expectation == expectation
    assert failure.examples[0]["line"] == 4
    quarantined = settings.path(settings.validate_.quarantine_dir) / f"{dataset}.jsonl"
    rows = [json.loads(line) for line in quarantined.read_text().splitlines()]
    assert rows == [{"line": 4, **damaged}]
    assert expectation in report.render() and 'line": 4' in report.render()


def test_training_row_citing_a_held_out_doc_is_a_leak(demo_project, settings):
    data = load_all(settings.path(settings.prepare.prepared_dir))
    test_doc = next(row["doc_ids"][0] for row in data["qa"] if row["split"] == "test")
    train_index = next(i for i, row in enumerate(data["qa"]) if row["split"] == "train")
    damage(settings, "qa", train_index, doc_ids=[test_doc])
    report = run(settings)
    leak = next(f for f in report.failures if f.column == "leaks_held_out_doc")
    assert leak.table == "qa_citations" and leak.examples[0]["line"] == train_index + 1


def test_skipped_import_inputs_are_listed(demo_project, settings):
    prepared = settings.path(settings.prepare.prepared_dir)
    write_jsonl(
        prepared / "import_skipped.jsonl", [{"path": "manual.pdf", "reason": "encrypted PDF"}]
    )
    report = run(settings)
    assert report.success
    assert "manual.pdf: encrypted PDF" in report.render()
