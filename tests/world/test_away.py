"""The first year's years away and children left behind (urbsim.world.away), on hand-made
arrays and on the synthetic world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from urbsim.scenario.schema import Behaviour
from urbsim.world.away import LEFT_BEHIND_SHARE_2010, initial_away
from urbsim.world.synthetic import build_synthetic_world


def test_years_away_and_left_behind_by_hukou_type() -> None:
    """Floating households count their years here as years away; those with school-age
    children left them behind with the share of their hukou type (five binomial standard
    errors); households at home, or without school-age children, have none left behind."""
    n = 200_000
    idx = np.arange(n)
    place = np.where(idx % 5 == 0, 3, 7)  # a fifth live at their hukou place 3
    hukou_place = np.full(n, 3)
    hukou_type = (idx % 2).astype(np.uint8)
    years_here = idx % 300  # beyond the cap of 255 too
    children = np.where(idx % 3 == 0, 0, 1 + idx % 3)
    years_away, left = initial_away(
        np.random.default_rng(5).random(n), place, hukou_place, hukou_type, years_here, children
    )
    away = place != hukou_place
    assert years_away.dtype == np.uint8 and left.dtype == np.uint8
    np.testing.assert_array_equal(years_away[away], np.minimum(years_here[away], 255))
    assert (years_away[~away] == 0).all() and (left[~away] == 0).all()
    assert (left[children == 0] == 0).all()
    for hukou, share in enumerate(LEFT_BEHIND_SHARE_2010):
        group = away & (children > 0) & (hukou_type == hukou)
        tol = 5 * math.sqrt(share * (1 - share) / group.sum())
        assert abs(left[group].mean() - share) < tol


def test_shares_are_the_behaviour_defaults() -> None:
    """The 2010 stock and the later decisions start from the same documented shares."""
    b = Behaviour()
    assert LEFT_BEHIND_SHARE_2010 == (b.left_behind_agricultural, b.left_behind_nonagricultural)


@pytest.mark.slow
def test_synthetic_world_has_children_left_behind_only_away() -> None:
    hh = build_synthetic_world(4000.0, seed=3).households
    away = hh.place != hh.hukou_place
    assert (hh.years_away[~away] == 0).all() and (hh.left_behind[~away] == 0).all()
    np.testing.assert_array_equal(hh.years_away[away], hh.years_here[away])
    with_children = away & (hh.children > 0)
    assert 0.3 < hh.left_behind[with_children].mean() < 0.8
    assert (hh.left_behind[hh.children == 0] == 0).all()
