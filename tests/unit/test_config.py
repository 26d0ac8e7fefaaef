from pathlib import Path

import pytest

from ragtune.config import load_settings, settings_from_dict
from ragtune.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_repository_params_load_and_resolve_paths():
    settings = load_settings(REPO_ROOT)
    assert settings.index.chunk_overlap < settings.index.chunk_size
    assert settings.path(settings.data.raw_dir) == REPO_ROOT / "data" / "raw"
    assert "glossary" in settings.validate_.sources


def test_missing_params_file_gives_defaults(tmp_path):
    settings = load_settings(tmp_path)
    assert settings.data.revision == 1
    assert settings.project_dir == tmp_path.resolve()


def test_unknown_key_names_key_and_allowed_keys():
    with pytest.raises(ConfigError) as excinfo:
        settings_from_dict({"index": {"chunk_sze": 3}}, Path("."), "params.yaml")
    message = str(excinfo.value)
    assert "unknown key 'index.chunk_sze'" in message
    assert "chunk_size" in message and "chunk_overlap" in message


def test_unknown_stage_group_is_refused():
    with pytest.raises(ConfigError, match="unknown key 'validat'.*validate"):
        settings_from_dict({"validat": {}}, Path("."), "params.yaml")


def test_invalid_values_name_key_value_and_rule():
    with pytest.raises(ConfigError) as excinfo:
        settings_from_dict(
            {"evaluate": {"split": "holdout"}, "data": {"revision": 0}}, Path("."), "params.yaml"
        )
    message = str(excinfo.value)
    assert "'evaluate.split' = 'holdout'" in message and "'dev' or 'test'" in message
    assert "'data.revision' = 0" in message and "greater than or equal to 1" in message


def test_cross_field_rule_is_enforced():
    with pytest.raises(ConfigError, match="chunk_overlap must be smaller than chunk_size"):
        settings_from_dict({"index": {"chunk_size": 64, "chunk_overlap": 64}}, Path("."), "p")


def test_broken_yaml_and_non_mapping_are_refused(tmp_path):
    (tmp_path / "params.yaml").write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(tmp_path)
    (tmp_path / "params.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(tmp_path)


def test_schedules_must_be_valid_cron():
    with pytest.raises(ConfigError, match=r"'index.schedule_cron' = '61 \* \* \* \*'.*cron"):
        settings_from_dict({"index": {"schedule_cron": "61 * * * *"}}, Path("."), "params.yaml")
