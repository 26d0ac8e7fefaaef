"""When to fine-tune: `ragtune finetune --if-needed` trains only for a reason it can name.

Reasons, checked in order: no registered version yet; the training data changed since the
latest version (behaviour rows, train-split QA rows — glossary questions included — compared
by content hash, not the documents); the finetune settings that shape the model changed; the
latest evaluation of that version scores a fine-tuned arm below ``finetune.min_finetuned_score``;
the version is older than ``finetune.max_age_days``. Anything else is a skip.

Documents alone never trigger a fine-tune, not even glossary pages: keeping knowledge fresh is
the index's job. Jargon reaches the model through the glossary QA and behaviour rows, which
are hashed; a glossary edit that matters changes those rows too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ragtune import tracking
from ragtune.config import FinetuneConfig
from ragtune.train.dataset import training_rows

# Settings that decide when or where to train, not what the model learns.
POLICY_ONLY_FIELDS = {
    "base_cache_dir",
    "data_dir",
    "output_dir",
    "reports_dir",
    "max_age_days",
    "min_finetuned_score",
    "schedule_cron",
    "sample_rows",
    "eval_steps",
    "logging_steps",
    "max_eval_examples",
    "max_new_tokens",
}


@dataclass(frozen=True)
class Decision:
    """Whether to train, and the reason in words."""

    train: bool
    reason: str

    def render(self) -> str:
        """`train: <reason>` or `skipped: <reason>`."""
        return f"{'train' if self.train else 'skipped'}: {self.reason}"


def _rows_hash(rows: Sequence[dict[str, Any]]) -> str:
    canonical = sorted(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in rows)
    return hashlib.sha256("\n".join(canonical).encode("utf-8")).hexdigest()[:16]


def training_data_hashes(tables: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Content hash of each part of the training data and of all of it (``total``)."""
    parts = {name: _rows_hash(rows) for name, rows in training_rows(tables).items()}
    parts["total"] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return parts


def finetune_config_hash(config: FinetuneConfig) -> str:
    """Hash of the settings that shape the trained model (policy-only fields left out)."""
    shaping = config.model_dump(mode="json", exclude=POLICY_ONLY_FIELDS)
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def version_tags(hashes: dict[str, str], config: FinetuneConfig) -> dict[str, str]:
    """Tags a registered version carries so a later decision can compare against it."""
    tags = {tracking.TAG_TRAINING_DATA_HASH: hashes["total"]}
    for part, value in hashes.items():
        if part != "total":
            tags[tracking.TAG_TRAINING_DATA_PART.format(part=part)] = value
    tags[tracking.TAG_FINETUNE_CONFIG_HASH] = finetune_config_hash(config)
    return tags


def latest_version(client: Any, registered_model: str) -> Any | None:
    """The highest-numbered version of the registered model, or None."""
    versions = client.search_model_versions(f"name='{registered_model}'")
    return max(versions, key=lambda version: int(version.version), default=None)


def latest_finetuned_scores(client: Any, since_ms: int) -> tuple[str, dict[str, float]] | None:
    """Run id and fine-tuned-arm scores of the newest finished evaluate run after ``since_ms``."""
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT_EVALUATE)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    # An evaluation older than the version describes an older model: it cannot judge this one.
    if not runs or runs[0].info.start_time < since_ms:
        return None
    metrics = runs[0].data.metrics
    scores = {name: metrics[name] for name in tracking.FINETUNED_ARM_METRICS if name in metrics}
    return runs[0].info.run_id, scores


def decide(
    tables: dict[str, list[dict[str, Any]]],
    config: FinetuneConfig,
    registered_model: str,
    client: Any,
    now: float | None = None,
) -> Decision:
    """Compare the current data, settings and evaluation against the latest registered version."""
    version = latest_version(client, registered_model)
    if version is None:
        return Decision(True, f"no registered version of '{registered_model}' yet")
    tags = version.tags or {}
    label = f"version {version.version}"
    current = version_tags(training_data_hashes(tables), config)
    changed = [
        key.split(".", 1)[-1]
        for key in sorted(current)
        if key.startswith(tracking.TAG_TRAINING_DATA_HASH + ".") and tags.get(key) != current[key]
    ]
    if (
        changed
        or tags.get(tracking.TAG_TRAINING_DATA_HASH) != current[tracking.TAG_TRAINING_DATA_HASH]
    ):
        return Decision(
            True,
            f"training data changed since {label} (data revision "
            f"{tags.get(tracking.TAG_DATA_REVISION, '?')}): {', '.join(changed) or 'all'}",
        )
    if tags.get(tracking.TAG_FINETUNE_CONFIG_HASH) != current[tracking.TAG_FINETUNE_CONFIG_HASH]:
        return Decision(True, f"finetune settings changed since {label}")
    evaluation = latest_finetuned_scores(client, version.creation_timestamp)
    if evaluation is not None:
        run_id, scores = evaluation
        low = {name: value for name, value in scores.items() if value < config.min_finetuned_score}
        if low:
            shown = ", ".join(f"{name}={value:.3f}" for name, value in sorted(low.items()))
            return Decision(
                True,
                f"latest evaluation (run {run_id}) of {label} scores {shown} below "
                f"finetune.min_finetuned_score={config.min_finetuned_score}",
            )
    age_days = ((now or time.time()) * 1000 - version.creation_timestamp) / 86_400_000
    if age_days > config.max_age_days:
        return Decision(
            True,
            f"{label} is {age_days:.1f} days old (finetune.max_age_days={config.max_age_days})",
        )
    return Decision(
        False,
        f"training data, settings and evaluation unchanged since {label} "
        f"({age_days:.1f} days old; document changes are the index's job)",
    )
