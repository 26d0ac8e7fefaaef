"""Bad settings and unreachable services end in one line naming the culprit, exit 1."""

import os
import socket
import subprocess
import sys


def ragtune(project, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "ragtune", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_non_utf8_params_is_one_line(project_dir):
    params = project_dir / "params.yaml"
    params.write_bytes(params.read_bytes().replace(b"ragtune-staging", b"ragtune-st\xe4ging"))
    result = ragtune(project_dir, "data", "prepare")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"{params}: not UTF-8" in result.stderr


def test_unreachable_qdrant_server_is_one_line_naming_the_url(project_dir):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = ragtune(project_dir, "index", "status", QDRANT_URL=url)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert f"cannot reach the Qdrant server at QDRANT_URL={url}" in result.stderr


def test_a_query_longer_than_the_embedding_model_reads_is_refused(project_dir):
    result = ragtune(project_dir, "index", "query", "pump " * 20_000)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result)
    assert "the query is 20002 tokens (100,000 characters)" in line and "at most 256" in line


def test_a_missing_project_or_params_file_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere"
    result = ragtune(tmp_path, "-C", str(missing), "index", "status")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result)
    assert line.startswith(f"error: {missing}: no such project directory")
    assert result.stderr.strip() == line and not missing.exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    result = ragtune(empty, "index", "status")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result)
    assert line.startswith(f"error: {empty / 'params.yaml'}: not found")
    assert list(empty.iterdir()) == []


def test_a_missing_collection_is_refused_before_the_embedding_model_loads(project_dir):
    query = ["index", "query", "What is covered?", "--collection", "x"]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ragtune", *query],
        cwd=project_dir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    (line,) = error_lines(result)
    assert "Qdrant has no collection or alias 'x'" in line
    imported = [entry.split("|")[-1].strip() for entry in result.stderr.splitlines()]
    assert "tokenizers" in imported  # the query's length was measured …
    assert "sentence_transformers" not in imported and "torch" not in imported  # … no model
