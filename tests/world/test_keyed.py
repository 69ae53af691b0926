"""Keyed draws of the world build (urbsim.world.keyed): the kernels' generator on its own
stream, and the inversions that turn one uniform into a Poisson or geometric draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from urbsim import rng_py
from urbsim.world.keyed import (
    WORLD_YEAR,
    KeyedDraws,
    geometric_from_uniform,
    poisson_from_uniform,
)


def test_draws_are_the_kernels_generator_keyed_by_agent_and_draw() -> None:
    d = KeyedDraws(seed=42, first=1000, n=5)
    key = rng_py.year_key(42, WORLD_YEAR)
    expected = [rng_py.uniform(key, 1000 + i, 7) for i in range(5)]
    np.testing.assert_array_equal(d.uniform(7), expected)
    # A chunk starting elsewhere gives the same agent the same draw.
    np.testing.assert_array_equal(KeyedDraws(42, 1002, 3).uniform(7), expected[2:])
    grid = d.uniform_grid(7, 3)
    assert grid.shape == (5, 3)
    np.testing.assert_array_equal(grid[:, 0], expected)
    np.testing.assert_array_equal(grid[:, 2], d.uniform(9))
    assert (d.exponential(7) == -np.log1p(-np.asarray(expected))).all()


def test_draw_numbers_and_agents_are_checked() -> None:
    d = KeyedDraws(1, 0, 4)
    with pytest.raises(ValueError, match="draws"):
        d.uniform(-1)
    with pytest.raises(ValueError, match="draws"):
        d.uniform_grid(65535, 2)
    with pytest.raises(ValueError, match="agents"):
        KeyedDraws(1, -1, 4)


def test_poisson_by_inversion_has_the_poisson_distribution() -> None:
    u = KeyedDraws(3, 0, 200_000).uniform(0)
    for lam in (0.0, 0.7, 2.4):
        k = poisson_from_uniform(np.full(u.shape[0], lam), u, 30)
        counts = np.bincount(k, minlength=12)[:12]
        expected = stats.poisson.pmf(np.arange(12), lam) * u.shape[0]
        keep = expected > 5
        if keep.sum() == 1:  # lam = 0: every draw is 0
            assert (k == 0).all()
            continue
        chi2 = (((counts - expected) ** 2 / expected)[keep]).sum()
        assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1)
    # The cap: no draw above it.
    assert poisson_from_uniform(np.full(u.shape[0], 5.0), u, 3).max() == 3
    with pytest.raises(ValueError):
        poisson_from_uniform(np.array([-1.0]), np.array([0.5]), 3)


def test_geometric_by_inversion() -> None:
    u = KeyedDraws(4, 0, 200_000).uniform(0)
    g = geometric_from_uniform(0.25, u)
    assert g.min() == 1
    # Mean 1 / p, variance (1 - p) / p**2: five standard errors.
    assert abs(g.mean() - 4.0) < 5 * math.sqrt(0.75 / 0.0625 / u.shape[0])
    with pytest.raises(ValueError, match="p must"):
        geometric_from_uniform(1.0, u)


def test_the_steps_draw_numbers_are_disjoint_and_the_world_key_is_its_own() -> None:
    from urbsim.kernels.layout import LAND_YEAR
    from urbsim.rng import MAX_DRAWS
    from urbsim.world.census_households import draw_ranges

    ranges = draw_ranges()
    assert {"D_PERSONS", "D_ADJUST", "D_ZONE", "D_KIDS", "D_AWAY"} <= set(ranges)
    numbers = [d for r in ranges.values() for d in r]
    assert len(numbers) == len(set(numbers)), "two steps share a draw number"
    assert max(numbers) < MAX_DRAWS and min(numbers) >= 0
    # Not a simulated year's key, nor the land values' slot.
    assert WORLD_YEAR != LAND_YEAR and WORLD_YEAR < 2000


def test_poisson_mass_above_the_cap_is_on_the_cap() -> None:
    u = KeyedDraws(5, 0, 400_000).uniform(1)
    k = poisson_from_uniform(np.full(u.shape[0], 2.0), u, 3)
    at_cap = (k == 3).mean()
    p = stats.poisson.sf(2, 2.0)  # P(X >= 3)
    assert abs(at_cap - p) < 5 * math.sqrt(p * (1 - p) / u.shape[0])
