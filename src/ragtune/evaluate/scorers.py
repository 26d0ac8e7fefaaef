"""The four-arm evaluation as an MLflow GenAI evaluation: code scorers, no LLM judge, offline.

Each answered question becomes one evaluation row (a trace in the run) with the arm in its
inputs; scorers compute the metrics of :mod:`ragtune.evaluate.metrics` and name their feedback
``<metric>/<arm>``, so the run's aggregated metrics (``f1/ft_rag/mean`` …) stay per arm and
the UI's "Evaluation runs" view shows every answer with its scores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ragtune.evaluate import metrics

SERIAL_WORKER_VARIABLES = ("MLFLOW_GENAI_EVAL_MAX_WORKERS", "MLFLOW_GENAI_EVAL_MAX_SCORER_WORKERS")


def _feedback(metric: str, inputs: dict[str, Any], value: float | None) -> Any:
    from mlflow.entities import Feedback

    return Feedback(name=f"{metric}/{inputs['arm']}", value=value)


def build_scorers() -> list[Any]:
    """Token F1, exact match, citation accuracy/format and groundedness as MLflow scorers."""
    from mlflow.genai.scorers import scorer

    @scorer(name="f1")
    def f1(inputs: dict[str, Any], outputs: str, expectations: dict[str, Any]) -> Any:
        """Token F1 against the gold answer."""
        return _feedback("f1", inputs, metrics.token_f1(outputs, expectations["expected_response"]))

    @scorer(name="exact_match")
    def exact_match(inputs: dict[str, Any], outputs: str, expectations: dict[str, Any]) -> Any:
        """Same tokens as the gold answer (citations and case ignored)."""
        value = metrics.exact_match(outputs, expectations["expected_response"])
        return _feedback("exact_match", inputs, value)

    @scorer(name="citation_accuracy")
    def citation_accuracy(
        inputs: dict[str, Any], outputs: str, expectations: dict[str, Any]
    ) -> Any:
        """The answer cites a gold document."""
        value = metrics.citation_accuracy(outputs, expectations["gold_doc_ids"])
        return _feedback("citation_accuracy", inputs, value)

    @scorer(name="citation_format")
    def citation_format(inputs: dict[str, Any], outputs: str) -> Any:
        """The answer ends with [doc:ID]."""
        return _feedback("citation_format", inputs, metrics.citation_format(outputs))

    @scorer(name="groundedness")
    def groundedness(inputs: dict[str, Any], outputs: str) -> Any:
        """Share of answer tokens found in the retrieved context (RAG arms only)."""
        value = metrics.groundedness(outputs, inputs.get("retrieved_context", ""))
        return _feedback("groundedness", inputs, value)

    return [f1, exact_match, citation_accuracy, citation_format, groundedness]


def evaluation_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-question results as MLflow GenAI evaluation data (inputs, outputs, expectations)."""
    return [
        {
            "inputs": {
                "question": row["question"],
                "arm": row["arm"],
                "retrieved_context": row["context"],
            },
            "outputs": row["answer"],
            "expectations": {
                "expected_response": row["gold_answer"],
                "gold_doc_ids": row["gold_doc_ids"],
            },
            "tags": {"arm": row["arm"], "qa_id": row["qa_id"], "slices": ",".join(row["slices"])},
        }
        for row in rows
    ]


@contextmanager
def _serial_workers() -> Iterator[None]:
    """One evaluation worker unless the user chose otherwise.

    Parallel workers writing traces into one sqlite file lose some of them ("Failed to log
    trace") and are no faster: the scorers are microseconds of Python, the cost is the store.
    """
    saved = {name: os.environ.get(name) for name in SERIAL_WORKER_VARIABLES}
    for name in SERIAL_WORKER_VARIABLES:
        os.environ[name] = saved[name] or "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def log_genai_evaluation(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Run ``mlflow.genai.evaluate`` on the answered rows inside the active run."""
    import mlflow

    # MLflow's tracer provider keeps the tracking URI it was first set up with; only
    # mlflow.set_tracking_uri resets it. A process that evaluated for another store earlier
    # (MLFLOW_TRACKING_URI changed since: a worker serving two projects, a test session)
    # would write this run's traces there, so set it up afresh for the store in use now.
    mlflow.tracing.reset()
    with _serial_workers():
        result = mlflow.genai.evaluate(data=evaluation_rows(rows), scorers=build_scorers())
    return {name: float(value) for name, value in result.metrics.items()}
