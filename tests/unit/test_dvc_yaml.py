"""dvc.yaml lists every module a stage imports and exactly the params keys that shape it."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
# The stage function (in ragtune/stages.py) that each stage's CLI command runs; every module
# it imports, directly or through other modules, is a dep.
STAGE_ENTRIES = {
    "prepare": "prepare_stage",
    "validate": "validate_stage",
    "index": "index_stage",
    "finetune": "finetune_stage",
}
STAGES_FILE = SRC / "ragtune" / "stages.py"
# Plumbing shared by every command (see the comment at the top of dvc.yaml).
PLUMBING = {
    "ragtune",
    "ragtune.cli",
    "ragtune.cli_context",
    "ragtune.config",
    "ragtune.errors",
    "ragtune.runtime",
    "ragtune.tracking",
}
# Keys no stage output depends on: Prefect schedules and retries, scratch and cache folders.
NOT_STAGE_INPUTS = {
    "index": {"schedule_cron", "retries", "lock_timeout_seconds", "reports_dir"},
    "finetune": {"schedule_cron", "base_cache_dir", "output_dir", "data_dir", "reports_dir"},
    "validate": {"reports_dir"},
    "prepare": {"prepared_dir"},
}


def _params() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


def _lookup(params: dict[str, Any], dotted: str) -> Any:
    value: Any = params
    for part in dotted.split("."):
        value = value[part]
    return value


def _stages() -> dict[str, Any]:
    """dvc.yaml's stages with ${...} resolved from params.yaml, as DVC does."""
    params = _params()

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(_lookup(params, m.group(1))), value)
        if isinstance(value, dict):
            return {resolve(key): resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return resolve(yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"])


def _module_file(name: str) -> Path | None:
    base = SRC / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run (lazy ones inside functions too; not TYPE_CHECKING ones)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _modules(nodes: list[ast.Import | ast.ImportFrom], used: set[str] | None = None) -> set[str]:
    """ragtune modules the import statements load (only names in ``used``, when given)."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ragtune"))
        elif (node.module or "").startswith("ragtune"):
            for alias in node.names:
                if used is not None and (alias.asname or alias.name) not in used:
                    continue
                child = f"{node.module}.{alias.name}"
                found.add(child if _module_file(child) else node.module)
    return found


def _imports(path: Path) -> set[str]:
    """ragtune modules a file imports when it runs."""
    return _modules(_import_nodes(ast.parse(path.read_text(encoding="utf-8"))))


def stage_entry(function: str) -> set[str]:
    """Modules one stage function of stages.py loads: its own imports and the names it uses."""
    tree = ast.parse(STAGES_FILE.read_text(encoding="utf-8"))
    body = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function
    )
    used = {node.id for node in ast.walk(body) if isinstance(node, ast.Name)}
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return _modules(_import_nodes(body)) | _modules(top_level, used)


def stage_modules(function: str) -> set[Path]:
    """Files of every ragtune module a stage function reaches, plumbing left out."""
    seen: set[str] = set()
    todo = list(stage_entry(function))
    while todo:
        name = todo.pop()
        if name in seen or name in PLUMBING:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is not None:
            todo.extend(_imports(path))
    files = {_module_file(name) for name in seen}
    return {path for path in files if path is not None and path.name != "__init__.py"}


def _dep_paths(stage: dict[str, Any]) -> list[Path]:
    return [ROOT / (dep if isinstance(dep, str) else next(iter(dep))) for dep in stage["deps"]]


@pytest.mark.parametrize("name", sorted(STAGE_ENTRIES))
def test_every_imported_module_is_a_dep(name: str) -> None:
    deps = _dep_paths(_stages()[name])
    modules = stage_modules(STAGE_ENTRIES[name])
    assert modules, "the import walk found nothing"
    modules.add(STAGES_FILE)
    missing = sorted(
        str(path.relative_to(ROOT))
        for path in modules
        if not any(path == dep or dep in path.parents for dep in deps)
    )
    assert not missing, f"stage {name} imports modules that are not deps: {missing}"


def test_stage_walk_sees_cross_package_imports() -> None:
    """The finetune stage chunks with the index chunker: the walk must find it."""
    assert SRC / "ragtune/index/chunk.py" in stage_modules("finetune_stage")


@pytest.mark.parametrize("name", sorted(NOT_STAGE_INPUTS))
def test_params_are_per_key_and_complete(name: str) -> None:
    """Each key of the stage's section is listed, or used in a path, or explicitly not an input."""
    listed = [key for key in _stages()[name].get("params", []) if isinstance(key, str)]
    assert name not in listed, f"stage {name} depends on the whole `{name}` section"
    params = _params()
    for key in listed:
        _lookup(params, key)  # KeyError: dvc.yaml names a key params.yaml does not have
    own = {key.split(".", 1)[1].split(".")[0] for key in listed if key.startswith(f"{name}.")}
    unlisted = set(params[name]) - own - NOT_STAGE_INPUTS[name]
    assert not unlisted, f"stage {name} reads {sorted(unlisted)} but does not list them"
    assert not own & NOT_STAGE_INPUTS[name]


def test_scheduling_keys_are_not_index_or_finetune_params() -> None:
    stages = _stages()
    for stage in ("index", "finetune"):
        listed = set(stages[stage]["params"])
        assert not {"index.schedule_cron", "index.retries", "finetune.schedule_cron"} & listed


def test_finetune_reads_the_registered_model_and_the_chunker() -> None:
    stage = _stages()["finetune"]
    assert "release.registered_model" in stage["params"]
    assert ROOT / "src/ragtune/index/chunk.py" in _dep_paths(stage)
