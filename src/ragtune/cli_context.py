"""What the CLI's root callback resolved, readable by every command module.

Kept apart from ``ragtune.cli`` so sub-command modules (index, finetune, import) can import
it at the top: ``ragtune.cli`` imports them, so they cannot import it back.
"""

from __future__ import annotations

import os
from pathlib import Path

from ragtune.config import PARAMS_FILE, Settings, load_settings
from ragtune.errors import ConfigError
from ragtune.runtime import BASE_CACHE_ENV


class State:
    """The project directory (params.yaml lives there), set once per CLI invocation."""

    project_dir: Path = Path(".")


def settings() -> Settings:
    """params.yaml of the current project, validated.

    A missing project directory, or one without params.yaml, is an error (before anything is
    created there). Also points registered generators loaded by this command at the project's
    base-model cache, so a packaged GGUF base is dequantised once per project, not once per
    process.
    """
    project = State.project_dir
    if not project.is_dir():
        raise ConfigError(
            f"{project}: no such project directory; pass -C <dir> (or RAGTUNE_PROJECT_DIR) "
            f"naming a folder with {PARAMS_FILE}"
        )
    if not (project / PARAMS_FILE).is_file():
        raise ConfigError(
            f"{project / PARAMS_FILE}: not found; run ragtune in a project directory (one with "
            f"{PARAMS_FILE}, e.g. a clone of ragtune) or pass -C <dir>"
        )
    loaded = load_settings(project)
    cache = str(loaded.path(loaded.finetune.base_cache_dir))
    os.environ.setdefault(BASE_CACHE_ENV, cache)
    return loaded
