"""params.yaml that would lose data or hide a typo is refused on load, naming the key."""

from pathlib import Path

import pytest
import yaml

from ragtune.config import load_settings, settings_from_dict
from ragtune.errors import ConfigError


def _write_params(project: Path, params: dict) -> None:
    (project / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("prepare", "prepared_dir", ".", "project directory itself"),
        ("prepare", "prepared_dir", "data", "data.raw_dir"),
        ("prepare", "prepared_dir", "data/raw", "data.raw_dir"),
        ("validate", "quarantine_dir", "data/raw", "data.raw_dir"),
        ("validate", "quarantine_dir", "data/prepared/bad", "prepare.prepared_dir"),
        ("validate", "reports_dir", "..", "outside the project"),
        ("validate", "reports_dir", "/tmp", "outside the project"),
        ("index", "qdrant_path", ".git/qdrant", "inside .git/.dvc"),
        ("index", "manifest_path", ".dvc/manifest.sqlite", "inside .git/.dvc"),
        ("index", "reports_dir", "reports/validation", "validate.reports_dir"),
        ("finetune", "output_dir", "models/base", "finetune.base_cache_dir"),
        ("finetune", "data_dir", "data/prepared", "prepare.prepared_dir"),
    ],
)
def test_dangerous_paths_are_refused_naming_the_key(tmp_path, section, key, value, problem):
    _write_params(tmp_path, {section: {key: value}})
    with pytest.raises(ConfigError) as excinfo:
        load_settings(tmp_path)
    message = str(excinfo.value)
    assert f"'{section}.{key}'" in message and problem in message
    if problem.startswith(("data.", "prepare.", "validate.", "finetune.")):  # both keys named
        assert "overlaps" in message


def test_a_symlinked_path_resolving_onto_raw_data_is_refused(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "elsewhere").symlink_to(tmp_path / "data" / "raw")
    _write_params(tmp_path, {"validate": {"quarantine_dir": "elsewhere"}})
    with pytest.raises(ConfigError, match="'data.raw_dir'.*overlaps 'validate.quarantine_dir'"):
        load_settings(tmp_path)


def test_default_paths_are_accepted(tmp_path):
    settings = settings_from_dict({}, tmp_path, "params.yaml")
    assert settings.path(settings.prepare.prepared_dir) == tmp_path.resolve() / "data/prepared"


def test_duplicate_keys_name_the_key_and_both_lines(tmp_path):
    (tmp_path / "params.yaml").write_text(
        "index:\n  chunk_size: 128\nprepare:\n  unicode_form: NFC\nindex:\n  k: 3\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"key 'index' appears twice \(lines 1 and 5\)"):
        load_settings(tmp_path)
    (tmp_path / "params.yaml").write_text("index:\n  k: 3\n  k: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'k' appears twice \(lines 2 and 3\)"):
        load_settings(tmp_path)


@pytest.mark.parametrize("value", [True, "3", 3.0])
def test_integers_refuse_booleans_strings_and_floats(value):
    with pytest.raises(ConfigError, match="'index.keep_collections'.*valid integer"):
        settings_from_dict({"index": {"keep_collections": value}}, Path("."), "params.yaml")


def test_removal_share_is_validated():
    with pytest.raises(ConfigError, match="'data.import_max_removal_share' = 1.5"):
        settings_from_dict({"data": {"import_max_removal_share": 1.5}}, Path("."), "params.yaml")


def test_non_utf8_params_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "params.yaml").write_bytes(b"index:\n  collection_prefix: caf\xe9\n")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(tmp_path)
    message = str(excinfo.value)
    assert str(tmp_path / "params.yaml") in message and "not UTF-8" in message
    assert "\n" not in message and "0xe9" in message
