"""BM25 sparse vectors: tokenisation, weights that depend only on the text, blob round trip."""

from __future__ import annotations

import numpy as np
import pytest

from ragtune.index import sparse


def test_tokenize_keeps_compound_names_whole_and_in_parts() -> None:
    terms = sparse.tokenize(
        "Install qdrant-client 1.20.0 with --no-deps; call read_csv() in a loop."
    )
    assert "qdrant-client" in terms and "qdrant" in terms and "client" in terms
    assert "1.20.0" in terms and "20" in terms
    assert "no-deps" in terms and "read_csv" in terms and "csv" in terms
    assert "with" not in terms and "a" not in terms and "in" not in terms


def test_document_weights_saturate_and_depend_only_on_text() -> None:
    one = sparse.encode_document("lounge hours")
    many = sparse.encode_document("lounge lounge lounge lounge hours")
    again = sparse.encode_document("lounge hours")
    assert np.array_equal(one.indices, again.indices) and np.array_equal(one.values, again.values)
    assert list(one.indices) == sorted(one.indices)
    lounge = sparse.zlib.crc32(b"lounge")
    weight_one = one.values[list(one.indices).index(lounge)]
    weight_many = many.values[list(many.indices).index(lounge)]
    # More occurrences weigh more, but never beyond k1 + 1.
    assert weight_one < weight_many < sparse.K1 + 1


def test_longer_chunks_weigh_each_term_less() -> None:
    short = sparse.encode_document("refund policy")
    long = sparse.encode_document("refund policy " + " ".join(f"word{i}" for i in range(300)))
    refund = sparse.zlib.crc32(b"refund")
    assert (
        long.values[list(long.indices).index(refund)]
        < short.values[list(short.indices).index(refund)]
    )


def test_query_counts_each_term_once() -> None:
    query = sparse.encode_query("refund refund policy")
    assert len(query.indices) == 2 and set(query.values.tolist()) == {1.0}


def test_colliding_terms_share_a_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparse, "_index", lambda term: 7)
    vector = sparse.encode_document("alpha beta")
    assert vector.indices.tolist() == [7]
    norm = sparse.K1 * (1 - sparse.B + sparse.B * 2 / sparse.AVERAGE_LENGTH)
    assert vector.values[0] == pytest.approx(2 * (sparse.K1 + 1) / (1 + norm))


def test_blob_round_trip() -> None:
    vector = sparse.encode_document("Orvelle lounge closes at nine on Fridays")
    back = sparse.SparseVector.from_bytes(*vector.to_bytes())
    assert np.array_equal(back.indices, vector.indices)
    assert np.allclose(back.values, vector.values)


def test_retrieval_mode_is_validated_with_the_allowed_values() -> None:
    from pathlib import Path

    from ragtune.config import settings_from_dict
    from ragtune.errors import ConfigError

    assert settings_from_dict({}, Path("."), "params.yaml").index.retrieval == "hybrid"
    with pytest.raises(ConfigError) as excinfo:
        settings_from_dict({"index": {"retrieval": "bm25"}}, Path("."), "params.yaml")
    message = str(excinfo.value)
    assert "'index.retrieval' = 'bm25'" in message and "'sparse' or 'hybrid'" in message
