"""Data Docs that open offline: static HTML pages written from the GX validation results.

Great Expectations' own site builder links Bootstrap, jQuery and bootstrap-table from CDNs and
fills its index table with JavaScript, so offline (our default) the index shows no results; it
also adds a timestamped page on every run. These pages are plain HTML with an inline style
sheet: no script, no remote URL, the same bytes for the same data and revision. Every value
that comes from the data is cut (:func:`ragtune.data.report_values.clip`) and HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.data.report_values import clip, clip_all

DATA_DOCS_DIR = "data_docs"
INDEX_PAGE = "index.html"
PAGES_DIR = "validations"
HIDDEN_KWARGS = ("column", "batch_id")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2433; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
th, td { border: 1px solid #d0d5dd; padding: .35rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #f2f4f7; }
code, pre { font-size: .85rem; white-space: pre-wrap; word-break: break-word; }
.passed { color: #067647; font-weight: 600; }
.failed { color: #b42318; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; }
"""


@dataclass(frozen=True)
class SuiteValidation:
    """One GX suite's result on one data asset (a table built from a prepared dataset)."""

    asset: str
    source: str
    """The prepared file the asset's rows come from (``docs.jsonl``)."""
    result: Any
    """great_expectations' ``ExpectationSuiteValidationResult``."""

    @property
    def page(self) -> str:
        """The page's path relative to the Data Docs folder."""
        return f"{PAGES_DIR}/{self.result.suite_name}.html"


def _text(value: Any) -> str:
    """``value`` as escaped text: strings as they are, anything else as compact JSON; cut."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return html.escape(clip(value))


def _status(success: bool) -> str:
    return '<span class="passed">passed</span>' if success else '<span class="failed">failed</span>'


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{STYLE}</style></head>",
            "<body>",
            *body,
            "</body></html>",
            "",
        ]
    )


def _outcome(details: dict[str, Any]) -> str:
    """What the expectation observed: unexpected rows out of all, or the observed value."""
    if "unexpected_count" in details:
        share = details.get("unexpected_percent") or 0.0
        return (
            f"{int(details['unexpected_count'])} of {int(details.get('element_count') or 0)} "
            f"rows unexpected ({float(share):.2f} %)"
        )
    if "observed_value" in details:
        return f"observed {_text(details['observed_value'])}"
    return ""


def _examples(details: dict[str, Any], example_rows: int) -> str:
    """The first failing rows, line number first, each value cut on its own."""
    rows = (details.get("unexpected_index_list") or [])[:example_rows]
    shown = [{"row": row.get("row"), **clip_all(row)} for row in rows]
    return "".join(
        f"<pre>{html.escape(json.dumps(row, ensure_ascii=False, default=str))}</pre>"
        for row in shown
    )


def _expectation_row(result: Any, example_rows: int) -> str:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in HIDDEN_KWARGS}
    details = result.result or {}
    error = (result.exception_info or {}).get("exception_message")
    observed = _outcome(details) + (f"<br>error: {_text(error)}" if error else "")
    cells = [
        _status(bool(result.success)),
        f"<code>{_text(config.type)}</code>",
        _text(config.kwargs.get("column", "")),
        f"<code>{_text(kwargs)}</code>" if kwargs else "",
        observed,
        "" if result.success else _examples(details, example_rows),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _summary(validation: SuiteValidation, run_name: str) -> list[str]:
    stats = validation.result.statistics
    return [
        "<dl>",
        f"<dt>Data asset</dt><dd>{_text(validation.asset)}</dd>",
        f"<dt>Prepared file</dt><dd><code>{_text(validation.source)}</code></dd>",
        f"<dt>Expectation suite</dt><dd>{_text(validation.result.suite_name)}</dd>",
        f"<dt>Run name</dt><dd>{_text(run_name)}</dd>",
        f"<dt>Status</dt><dd>{_status(bool(validation.result.success))}</dd>",
        f"<dt>Expectations</dt><dd>{int(stats['evaluated_expectations'])} evaluated, "
        f"{int(stats['successful_expectations'])} passed, "
        f"{int(stats['unsuccessful_expectations'])} failed</dd>",
        "</dl>",
    ]


def suite_page(validation: SuiteValidation, run_name: str, example_rows: int) -> str:
    """The page of one suite: its summary, then every expectation with what it observed."""
    title = f"{validation.asset}: {validation.result.suite_name}"
    header = "<tr><th>Status</th><th>Expectation</th><th>Column</th><th>Arguments</th>"
    header += "<th>Observed</th><th>Example rows</th></tr>"
    rows = [_expectation_row(result, example_rows) for result in validation.result.results]
    return _page(
        title,
        [
            '<p><a href="../index.html">← all validations</a></p>',
            f"<h1>{_text(title)}</h1>",
            *_summary(validation, run_name),
            "<table>",
            header,
            *rows,
            "</table>",
        ],
    )


def index_page(validations: Sequence[SuiteValidation], run_name: str) -> str:
    """The overview: one row per suite with its verdict and counts, linking to its page."""
    success = all(bool(item.result.success) for item in validations)
    header = "<tr><th>Data asset</th><th>Expectation suite</th><th>Status</th>"
    header += "<th>Evaluated</th><th>Passed</th><th>Failed</th></tr>"
    rows = []
    for item in validations:
        stats = item.result.statistics
        rows.append(
            f"<tr><td>{_text(item.asset)}</td>"
            f'<td><a href="{html.escape(item.page)}">{_text(item.result.suite_name)}</a></td>'
            f"<td>{_status(bool(item.result.success))}</td>"
            f"<td>{int(stats['evaluated_expectations'])}</td>"
            f"<td>{int(stats['successful_expectations'])}</td>"
            f"<td>{int(stats['unsuccessful_expectations'])}</td></tr>"
        )
    return _page(
        f"ragtune data validation: {run_name}",
        [
            "<h1>ragtune data validation</h1>",
            f"<p>Run name (data revision): <strong>{_text(run_name)}</strong>; "
            f"verdict: {_status(success)}</p>",
            "<table>",
            header,
            *rows,
            "</table>",
            "<p>Validated by Great Expectations; rendered by ragtune as static HTML.</p>",
        ],
    )


def write_data_docs(
    reports_dir: Path,
    validations: Sequence[SuiteValidation],
    run_name: str,
    example_rows: int,
) -> Path:
    """Write ``<reports_dir>/data_docs``: index.html and one page per suite; return the index."""
    docs_dir = reports_dir / DATA_DOCS_DIR
    (docs_dir / PAGES_DIR).mkdir(parents=True, exist_ok=True)
    for item in validations:
        (docs_dir / item.page).write_text(
            suite_page(item, run_name, example_rows), encoding="utf-8"
        )
    index = docs_dir / INDEX_PAGE
    index.write_text(index_page(validations, run_name), encoding="utf-8")
    return index
