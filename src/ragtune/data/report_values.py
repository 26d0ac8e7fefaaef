"""Values from the data as they may appear in reports: cut to a readable length.

A document is untrusted input: its text can be 20 MB or carry ``<script>``. The terminal
report, summary.json and the Data Docs (:mod:`ragtune.data.data_docs`, which also escapes
them) show values cut here.
"""

from __future__ import annotations

from typing import Any

MAX_EXAMPLE_CHARS = 300
"""Longest value shown in the terminal, summary.json or Data Docs; longer ones are cut."""


def clip(value: Any, limit: int = MAX_EXAMPLE_CHARS) -> Any:
    """A string longer than ``limit`` cut, with its full length shown; other values unchanged."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value):,} chars)"
    return value


def clip_all(value: Any) -> Any:
    """``clip`` applied to every string inside lists, tuples and dicts."""
    return _walk(value, clip)


def _walk(value: Any, leaf: Any) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item, leaf) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(item, leaf) for item in value)
    return leaf(value)
