"""The counter-based generator: compiled and Python twins agree bit for bit, and the draws look
uniform and independent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from urbsim import rng, rng_py

U64 = st.integers(0, 2**64 - 1)
YEARS = st.integers(0, 99_999)
DRAWS = st.integers(0, rng.MAX_DRAWS - 1)

#: Fixed key of the statistical tests (any key will do; fixed so that they cannot flake).
KEY = int(rng.make_year_key(20101101, 2015))
N_STAT = 200_000
#: Thresholds at a p-value of about 1e-6: loose enough never to flake, tight enough to catch a
#: broken mixer (a missing multiply or shift gives p-values far below 1e-100 at this size).
KS_LIMIT = 2.69  # sqrt(n) * D; P(K > 2.69) = 2 exp(-2 * 2.69^2) ~ 1e-6
Z_LIMIT = 5.0  # |correlation| * sqrt(n); two-sided P ~ 6e-7


def _chi2_limit(df: int, z: float = 4.75) -> float:
    """Upper ``Phi(z)`` quantile of chi-square by Wilson-Hilferty (z = 4.75: p ~ 1e-6)."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


@njit
def _uniform_grid(key: np.uint64, h0: int, n_households: int, draws: np.ndarray) -> np.ndarray:
    out = np.empty((n_households, draws.shape[0]))
    for i in range(n_households):
        for k in range(draws.shape[0]):
            out[i, k] = rng.uniform(key, np.uint64(h0 + i), np.uint64(draws[k]))
    return out


@njit
def _pairs(key: np.uint64, n_households: int, draw: int) -> np.ndarray:
    out = np.empty((n_households, 2))
    for i in range(n_households):
        a, b = rng.uniform_pair(key, np.uint64(i), np.uint64(draw))
        out[i, 0] = a
        out[i, 1] = b
    return out


def _ks(u: np.ndarray) -> float:
    """sqrt(n) times the Kolmogorov-Smirnov distance of ``u`` to the uniform on [0, 1)."""
    x = np.sort(u)
    n = x.shape[0]
    i = np.arange(1, n + 1)
    d = max(float(np.max(i / n - x)), float(np.max(x - (i - 1) / n)))
    return math.sqrt(n) * d


def _chi2(u: np.ndarray, bins: int) -> float:
    counts = np.bincount(np.floor(u * bins).astype(np.int64), minlength=bins)
    expected = u.shape[0] / bins
    return float(((counts - expected) ** 2 / expected).sum())


def _corr_z(a: np.ndarray, b: np.ndarray) -> float:
    return abs(float(np.corrcoef(a, b)[0, 1])) * math.sqrt(a.shape[0])


# --- the twins agree ------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(seed=U64, year=YEARS)
def test_year_key_twins_agree(seed: int, year: int) -> None:
    compiled = rng.make_year_key(seed, year)
    assert isinstance(compiled, np.uint64)
    assert int(compiled) == rng_py.year_key(seed, year)
    assert int(rng.year_key(np.uint64(seed), np.uint64(year))) == rng_py.year_key(seed, year)


@settings(max_examples=500, deadline=None)
@given(key=U64, household=U64, draw=DRAWS)
def test_draw_bits_twins_agree(key: int, household: int, draw: int) -> None:
    k, h, d = np.uint64(key), np.uint64(household), np.uint64(draw)
    assert int(rng.draw_bits(k, h, d)) == rng_py.draw_bits(key, household, draw)
    assert rng.uniform(k, h, d) == rng_py.uniform(key, household, draw)
    assert rng.uniform_pair(k, h, d) == rng_py.uniform_pair(key, household, draw)


@settings(max_examples=200, deadline=None)
@given(seed=U64, year=YEARS, household=st.integers(0, 2**40), draw=DRAWS)
def test_full_chain_twins_agree(seed: int, year: int, household: int, draw: int) -> None:
    key = rng.make_year_key(seed, year)
    pkey = rng_py.year_key(seed, year)
    assert rng.uniform(key, np.uint64(household), np.uint64(draw)) == rng_py.uniform(
        pkey, household, draw
    )


def test_twins_agree_on_a_block_of_keys() -> None:
    """Many consecutive households and all low draw slots, against the compiled grid."""
    key = rng.make_year_key(7, 2020)
    draws = np.arange(16, dtype=np.int64)
    grid = _uniform_grid(key, 1_000_000, 200, draws)
    expected = [
        [rng_py.uniform(int(key), 1_000_000 + i, int(d)) for d in draws] for i in range(200)
    ]
    np.testing.assert_array_equal(grid, np.asarray(expected))


