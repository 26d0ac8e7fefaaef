"""The validation gate on hand-written records: missing, failed, other data, passed."""

from __future__ import annotations

import json

import pytest

from ragtune.data.gate import HASH_KEY, prepared_data_hash, require_validated, summary_path
from ragtune.errors import DataNotValidated, RagtuneError


def _prepare(settings, docs: str = '{"doc_id": "a"}\n') -> None:
    prepared = settings.path(settings.prepare.prepared_dir)
    prepared.mkdir(parents=True, exist_ok=True)
    (prepared / "docs.jsonl").write_text(docs, encoding="utf-8")


def _record(settings, success: bool, prepared_hash: str) -> None:
    path = summary_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"success": success, HASH_KEY: prepared_hash}), encoding="utf-8")


def test_hash_covers_names_and_bytes(tmp_path) -> None:
    (tmp_path / "a.jsonl").write_text("x")
    first = prepared_data_hash(tmp_path)
    (tmp_path / "a.jsonl").rename(tmp_path / "b.jsonl")
    renamed = prepared_data_hash(tmp_path)
    (tmp_path / "b.jsonl").write_text("y")
    assert len({first, renamed, prepared_data_hash(tmp_path)}) == 3


def test_passes_only_for_exactly_the_validated_data(settings) -> None:
    _prepare(settings)
    prepared = settings.path(settings.prepare.prepared_dir)
    _record(settings, True, prepared_data_hash(prepared))
    assert require_validated(settings) == prepared_data_hash(prepared)

    _prepare(settings, '{"doc_id": "b"}\n')
    with pytest.raises(DataNotValidated, match="changed since it was validated.*ragtune validate"):
        require_validated(settings)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (None, "no validation record.*run `ragtune validate`"),
        (False, "failed validation.*ragtune validate"),
    ],
)
def test_refuses_missing_or_failed_record(settings, record, message) -> None:
    _prepare(settings)
    if record is not None:
        _record(settings, record, prepared_data_hash(settings.path(settings.prepare.prepared_dir)))
    with pytest.raises(DataNotValidated, match=message) as refused:
        require_validated(settings)
    assert isinstance(refused.value, RagtuneError) and "\n" not in str(refused.value)


def test_refuses_without_prepared_data(settings) -> None:
    with pytest.raises(DataNotValidated, match="ragtune data prepare"):
        require_validated(settings)
