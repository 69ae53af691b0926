"""The one size-class rule of ``urbsim.world.base`` (issue 11) on hand-made prefectures.

A prefecture city is classed by the urban residents of its urban districts; a prefecture without
districts by the urban residents of all its places. The model (``urbsim.places.size_classes``),
the census build and the synthetic world's class counts all use it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.places import size_classes
from urbsim.world.base import (
    DISTRICT,
    SIZE_CLASS_BOUNDS,
    SIZE_CLASSES,
    PlaceTable,
    prefecture_city_size,
    size_class_of,
)
from urbsim.world.synthetic import size_class_counts

M = 1e6


def _table(kind: list[int], urban: list[float], pref: list[int]) -> PlaceTable:
    n = len(kind)
    return PlaceTable(
        code=np.arange(110101, 110101 + n),
        name=np.array([f"p{i}" for i in range(n)], dtype=object),
        province_code=np.full(n, 11),
        prefecture_code=np.asarray(pref),
        region=np.zeros(n),
        kind=np.asarray(kind),
        lon=np.full(n, 116.0),
        lat=np.full(n, 40.0),
        is_capital=np.zeros(n, dtype=bool),
        residents=np.asarray(urban) * 2.0 + 1.0,
        urban_residents=np.asarray(urban, dtype=np.float64),
    )


def _reference(kind: list[int], urban: list[float], pref: list[int]) -> list[int]:
    """The rule written out place by place (classes of each place's prefecture)."""
    out = []
    for p in pref:
        members = [i for i in range(len(kind)) if pref[i] == p]
        districts = [i for i in members if kind[i] == DISTRICT]
        city = sum(urban[i] for i in (districts or members))
        out.append(next(c for c, lo in enumerate(SIZE_CLASS_BOUNDS) if city >= lo))
    return out


@pytest.mark.parametrize(
    ("kind", "urban", "expected"),
    [
        # districts only count: 0.6 M in the district is medium, the county's 5 M is ignored
        ([0, 1], [0.6 * M, 5 * M], "medium"),
        # no district (e.g. province-administered units PP9000): all units, 0.3 + 0.3 = medium
        ([1, 2], [0.3 * M, 0.3 * M], "medium"),
        ([2], [0.2 * M], "small"),
        ([0, 0, 1], [6 * M, 5 * M, 1 * M], "super-large"),
        ([0], [10 * M], "super-large"),  # bounds are inclusive
        ([0], [10 * M - 1], "mega"),
        ([0], [3 * M], "large I"),
        ([0], [1 * M], "large II"),
        ([0], [0.5 * M], "medium"),
        ([0], [0.5 * M - 1], "small"),
        ([0, 1], [0.0, 2 * M], "small"),  # a district with no urban residents: still a city
    ],
)
def test_size_class_of_hand_made_prefectures(
    kind: list[int], urban: list[float], expected: str
) -> None:
    pref = [0] * len(kind)
    city = prefecture_city_size(np.asarray(kind), np.asarray(urban), np.asarray(pref), 1)
    assert SIZE_CLASSES[int(size_class_of(city)[0])] == expected
    model = size_classes(_table(kind, urban, [110100] * len(kind)), np.asarray(urban), pref, 1)
    assert [SIZE_CLASSES[c] for c in model] == [expected] * len(kind)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2]),
            st.floats(0.0, 12e6, allow_nan=False),
            st.integers(0, 4),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_size_classes_agree_with_the_rule_written_out(
    places: list[tuple[int, float, int]],
) -> None:
    kind = [k for k, _, _ in places]
    urban = [u for _, u, _ in places]
    pref = [p for _, _, p in places]
    _, index = np.unique(pref, return_inverse=True)
    got = size_classes(
        _table(kind, urban, [110100 + 100 * p for p in pref]),
        np.asarray(urban),
        index,
        int(index.max()) + 1,
    )
    assert got.tolist() == _reference(kind, urban, pref)


def test_synthetic_class_counts_use_the_rule_for_prefectures_without_districts() -> None:
    """Issue 11: the counts once classed a prefecture without districts by 0 urban residents
    (small) while the model classes it by all its places (here 2 M: large II)."""
    table = _table([0, 1, 1, 2], [6 * M, 1 * M, 1.2 * M, 0.8 * M], [110100, 110100, 429000, 429000])
    counts = size_class_counts(table)
    assert counts.tolist() == [0, 1, 0, 1, 0, 0]
