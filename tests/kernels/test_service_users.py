"""Users of the age-specific public services, counted by place and access category, on
hand-made households (urbsim.kernels.aggregate.count_service_users)."""

from __future__ import annotations

import numpy as np
import pytest

from urbsim.households import FIELDS
from urbsim.kernels import aggregate as A


def _households(rows: list[dict[str, int]]) -> dict[str, np.ndarray]:
    return {
        name: np.array([r.get(name, 0) for r in rows], dtype=field.dtype)
        for name, field in FIELDS.items()
    }


def test_children_and_elderly_by_access_category_urban_only() -> None:
    hh = _households(
        [
            # place 0, local, urban: 2 children, head 35 (aged 59 would not count either)
            {"place": 0, "hukou_place": 0, "zone": 1, "children": 2, "head_age": 35, "persons": 4},
            # place 0, migrant without permit, urban: 1 child; head 60+, 3 persons
            {"place": 0, "hukou_place": 1, "zone": 1, "children": 1, "head_age": 60, "persons": 3},
            # place 0, permit holder after 5 years (schedule of 3: last column), head 60+
            {
                "place": 0,
                "hukou_place": 1,
                "zone": 1,
                "permit": 1,
                "years_here": 5,
                "children": 0,
                "head_age": 60,
                "persons": 2,
            },
            # place 1, rural zone: not counted
            {"place": 1, "hukou_place": 1, "zone": 0, "children": 3, "head_age": 60, "persons": 5},
            # place 1, dissolved household: not counted
            {"place": 1, "hukou_place": 1, "zone": 1, "children": 1, "head_age": 60, "persons": 0},
        ]
    )
    children, elderly = A.count_service_users(hh, n_places=2, n_access=3)
    # columns: full, base, permit after 0, 1, 2+ years
    np.testing.assert_array_equal(children, [[2, 1, 0, 0, 0], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(elderly, [[0, 3, 0, 0, 2], [0, 0, 0, 0, 0]])


def test_bad_sizes_are_refused() -> None:
    hh = _households([{"place": 0, "hukou_place": 0, "persons": 1}])
    with pytest.raises(ValueError, match="positive"):
        A.count_service_users(hh, n_places=1, n_access=0)


def test_children_left_behind_do_not_use_the_schools_where_the_household_lives() -> None:
    """Two migrant households at place 0 with 2 school-age children each; one left them at its
    hukou place: only the other's count, while both heads' households count for elderly care."""
    row = {"place": 0, "hukou_place": 1, "zone": 1, "children": 2, "head_age": 62, "persons": 4}
    hh = _households([row, {**row, "left_behind": 1}])
    children, elderly = A.count_service_users(hh, n_places=2, n_access=1)
    np.testing.assert_array_equal(children, [[0, 2, 0], [0, 0, 0]])
    np.testing.assert_array_equal(elderly, [[0, 8, 0], [0, 0, 0]])
