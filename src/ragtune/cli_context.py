"""What the CLI's root callback resolved, readable by every command module.

Kept apart from ``ragtune.cli`` so sub-command modules (index, finetune, import) can import
it at the top: ``ragtune.cli`` imports them, so they cannot import it back.
"""

from __future__ import annotations

from pathlib import Path

from ragtune.config import Settings, load_settings


class State:
    """The project directory (params.yaml lives there), set once per CLI invocation."""

    project_dir: Path = Path(".")


def settings() -> Settings:
    """params.yaml of the current project, validated."""
    return load_settings(State.project_dir)
