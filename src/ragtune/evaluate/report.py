"""What an evaluation leaves behind: files under ``evaluate.reports_dir`` and MLflow logs.

Files (written to a staging folder and moved into place only when the run succeeded):
``metrics.json`` (numbers only, the DVC metrics file), ``arms.csv`` (one row per arm on all
questions, the DVC plot), ``table.csv`` / ``table.md`` (every arm and slice), ``arms.png`` (bar
chart), ``answers.jsonl`` (per question). MLflow gets the same files, one metric per arm,
slice and measure (``ft_rag/changed/f1`` …), and ``ft_score`` / ``ft_rag_score``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ragtune import tracking
from ragtune.evaluate.arms import ARMS, SLICES, arm_score
from ragtune.evaluate.metrics import ANSWER_METRICS, LATENCY_METRICS

METRICS_FILE = "metrics.json"
ARMS_FILE = "arms.csv"
TABLE_COLUMNS = ("arm", "slice", "questions", *ANSWER_METRICS, *LATENCY_METRICS)
ARTIFACT_DIR = "evaluation"


def finetuned_scores(table: Sequence[dict[str, Any]]) -> dict[str, float]:
    """``ft_score`` = token F1 of the FT arm, ``ft_rag_score`` = token F1 of FT+RAG (all questions).

    These are what the finetune trigger policy compares with ``finetune.min_finetuned_score``.
    """
    fine_tuned, fine_tuned_rag = ARMS[2], ARMS[3]
    scores = {
        tracking.METRIC_FT_SCORE: arm_score(table, fine_tuned),
        tracking.METRIC_FT_RAG_SCORE: arm_score(table, fine_tuned_rag),
    }
    return {name: value for name, value in scores.items() if value is not None}


@contextmanager
def staged_reports(reports_dir: Path) -> Iterator[Path]:
    """A scratch folder beside ``reports_dir`` whose files replace the reports only on success."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=reports_dir))
    try:
        yield staging
        for path in staging.iterdir():
            os.replace(path, reports_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def metrics_document(table: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Nested numbers for DVC: ``{arm: {slice: {metric: value}}}`` plus the policy scores."""
    keys = {arm.label: arm.key for arm in ARMS}
    document: dict[str, Any] = dict(finetuned_scores(table))
    for row in table:
        values = {name: _number(row[name]) for name in TABLE_COLUMNS[2:]}
        present = {name: value for name, value in values.items() if value is not None}
        document.setdefault(keys[row["arm"]], {})[row["slice"]] = present
    return document


def flat_metrics(table: Sequence[dict[str, Any]]) -> dict[str, float]:
    """``<arm>/<slice>/<metric>`` for MLflow, NaNs left out."""
    document = metrics_document(table)
    flat = {name: value for name, value in document.items() if not isinstance(value, dict)}
    for arm, slices in document.items():
        if isinstance(slices, dict):
            for name, values in slices.items():
                flat.update({f"{arm}/{name}/{key}": value for key, value in values.items()})
    return flat


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _cell(name: str, value: Any) -> str:
    if name == "questions":
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value * 1000:.0f} ms" if name in LATENCY_METRICS else f"{value:.3f}"
    return str(value)


def markdown_table(table: Sequence[dict[str, Any]]) -> str:
    """Every arm and slice as a Markdown table (latencies in ms per answer)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for row in table:
        lines.append("| " + " | ".join(_cell(name, row[name]) for name in TABLE_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def bar_chart(table: Sequence[dict[str, Any]]) -> bytes:
    """PNG: answer metrics per arm (all questions) and F1 per arm and slice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [arm.label for arm in ARMS]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    by_key = {(row["arm"], row["slice"]): row for row in table}
    slices = [name for name in SLICES if any(row["slice"] == name for row in table)]
    panels = (
        (left, ANSWER_METRICS, lambda label, name: by_key.get((label, "all"), {}).get(name)),
        (right, slices, lambda label, name: by_key.get((label, name), {}).get("f1")),
    )
    for axis, series, value in panels:
        width = 0.8 / max(1, len(series))
        for offset, name in enumerate(series):
            heights = [_number(value(label, name)) or 0.0 for label in labels]
            positions = [i - 0.4 + (offset + 0.5) * width for i in range(len(labels))]
            axis.bar(positions, heights, width, label=name)
        axis.set_xticks(range(len(labels)), labels)
    for axis, title in ((left, "answer metrics, all questions"), (right, "token F1 by slice")):
        axis.set_ylim(0, 1)
        axis.set_title(title)
        axis.legend(fontsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    plt.close(figure)
    return out.getvalue()


def write_reports(
    reports_dir: Path, table: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]
) -> dict[str, Path]:
    """Every report file; returns their paths by name."""
    overall = [
        {"arm": row["arm"], **{name: _number(row[name]) for name in ANSWER_METRICS}}
        for row in table
        if row["slice"] == "all"
    ]
    answers = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return {
        "table_csv": _write(reports_dir / "table.csv", _csv(table, TABLE_COLUMNS)),
        "table_md": _write(reports_dir / "table.md", markdown_table(table)),
        "chart": _write(reports_dir / "arms.png", bar_chart(table)),
        "answers": _write(reports_dir / "answers.jsonl", answers),
        "arms": _write(reports_dir / ARMS_FILE, _csv(overall, ("arm", *ANSWER_METRICS))),
        "metrics": _write(
            reports_dir / METRICS_FILE, json.dumps(metrics_document(table), indent=2) + "\n"
        ),
    }


def log_to_mlflow(table: Sequence[dict[str, Any]], paths: dict[str, Path]) -> None:
    """Metrics and report files into the active run."""
    import mlflow

    mlflow.log_metrics(flat_metrics(table))
    for path in paths.values():
        mlflow.log_artifact(str(path), artifact_path=ARTIFACT_DIR)
