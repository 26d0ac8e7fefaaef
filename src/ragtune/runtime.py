"""Process-wide defaults that keep every component embedded and offline.

Called explicitly by the CLI, flows and tests (never at import time). Each value is a
default only: a user's own environment (a Qdrant/MLflow/Prefect server) always wins.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_CACHE_ENV = "RAGTUNE_BASE_CACHE"
"""Where a logged generator dequantises a packaged GGUF base on load (see train/pyfunc.py)."""


def offline_defaults(project_dir: Path) -> dict[str, str]:
    """The environment defaults for a project rooted at ``project_dir``."""
    project_dir = project_dir.resolve()
    return {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project_dir / 'mlflow.db'}",
        "PREFECT_HOME": str(project_dir / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The ephemeral API server gets 20 s to start by default; a busy 2-core machine
        # (a fine-tune beside it) needs longer, and a timeout there fails the whole flow.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "DVC_NO_ANALYTICS": "1",
        "GX_ANALYTICS_ENABLED": "false",
        # mlflow probes the network for some model-signature helpers; keep it quiet offline.
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }


def configure_environment(project_dir: Path) -> None:
    """Set offline/embedded defaults for anything the user has not set (or set empty)."""
    for key, value in offline_defaults(project_dir).items():
        # An empty value (e.g. an unset CI secret) means "not configured", not "empty URI".
        if not os.environ.get(key):
            os.environ[key] = value


@contextmanager
def quiet_model_loading() -> Iterator[None]:
    """No "Loading weights" (transformers) or artefact download bars inside the block.

    For one-shot commands (a query, a question) whose answer is the whole output; long work
    (an index build, a fine-tune) keeps its progress bars.
    """
    from transformers.utils import logging as transformers_logging

    shown = transformers_logging.is_progress_bar_enabled()
    previous = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    transformers_logging.disable_progress_bar()
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        yield
    finally:
        if shown:
            transformers_logging.enable_progress_bar()
        if previous is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = previous
