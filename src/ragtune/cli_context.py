"""What the CLI's root callback resolved, readable by every command module.

Kept apart from ``ragtune.cli`` so sub-command modules (index, finetune, import) can import
it at the top: ``ragtune.cli`` imports them, so they cannot import it back.
"""

from __future__ import annotations

import os
from pathlib import Path

from ragtune.config import Settings, load_settings
from ragtune.runtime import BASE_CACHE_ENV


class State:
    """The project directory (params.yaml lives there), set once per CLI invocation."""

    project_dir: Path = Path(".")


def settings() -> Settings:
    """params.yaml of the current project, validated.

    Also points registered generators loaded by this command at the project's base-model
    cache, so a packaged GGUF base is dequantised once per project, not once per process.
    """
    loaded = load_settings(State.project_dir)
    cache = str(loaded.path(loaded.finetune.base_cache_dir))
    os.environ.setdefault(BASE_CACHE_ENV, cache)
    return loaded
