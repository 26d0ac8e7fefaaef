"""Run the Great Expectations suites on prepared data: report, Data Docs, quarantine.

Bad data stops the pipeline here: :func:`validate_prepared` returns a report whose
``success`` is False, the CLI exits non-zero and DVC/Prefect run nothing downstream.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig

from ragtune.config import ValidateConfig
from ragtune.data.data_docs import SuiteValidation, write_data_docs
from ragtune.data.gate import HASH_KEY, SUMMARY_FILE, prepared_data_hash
from ragtune.data.load import iter_jsonl, load_all, write_jsonl
from ragtune.data.owned import refuse_foreign, write_marker
from ragtune.data.report_values import clip, clip_all
from ragtune.data.schema import SKIPPED_INPUTS
from ragtune.data.suites import Table, build_tables, expectations_for

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.json"
QUARANTINE = "quarantine"


@dataclass
class ExpectationFailure:
    """One failed expectation with a few example rows (line number, id, offending value)."""

    table: str
    expectation: str
    column: str
    unexpected_count: int
    examples: list[dict[str, Any]]


@dataclass
class ValidationReport:
    """What the suites found; ``render`` is what people read, ``summary.json`` what DVC tracks."""

    success: bool
    row_counts: dict[str, int]
    evaluated_expectations: int
    failures: list[ExpectationFailure] = field(default_factory=list)
    skipped_inputs: list[dict[str, Any]] = field(default_factory=list)
    data_docs: str = ""
    quarantine: dict[str, str] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """Numbers only (``metrics.json``), so `dvc metrics show/diff` is a readable table."""
        return {
            "passed": int(self.success),
            "expectations": self.evaluated_expectations,
            "failed_expectations": len(self.failures),
            "skipped_inputs": len(self.skipped_inputs),
            "rows": dict(self.row_counts),
        }

    def render(self) -> str:
        """A readable report: verdict, each failing expectation with example rows."""
        counts = ", ".join(f"{count} {name}" for name, count in self.row_counts.items())
        verdict = "PASSED" if self.success else "FAILED"
        lines = [
            f"validation {verdict}: {self.evaluated_expectations} expectations on {counts}",
        ]
        for failure in self.failures:
            lines.append(
                f"  ✗ {failure.table}.{failure.column}: {failure.expectation} "
                f"({failure.unexpected_count} rows)"
            )
            lines.extend(
                f"      {json.dumps(example, ensure_ascii=False)}" for example in failure.examples
            )
        if self.skipped_inputs:
            lines.append(f"  skipped inputs ({len(self.skipped_inputs)}), not indexed:")
            lines.extend(
                f"      {row.get('path')}: {row.get('reason')}" for row in self.skipped_inputs
            )
        for name, path in self.quarantine.items():
            lines.append(f"  quarantined {name} rows → {path}")
        if self.data_docs:
            lines.append(f"  Data Docs: {self.data_docs}")
        return "\n".join(lines)


def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _plain(value: Any) -> Any:
    """numpy scalars (GX hands them back from pandas) as plain Python values for JSON."""
    return value.item() if hasattr(value, "item") else value


def _failures(table: Table, results: Any, example_rows: int) -> tuple[list, set[int]]:
    """Failed expectations of one table and the ``row`` numbers they point at."""
    failures, bad_rows = [], set()
    for result in results.results:
        if result.success:
            continue
        details = result.result or {}
        indexed = details.get("unexpected_index_list") or []
        bad_rows.update(int(item["row"]) for item in indexed if "row" in item)
        column = result.expectation_config.kwargs.get("column", "")
        examples = [
            {
                "line": _plain(item.get("row")),
                table.id_column: clip(_plain(item.get(table.id_column))),
                column: clip_all(_plain(item.get(column))),
            }
            for item in indexed[:example_rows]
        ]
        failures.append(
            ExpectationFailure(
                table=table.name,
                expectation=result.expectation_config.type,
                column=column,
                unexpected_count=int(details.get("unexpected_count") or len(indexed)),
                examples=examples,
            )
        )
    return failures, bad_rows


def run_suites(
    data: dict[str, list[dict[str, Any]]], config: ValidateConfig, run_name: str
) -> tuple[list[ExpectationFailure], dict[str, set[int]], list[SuiteValidation]]:
    """Validate every table; return failures, bad row numbers per dataset, the suite results.

    Each table is a GX data asset named after it; ``run_name`` names the GX run.
    """
    context = _context()
    source = context.data_sources.add_pandas("prepared")
    doc_ids = [row["doc_id"] for row in data["docs"]]
    failures: list[ExpectationFailure] = []
    bad_rows: dict[str, set[int]] = {name: set() for name in data}
    validations: list[SuiteValidation] = []
    for table in build_tables(data):
        batch = source.add_dataframe_asset(table.name).add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name=f"ragtune_{table.name}"))
        for expectation in expectations_for(table.name, config, doc_ids):
            suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate_{table.name}", data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"checkpoint_{table.name}",
                validation_definitions=[definition],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["row", table.id_column],
                },
            )
        )
        result = checkpoint.run(
            batch_parameters={"dataframe": table.frame}, run_id=RunIdentifier(run_name=run_name)
        )
        for run_result in result.run_results.values():
            validations.append(SuiteValidation(table.name, f"{table.parent}.jsonl", run_result))
            table_failures, rows = _failures(table, run_result, config.example_rows)
            failures.extend(table_failures)
            bad_rows[table.parent].update(rows)
    return failures, bad_rows, validations


def _quarantine(
    data: dict[str, list[dict[str, Any]]],
    bad_rows: dict[str, set[int]],
    quarantine_dir: Path,
    owned: set[str],
) -> dict[str, str]:
    """Write the failing rows of each dataset (with their line number) to quarantine files.

    Only files this stage listed in its marker (``owned``) are ever removed.
    """
    written = {}
    for name, rows in bad_rows.items():
        path = quarantine_dir / f"{name}.jsonl"
        if not rows:
            if path.name in owned:
                path.unlink(missing_ok=True)
            continue
        quarantined = [{"line": n, **data[name][n - 1]} for n in sorted(rows)]
        write_jsonl(path, quarantined)
        written[name] = str(path)
    if quarantine_dir.is_dir():
        write_marker(quarantine_dir, QUARANTINE, (Path(path).name for path in written.values()))
    return written


def validate_prepared(
    prepared_dir: Path,
    config: ValidateConfig,
    reports_dir: Path,
    quarantine_dir: Path,
    run_name: str | None = None,
) -> ValidationReport:
    """Validate prepared data; write Data Docs, summary.json and quarantine files.

    summary.json records the verdict with the hash of exactly the files validated, which the
    gate (:func:`ragtune.data.gate.require_validated`) checks before any downstream stage.
    ``run_name`` names the GX run in the Data Docs (the stage passes the data revision; the
    default is ``prepared-<hash>``). Same data and run name: the same bytes in every file.
    """
    prepared_hash = prepared_data_hash(prepared_dir)
    run_name = run_name or f"prepared-{prepared_hash[:12]}"
    data = load_all(prepared_dir)
    owned = refuse_foreign(quarantine_dir, QUARANTINE, "validate.quarantine_dir")
    reports_dir.mkdir(parents=True, exist_ok=True)
    failures, bad_rows, validations = run_suites(data, config, run_name)
    docs_index = write_data_docs(reports_dir, validations, run_name, config.example_rows)
    skipped_path = prepared_dir / SKIPPED_INPUTS
    skipped = (
        [clip_all(row) for _, row in iter_jsonl(skipped_path)] if skipped_path.exists() else []
    )
    report = ValidationReport(
        success=not failures,
        row_counts={name: len(rows) for name, rows in data.items()},
        evaluated_expectations=sum(len(item.result.results) for item in validations),
        failures=failures,
        skipped_inputs=skipped,
        data_docs=str(docs_index.resolve()),
        quarantine=_quarantine(data, bad_rows, quarantine_dir, owned),
    )
    summary = {
        key: value
        for key, value in asdict(report).items()
        if key not in ("data_docs", "quarantine")
    }
    summary[HASH_KEY] = prepared_hash
    (reports_dir / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (reports_dir / METRICS_FILE).write_text(
        json.dumps(report.metrics(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log.info("validation %s (%d failures)", "passed" if report.success else "failed", len(failures))
    return report
