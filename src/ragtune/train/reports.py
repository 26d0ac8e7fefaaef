"""The finetune stage's DVC files: numeric metrics and per-step loss curves of the live version.

Both are read back from MLflow (the training run of the latest registered version), so a run
that trains and a later `--if-needed` run that skips write the same curves, and the files hold
numbers only: `dvc metrics show` is a table and `dvc plots show` draws the loss per step.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ragtune import tracking
from ragtune.train.policy import latest_version

METRICS_FILE = "metrics.json"
LOSS_PLOT_FILE = "loss.csv"
EVAL_LOSS_PLOT_FILE = "eval_loss.csv"
# Timings, throughput and memory differ from machine to machine; they stay in MLflow only.
REPORTED_METRICS = ("eval_loss_before", "eval_loss_after", "eval_loss_reduction", "train_tokens")
CURVES = {LOSS_PLOT_FILE: "loss", EVAL_LOSS_PLOT_FILE: "eval_loss"}
DIGITS = 4


def _write_curve(path: Path, metric: str, history: list[Any]) -> None:
    rows = sorted((int(point.step), round(float(point.value), DIGITS)) for point in history)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["step", metric])
        writer.writerows(rows)


def write_version_reports(
    reports_dir: Path, registered_model: str, trained: bool, client: Any
) -> dict[str, Any]:
    """Write metrics.json, loss.csv and eval_loss.csv for the latest version; return the metrics.

    ``trained`` says whether this run trained (1) or the trigger policy skipped it (0).
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Any] = {"trained": int(trained), "version": 0}
    version = latest_version(client, registered_model)
    run_id = (version.tags or {}).get(tracking.TAG_RUN_ID) if version is not None else None
    logged = client.get_run(run_id).data.metrics if run_id else {}
    if version is not None:
        metrics["version"] = int(version.version)
        for name in REPORTED_METRICS:
            # Versions trained before the summary/ prefix logged the bare name.
            key = tracking.run_summary_metric(name)
            value = logged.get(key, logged.get(name))
            if value is not None:
                metrics[name] = round(float(value), DIGITS)
    for filename, metric in CURVES.items():
        history = client.get_metric_history(run_id, metric) if run_id else []
        _write_curve(reports_dir / filename, metric, history)
    (reports_dir / METRICS_FILE).write_text(
        json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return metrics