def test_known_values_are_stable() -> None:
    """SplitMix64's published first output for seed 0 pins the mixer itself."""
    # SplitMix64 with state 0: first output is mix(0 + gamma) = 0xE220A8397B1DCDAF.
    assert rng_py._mix(0x9E3779B97F4A7C15) == 0xE220A8397B1DCDAF
    assert int(rng._mix(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF


# --- ranges ---------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(key=U64, household=U64, draw=DRAWS)
def test_uniforms_in_unit_interval(key: int, household: int, draw: int) -> None:
    k, h, d = np.uint64(key), np.uint64(household), np.uint64(draw)
    u = rng.uniform(k, h, d)
    a, b = rng.uniform_pair(k, h, d)
    assert 0.0 <= u < 1.0
    assert 0.0 <= a < 1.0
    assert 0.0 <= b < 1.0
    bits = rng_py.draw_bits(key, household, draw)
    assert u == (bits >> 11) / 2.0**53
    assert (a, b) == ((bits >> 32) / 2.0**32, (bits & 0xFFFFFFFF) / 2.0**32)


def test_extreme_bits_map_inside_unit_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """The largest possible 53- and 32-bit values stay below 1, through the functions that map
    bits to uniforms (a scale of 1 / (2^53 - 1) or 1 / (2^32 - 1) would give exactly 1)."""
    ones = 2**64 - 1
    largest53, largest32 = 1.0 - 2.0**-53, 1.0 - 2.0**-32
    assert rng.pair_from_bits(np.uint64(ones)) == (largest32, largest32)
    assert float(np.uint64(ones) >> np.uint64(11)) * rng._INV53 == largest53
    monkeypatch.setattr(rng_py, "draw_bits", lambda key, household, draw: ones)
    assert rng_py.uniform(0, 0, 0) == largest53
    assert rng_py.uniform_pair(0, 0, 0) == (largest32, largest32)


# --- uniformity -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grid() -> np.ndarray:
    """N_STAT households x draw slots 0-3 of one key."""
    return _uniform_grid(np.uint64(KEY), 0, N_STAT, np.arange(4, dtype=np.int64))


@pytest.mark.parametrize("draw", [0, 1, 3])
def test_uniform_ks_and_chi_square(grid: np.ndarray, draw: int) -> None:
    u = grid[:, draw]
    assert _ks(u) < KS_LIMIT
    assert _chi2(u, 100) < _chi2_limit(99)
    assert abs(u.mean() - 0.5) * math.sqrt(12 * u.shape[0]) < Z_LIMIT


def test_uniform_pair_halves_are_uniform_and_independent() -> None:
    pairs = _pairs(np.uint64(KEY), N_STAT, 5)
    for col in (0, 1):
        assert _ks(pairs[:, col]) < KS_LIMIT
        assert _chi2(pairs[:, col], 100) < _chi2_limit(99)
    assert _corr_z(pairs[:, 0], pairs[:, 1]) < Z_LIMIT
    # Joint uniformity on a 10 x 10 grid (catches dependence a correlation misses).
    cell = np.floor(pairs[:, 0] * 10).astype(np.int64) * 10 + np.floor(pairs[:, 1] * 10).astype(
        np.int64
    )
    assert _chi2((cell + 0.5) / 100.0, 100) < _chi2_limit(99)


def test_consecutive_households_are_uniform_jointly(grid: np.ndarray) -> None:
    """Pairs (u[h], u[h + 1]) fill the unit square evenly (counter structure does not leak)."""
    u = grid[:, 0]
    a, b = u[:-1:2], u[1::2]
    cell = np.floor(a * 10).astype(np.int64) * 10 + np.floor(b * 10).astype(np.int64)
    assert _chi2((cell + 0.5) / 100.0, 100) < _chi2_limit(99)


# --- independence ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("d1", "d2"), [(0, 1), (0, 2), (1, 3), (2, 3)])
def test_independent_across_draw_index(grid: np.ndarray, d1: int, d2: int) -> None:
    assert _corr_z(grid[:, d1], grid[:, d2]) < Z_LIMIT


@pytest.mark.parametrize("lag", [1, 2, 256, 65536])
def test_independent_across_households(grid: np.ndarray, lag: int) -> None:
    u = grid[:, 0]
    assert _corr_z(u[:-lag], u[lag:]) < Z_LIMIT


def test_independent_across_years_and_seeds() -> None:
    draws = np.zeros(1, dtype=np.int64)
    n = 50_000
    base = _uniform_grid(rng.make_year_key(1, 2015), 0, n, draws)[:, 0]
    next_year = _uniform_grid(rng.make_year_key(1, 2016), 0, n, draws)[:, 0]
    next_seed = _uniform_grid(rng.make_year_key(2, 2015), 0, n, draws)[:, 0]
    assert _corr_z(base, next_year) < Z_LIMIT
    assert _corr_z(base, next_seed) < Z_LIMIT
    assert not np.array_equal(base, next_year)


def test_household_and_draw_slots_do_not_collide() -> None:
    """Within MAX_DRAWS, every (household, draw) has its own counter: a block of outputs holds
    no repeated 64-bit value."""
    bits = {rng_py.draw_bits(KEY, h, d) for h in range(64) for d in range(64)}
    assert len(bits) == 64 * 64


# --- make_year_key --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seed", "year"),
    [(-1, 2010), (2**64, 2010), (0, -1), (0, 100_000), (2**70, 0)],
)
def test_make_year_key_rejects_out_of_range(seed: int, year: int) -> None:
    with pytest.raises(ValueError, match=r"seed|year"):
        rng.make_year_key(seed, year)


@pytest.mark.parametrize(("seed", "year"), [(0, 0), (2**64 - 1, 99_999), (20101101, 2010)])
def test_make_year_key_accepts_edges(seed: int, year: int) -> None:
    key = rng.make_year_key(seed, year)
    assert isinstance(key, np.uint64)
    assert int(key) == rng_py.year_key(seed, year)


def test_make_year_key_distinguishes_seed_and_year() -> None:
    keys = {int(rng.make_year_key(s, y)) for s in range(20) for y in range(2010, 2036)}
    assert len(keys) == 20 * 26
