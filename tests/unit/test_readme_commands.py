"""Every `ragtune …` command the README shows exists, with the options it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ragtune.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
FENCED_BASH = re.compile(r"^\s*```bash\n(.*?)^\s*```", re.DOTALL | re.MULTILINE)


def readme_commands() -> list[str]:
    """`ragtune …` invocations in the README's bash blocks (one per `&&`/`;`-separated part)."""
    commands = []
    for block in FENCED_BASH.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            code = line.split(" #")[0].strip()
            for part in re.split(r"&&|;|\|", code):
                if part.strip().startswith("ragtune "):
                    commands.append(part.strip())
    return commands


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def resolve(words: list[str]) -> tuple[list[Any], list[str]]:
    """The chain of (typer's click) commands the words name, and the words left after it."""
    chain: list[Any] = [typer.main.get_command(app)]
    rest = words
    while rest and is_group(chain[-1]) and rest[0] in chain[-1].commands:
        chain.append(chain[-1].commands[rest[0]])
        rest = rest[1:]
    return chain, rest


def test_readme_shows_commands() -> None:
    assert len(readme_commands()) >= 15


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_exists_with_its_options(command: str) -> None:
    words = shlex.split(command.replace("[", " ").replace("]", " "))[1:]
    chain, rest = resolve(words)
    assert len(chain) > 1, f"`{command}`: no such ragtune command"
    last = chain[-1]
    if is_group(last) and not last.invoke_without_command:
        pytest.fail(f"`{command}`: '{rest[0] if rest else ''}' is not a command of the group")
    known = {opt for cmd in chain for param in cmd.params for opt in param.opts}
    for word in rest:
        if word.startswith("-"):
            assert word.split("=")[0] in known, f"`{command}`: unknown option {word}"
    path = [cmd.name for cmd in chain[1:]]
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
