"""A mistyped output path never costs data: refused at load, and stages delete only their own files."""

import json
import subprocess
import sys

import pytest
import yaml

from ragtune.config import load_settings
from ragtune.data.prepare import prepare
from ragtune.data.validate import validate_prepared
from ragtune.errors import ConfigError


def ragtune(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "ragtune", *args], cwd=project, capture_output=True, text=True
    )


def set_param(project, section, key, value):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params[section][key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def snapshot_tree(project):
    return sorted(str(p.relative_to(project)) for p in project.rglob("*"))


@pytest.mark.parametrize(
    ("section", "key", "value", "command"),
    [
        ("prepare", "prepared_dir", ".", ("data", "prepare")),
        ("prepare", "prepared_dir", "data", ("data", "prepare")),
        ("prepare", "prepared_dir", "data/raw", ("data", "prepare")),
        ("validate", "quarantine_dir", "data/raw", ("validate",)),
    ],
)
def test_output_path_onto_the_project_or_raw_data_is_refused_and_nothing_lost(
    demo_project, section, key, value, command
):
    (demo_project / ".git").mkdir()
    (demo_project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (demo_project / "data" / "raw" / "import_manifest.jsonl").write_text("{}\n")
    before = snapshot_tree(demo_project)
    set_param(demo_project, section, key, value)
    result = ragtune(demo_project, *command)
    assert result.returncode == 1
    assert f"'{section}.{key}'" in result.stderr and "Traceback" not in result.stderr
    assert snapshot_tree(demo_project) == before


def test_prepare_refuses_a_folder_holding_files_it_did_not_write(demo_project, settings):
    prepared = settings.path(settings.prepare.prepared_dir)
    (prepared / "my-notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match=r"prepare.prepared_dir = .*my-notes.txt"):
        prepare(settings.path(settings.data.raw_dir), prepared, settings.prepare)
    assert (prepared / "my-notes.txt").read_text() == "keep me"
    assert (prepared / "docs.jsonl").exists()


def test_prepare_replaces_only_what_its_marker_lists(demo_project, settings):
    prepared = settings.path(settings.prepare.prepared_dir)
    marker = json.loads((prepared / ".ragtune-prepare").read_text())
    assert set(marker["files"]) == {"docs.jsonl", "qa.jsonl", "behaviour.jsonl"}
    (prepared / "qa.jsonl").write_text("stale\n")
    prepare(settings.path(settings.data.raw_dir), prepared, settings.prepare)
    assert (prepared / "qa.jsonl").read_text() != "stale\n"
    # No staging folder left behind; beside the folder only the line feed (ragtune.data.feed).
    names = sorted(p.name for p in prepared.parent.iterdir())
    assert names == [".prepared-docs.jsonl.feed", "prepared", "raw"]


def test_prepare_into_a_foreign_folder_of_look_alike_files_is_refused(demo_project):
    copy = demo_project / "backup"
    copy.mkdir()
    for name in ("docs.jsonl", "qa.jsonl", "behaviour.jsonl"):
        (copy / name).write_bytes((demo_project / "data" / "raw" / name).read_bytes())
    set_param(demo_project, "prepare", "prepared_dir", "backup")
    settings = load_settings(demo_project)
    with pytest.raises(ConfigError, match="did not write"):
        prepare(settings.path(settings.data.raw_dir), copy, settings.prepare)
    assert sorted(p.name for p in copy.iterdir()) == ["behaviour.jsonl", "docs.jsonl", "qa.jsonl"]


def test_passing_validation_removes_only_quarantine_files_it_wrote(demo_project, settings):
    quarantine = settings.path(settings.validate_.quarantine_dir)
    quarantine.mkdir(parents=True)
    (quarantine / "docs.jsonl").write_text('{"mine": "not ragtune\'s"}\n')
    with pytest.raises(ConfigError, match="validate.quarantine_dir = .*docs.jsonl"):
        validate_prepared(
            settings.path(settings.prepare.prepared_dir),
            settings.validate_,
            settings.path(settings.validate_.reports_dir),
            quarantine,
        )
    assert (quarantine / "docs.jsonl").exists()
    (quarantine / "docs.jsonl").unlink()
    prepared = settings.path(settings.prepare.prepared_dir)
    rows = [json.loads(line) for line in (prepared / "docs.jsonl").read_text().splitlines()]
    rows[0]["text"] = "   "
    (prepared / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = (prepared, settings.validate_, settings.path(settings.validate_.reports_dir), quarantine)
    assert not validate_prepared(*args).success
    assert (quarantine / "docs.jsonl").exists()
    prepare(settings.path(settings.data.raw_dir), prepared, settings.prepare)
    assert validate_prepared(*args).success
    assert not (quarantine / "docs.jsonl").exists()
