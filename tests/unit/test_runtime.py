import os

from ragtune.runtime import configure_environment, offline_defaults


def test_defaults_fill_unset_and_empty_but_never_override(tmp_path, monkeypatch):
    for key in offline_defaults(tmp_path):  # restored by monkeypatch after the test
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    configure_environment(tmp_path)

    assert os.environ["PREFECT_HOME"] == str(tmp_path.resolve() / ".prefect")
    assert os.environ["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert os.environ["HF_HUB_OFFLINE"] == "0", "a user's own setting wins"
