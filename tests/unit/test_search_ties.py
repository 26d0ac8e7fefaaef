"""Tied scores (RRF ties exactly) are ordered by point id, whatever order the engine used."""

from __future__ import annotations

from types import SimpleNamespace

from ragtune.index.search import _top


def test_equal_scores_are_ordered_by_id_and_higher_scores_come_first() -> None:
    points = [
        SimpleNamespace(id="c", score=0.5),
        SimpleNamespace(id="b", score=0.7),
        SimpleNamespace(id="z", score=0.5),
        SimpleNamespace(id="a", score=0.5),
    ]
    ordered = [[point.id for point in found] for found in _top([points], 3)]
    assert ordered == [["b", "a", "c"]]
    again = [[point.id for point in found] for found in _top([list(reversed(points))], 3)]
    assert again == ordered
