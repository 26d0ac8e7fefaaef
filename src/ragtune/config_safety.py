"""What params.yaml may not do: repeat a key, or point a stage at data it does not own.

Kept apart from :mod:`ragtune.config` (the schema) because these checks read the file's
text and the project's layout, not single values.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ragtune.errors import ConfigError

if TYPE_CHECKING:
    from ragtune.config import Settings

PROTECTED_DIRS = (".git", ".dvc")
"""Project folders no configured path may point into."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{self.name}: key '{key}' appears twice (lines {seen[key]} and {line}); "
                    "the second would silently replace the first, merge them into one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_params_file(params_path: Path) -> dict[str, Any]:
    """Parse params.yaml strictly: UTF-8, valid YAML, no duplicate keys, a mapping at the top."""
    try:
        text = params_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{params_path}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    loader = _UniqueKeyLoader(text)
    loader.name = str(params_path)
    try:
        raw = loader.get_single_data() or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{params_path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    if not isinstance(raw, dict):
        raise ConfigError(f"{params_path}: expected a mapping of stage groups at top level")
    return raw


def configured_paths(settings: Settings) -> dict[str, Path]:
    """Every directory or file a stage reads or writes, by params key, resolved."""
    keys = {
        "data.raw_dir": settings.data.raw_dir,
        "prepare.prepared_dir": settings.prepare.prepared_dir,
        "validate.reports_dir": settings.validate_.reports_dir,
        "validate.quarantine_dir": settings.validate_.quarantine_dir,
        "index.qdrant_path": settings.index.qdrant_path,
        "index.manifest_path": settings.index.manifest_path,
        "index.reports_dir": settings.index.reports_dir,
        "finetune.base_cache_dir": settings.finetune.base_cache_dir,
        "finetune.data_dir": settings.finetune.data_dir,
        "finetune.output_dir": settings.finetune.output_dir,
        "finetune.reports_dir": settings.finetune.reports_dir,
        "evaluate.reports_dir": settings.evaluate.reports_dir,
    }
    return {key: settings.path(value).resolve() for key, value in keys.items()}


def check_paths(settings: Settings, source: str) -> None:
    """Refuse a path outside the project, onto its root, .git/.dvc, or onto another stage's path."""
    root = settings.project_dir.resolve()
    paths = configured_paths(settings)
    problems: list[str] = []
    for key, path in paths.items():
        shown = f"'{key}' = {path}"
        if not path.is_relative_to(root):
            problems.append(f"{shown}: outside the project {root}; use a path inside it")
        elif path == root:
            problems.append(f"{shown}: is the project directory itself; use a subfolder")
        elif any(path.is_relative_to(root / name) for name in PROTECTED_DIRS):
            problems.append(
                f"{shown}: inside {'/'.join(PROTECTED_DIRS)}, which ragtune never writes"
            )
    names = list(paths)
    for position, key in enumerate(names):
        for other in names[position + 1 :]:
            first, second = paths[key], paths[other]
            if first == second or first.is_relative_to(second) or second.is_relative_to(first):
                problems.append(
                    f"'{key}' = {first} overlaps '{other}' = {second}; each stage needs a path "
                    "of its own so it never deletes or overwrites another stage's files"
                )
    if problems:
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems))
