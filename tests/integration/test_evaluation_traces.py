"""Evaluation traces land in the tracking store in use now, not the one a process used first."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from ragtune import tracking
from ragtune.evaluate.scorers import log_genai_evaluation

ROWS = [
    {
        "qa_id": f"q{index}",
        "question": f"What is the code word {index}?",
        "arm": arm,
        "context": f"[doc:d{index}] The code word {index} is amber.",
        "answer": f"The code word {index} is amber. [doc:d{index}]",
        "gold_answer": f"The code word {index} is amber.",
        "gold_doc_ids": [f"d{index}"],
        "slices": ["unchanged"],
    }
    for index in range(2)
    for arm in ("base", "ft_rag")
]


def test_two_stores_in_one_process_each_get_their_own_traces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs open as the stages open them (no mlflow.set_experiment, which would reset tracing)."""
    for name in ("first", "second"):
        store = tmp_path / name
        store.mkdir()
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
        with tracking.stage_run(tracking.EXPERIMENT_EVALUATE, "evaluate", "r1", store) as run:
            metrics = log_genai_evaluation(ROWS)
        experiment_id = run.info.experiment_id
        assert metrics["f1/ft_rag/mean"] == pytest.approx(1.0)
        traces = mlflow.search_traces(
            locations=[experiment_id], run_id=run.info.run_id, return_type="list"
        )
        assert len(traces) == len(ROWS), name
