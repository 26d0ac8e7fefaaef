"""The console front door, run as a user would: `python -m ragtune ...` in a project."""

import subprocess
import sys


def ragtune(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "ragtune", *args], cwd=project, capture_output=True, text=True
    )


def test_help_lists_the_data_commands(project_dir):
    result = ragtune(project_dir, "--help")
    assert result.returncode == 0
    for command in ("data", "validate", "demo"):
        assert command in result.stdout
    result = ragtune(project_dir, "data", "--help")
    for command in ("generate", "snapshot", "prepare", "revision"):
        assert command in result.stdout


def test_generate_twice_is_byte_identical_and_revisions_differ(project_dir):
    for name, revision in (("a", 1), ("b", 1), ("c", 2)):
        result = ragtune(
            project_dir,
            "data",
            "generate",
            "--out",
            name,
            "--revision",
            str(revision),
            "--seed",
            "9",
            "--docs",
            "40",
        )
        assert result.returncode == 0, result.stderr
    for name in ("docs", "qa", "behaviour"):
        first = (project_dir / "a" / f"{name}.jsonl").read_bytes()
        assert first == (project_dir / "b" / f"{name}.jsonl").read_bytes()
        assert first != (project_dir / "c" / f"{name}.jsonl").read_bytes()


def test_bad_params_fail_with_one_clear_line(project_dir):
    params = project_dir / "params.yaml"
    params.write_text(params.read_text().replace("  revision: 1\n", "  revision: 0\n", 1))
    result = ragtune(project_dir, "data", "generate")
    assert result.returncode == 1
    assert "'data.revision' = 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_prepare_refuses_broken_input_naming_file_and_line(project_dir):
    assert ragtune(project_dir, "data", "generate", "--docs", "30").returncode == 0
    docs = project_dir / "data" / "raw" / "docs.jsonl"
    docs.write_bytes(docs.read_bytes() + b'{"doc_id": "broken"\n')
    result = ragtune(project_dir, "data", "prepare")
    assert result.returncode == 1
    assert "docs.jsonl:" in result.stderr and "broken JSON" in result.stderr
    assert not (project_dir / "data" / "prepared").exists(), "nothing half-written"
