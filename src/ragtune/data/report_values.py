"""Values from the data as they may appear in reports: cut to a readable length, HTML-escaped.

A document is untrusted input: its text can be 20 MB or carry ``<script>``. Great Expectations
writes failing values into Data Docs table cells without escaping them, so the validation
results are copied, cut and escaped here before any page is rendered from them.
"""

from __future__ import annotations

import copy
import html
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


def html_safe(value: Any) -> Any:
    """Every string inside ``value`` clipped and HTML-escaped (quotes too), structure kept."""
    return _walk(value, lambda item: html.escape(clip(item)) if isinstance(item, str) else item)


def safe_suite_result(suite_result: Any) -> Any:
    """A copy of a GX suite validation result whose observed values are safe to render."""
    safe = copy.deepcopy(suite_result)
    for expectation_result in safe.results:
        expectation_result.result = html_safe(expectation_result.result or {})
    return safe


def _walk(value: Any, leaf: Any) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item, leaf) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(item, leaf) for item in value)
    return leaf(value)
