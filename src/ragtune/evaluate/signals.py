"""Measuring what `ragtune advise` weighs: change rate, jargon, and the latest four-arm scores.

- change rate: the newest ``ragtune-index`` run whose data revision differs from the run
  before it, i.e. the refresh between the last two data revisions: documents added, updated,
  renamed or deleted over all documents.
- jargon: glossary terms (titles of ``glossary`` documents) tokenised by the base model's
  tokenizer; invented words split into many pieces, which is what a base model gets wrong.
- arms: token F1 per arm from the newest finished ``ragtune-evaluate`` run.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from ragtune import tracking
from ragtune.evaluate.advise import ArmScores, Signals

if TYPE_CHECKING:
    from ragtune.config import Settings

CHANGE_METRICS = ("docs_added", "docs_updated", "docs_renamed", "docs_deleted")
GLOSSARY_PREFIX = "Glossary:"


def _finished_runs(client: Any, experiment_name: str, limit: int) -> list[Any]:
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return []
    return client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
    )


def change_rate(client: Any) -> float | None:
    """Share of documents changed by the refresh between the last two data revisions."""
    runs = _finished_runs(client, tracking.EXPERIMENT_INDEX, 200)
    for newer, older in zip(runs, runs[1:], strict=False):
        revision = newer.data.tags.get(tracking.TAG_DATA_REVISION)
        if revision == older.data.tags.get(tracking.TAG_DATA_REVISION):
            continue
        metrics = newer.data.metrics
        total = metrics.get("docs_total", 0.0) + metrics.get("docs_deleted", 0.0)
        if total:
            return sum(metrics.get(name, 0.0) for name in CHANGE_METRICS) / total
    return None


def glossary_terms(docs: list[dict[str, Any]]) -> list[str]:
    """The terms the glossary documents define (their titles without the prefix)."""
    terms = []
    for doc in docs:
        if doc.get("source") == "glossary":
            title = doc["title"]
            terms.append(title.removeprefix(GLOSSARY_PREFIX).strip() or title)
    return terms


def tokens_per_term(tokenizer: Any, terms: list[str]) -> float | None:
    """Mean tokens per term, each as it appears mid-sentence (after a space)."""
    if not terms:
        return None
    counts = [len(tokenizer(f" {term}", add_special_tokens=False)["input_ids"]) for term in terms]
    return statistics.fmean(counts)


def jargon_tokens(settings: Settings, docs: list[dict[str, Any]]) -> float | None:
    """Mean base-tokenizer tokens per glossary term (None without glossary documents)."""
    terms = glossary_terms(docs)
    if not terms:
        return None
    from transformers import AutoTokenizer

    from ragtune.train.model import materialize_base, resolve_base_model

    source = resolve_base_model(settings.finetune.base_model, settings.project_dir)
    base_dir = materialize_base(source, settings.path(settings.finetune.base_cache_dir))
    return tokens_per_term(AutoTokenizer.from_pretrained(str(base_dir)), terms)


def arm_scores(client: Any) -> tuple[str, ArmScores] | None:
    """Run id and per-arm F1 of the newest finished evaluation, if any."""
    runs = _finished_runs(client, tracking.EXPERIMENT_EVALUATE, 1)
    if not runs:
        return None
    metrics = runs[0].data.metrics
    needed = [f"{arm}/all/f1" for arm in ("base", "rag", "ft", "ft_rag")]
    if not all(name in metrics for name in needed):
        return None
    scores = ArmScores(
        *(metrics[name] for name in needed),
        ft_changed=metrics.get("ft/changed/f1"),
        ft_unchanged=metrics.get("ft/unchanged/f1"),
    )
    return runs[0].info.run_id, scores


def measure(settings: Settings) -> tuple[Signals, dict[str, str]]:
    """Every signal, and where each came from (for the printout)."""
    from mlflow import MlflowClient

    from ragtune.data.load import load_dataset
    from ragtune.data.schema import DOCS

    client = MlflowClient()
    prepared = settings.path(settings.prepare.prepared_dir)
    docs = load_dataset(DOCS, prepared) if (prepared / DOCS.filename).exists() else []
    evaluation = arm_scores(client)
    signals = Signals(
        change_rate=change_rate(client),
        jargon_tokens=jargon_tokens(settings, docs),
        traceable_answers=settings.advise.traceable_answers,
        compute_budget=settings.advise.compute_budget,
        arms=evaluation[1] if evaluation else None,
    )
    sources = {
        "change_rate": "latest ragtune-index refresh between two data revisions",
        "jargon_tokens": f"{len(glossary_terms(docs))} glossary terms, base tokenizer "
        f"of {settings.finetune.base_model}",
        "traceable_answers": "params.yaml advise.traceable_answers",
        "compute_budget": "params.yaml advise.compute_budget",
        "arms": f"ragtune-evaluate run {evaluation[0]}" if evaluation else "no evaluation yet",
    }
    return signals, sources
