"""The first year's years away and children left behind (urbsim.world.away), on hand-made
arrays and on the synthetic world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from urbsim.scenario.schema import Behaviour
from urbsim.world.away import (
    AWAY_GROWTH,
    EARLIEST_LEAVING_AGE,
    LEFT_BEHIND_SHARE_2010,
    P_YEARS_AWAY,
    initial_away,
    years_away_from,
)
from urbsim.world.base import MIGRANT_YEARS_CAP, P_MIGRANT_YEARS
from urbsim.world.synthetic import build_synthetic_world


def _years_here(rng: np.random.Generator, n: int) -> np.ndarray:
    """Years here as the worlds draw them for migrants."""
    return np.minimum(rng.geometric(P_MIGRANT_YEARS, n) - 1, MIGRANT_YEARS_CAP)


def test_years_away_and_left_behind_by_hukou_type() -> None:
    """Floating households get years away of at least their years here; those with
    school-age children left them behind with the share of their hukou type (five binomial
    standard errors); households at home, or without school-age children, have none."""
    n = 200_000
    idx = np.arange(n)
    rng = np.random.default_rng(5)
    place = np.where(idx % 5 == 0, 3, 7)  # a fifth live at their hukou place 3
    hukou_place = np.full(n, 3)
    hukou_type = (idx % 2).astype(np.uint8)
    years_here = _years_here(rng, n)
    children = np.where(idx % 3 == 0, 0, 1 + idx % 3)
    head_age = np.full(n, 40)
    u_left, u_years = rng.random(n), rng.random(n)
    years_away, left = initial_away(
        u_left, u_years, place, hukou_place, hukou_type, years_here, head_age, children
    )
    away = place != hukou_place
    assert years_away.dtype == np.uint8 and left.dtype == np.uint8
    # The years away come from the second uniform (the first is the children's).
    np.testing.assert_array_equal(
        years_away[away], years_away_from(u_years, years_here, head_age)[away]
    )
    assert (years_away[away] >= years_here[away]).all()
    assert (years_away[~away] == 0).all() and (left[~away] == 0).all()
    assert (left[children == 0] == 0).all()
    for hukou, share in enumerate(LEFT_BEHIND_SHARE_2010):
        group = away & (children > 0) & (hukou_type == hukou)
        tol = 5 * math.sqrt(share * (1 - share) / group.sum())
        assert abs(left[group].mean() - share) < tol


def test_years_away_are_the_steady_stock() -> None:
    """The years away follow the geometric of a steady stock whatever the years here: their
    shares at 0-5 years and beyond match 1 - (1 - hazard) / (1 + growth) within five binomial
    standard errors; the growth is the census's 81.03 % over ten years."""
    assert (1.0 + AWAY_GROWTH) ** 10 == pytest.approx(1.8103)
    assert P_YEARS_AWAY == pytest.approx(0.0868, abs=1e-4)
    n = 400_000
    rng = np.random.default_rng(11)
    years = years_away_from(rng.random(n), _years_here(rng, n), np.full(n, 200))
    for a in range(6):
        share = P_YEARS_AWAY * (1.0 - P_YEARS_AWAY) ** a
        tol = 5 * math.sqrt(share * (1 - share) / n)
        assert abs((years == a).mean() - share) < tol, a
    tail = (1.0 - P_YEARS_AWAY) ** 6
    assert abs((years >= 6).mean() - tail) < 5 * math.sqrt(tail * (1 - tail) / n)


def test_years_away_by_hand() -> None:
    """Hand-computed cases: years here 0 with the second uniform at 0 stands for the
    comonotone uniform 0 (years away 0); years here 2 at 0.5 stands for 1 - w = 0.82^2 *
    (1 - 0.09), whose quantile under 0.0868 is floor(ln(0.6119) / ln(0.9132)) = 5; capped
    years here 10 at 0.999 stand for a far tail, cut at the head's age 30 less 16; the head's
    age never cuts below the years here."""
    u = np.array([0.0, 0.5, 0.999, 0.999])
    here = np.array([0, 2, 10, 10])
    age = np.array([40, 40, 30, 8])
    q = math.log1p(-P_YEARS_AWAY)
    expected_2 = math.floor(math.log(0.82**2 * (1 - 0.5 * 0.18)) / q)
    assert expected_2 == 5
    assert EARLIEST_LEAVING_AGE == 16
    np.testing.assert_array_equal(years_away_from(u, here, age), [0, expected_2, 14, 10])


def test_years_away_monotone_in_both_uniforms() -> None:
    """More years here, or a later place within their interval, never give fewer years away
    (the comonotone join: the longest at their place are the longest away)."""
    u = np.linspace(0.0, 0.999, 500)
    for k in range(MIGRANT_YEARS_CAP + 1):
        years = years_away_from(u, np.full(u.size, k), np.full(u.size, 255))
        assert (np.diff(years) >= 0).all()
        if k < MIGRANT_YEARS_CAP:
            nxt = years_away_from(u, np.full(u.size, k + 1), np.full(u.size, 255))
            assert years.max() <= nxt.min()


def test_shares_are_the_behaviour_defaults() -> None:
    """The 2010 stock and the later decisions start from the same documented shares."""
    b = Behaviour()
    assert LEFT_BEHIND_SHARE_2010 == (b.left_behind_agricultural, b.left_behind_nonagricultural)


@pytest.mark.slow
def test_synthetic_world_has_children_left_behind_only_away() -> None:
    hh = build_synthetic_world(4000.0, seed=3).households
    away = hh.place != hh.hukou_place
    assert (hh.years_away[~away] == 0).all() and (hh.left_behind[~away] == 0).all()
    assert (hh.years_away[away] >= hh.years_here[away]).all()
    limit = np.maximum(hh.head_age[away].astype(int) - EARLIEST_LEAVING_AGE, hh.years_here[away])
    assert (hh.years_away[away] <= limit).all()
    with_children = away & (hh.children > 0)
    assert 0.3 < hh.left_behind[with_children].mean() < 0.8
    assert (hh.left_behind[hh.children == 0] == 0).all()
