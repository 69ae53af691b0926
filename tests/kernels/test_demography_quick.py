"""The quick tests of a household's demographic year (:func:`live_demography` skips the chained
draws of deaths, births and leaving home when the uniform surely misses every event) give the
result of the chains themselves, on households and schedules drawn at random, high mortality
and fertility included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.kernels import layout as L
from urbsim.kernels.demography import (
    _births,
    _deaths,
    _leavers,
    _surely_none,
    highest_bit,
    live_demography,
    popcount,
    quick_bounds,
    school_children,
)

_U32 = st.integers(0, 2**32 - 1).map(lambda b: b / 2**32)


def _chains_only(
    p: int, a: int, k: int, us: tuple[float, float, float], z: int, f: float, vital: tuple
) -> tuple[int, int, int, int, np.ndarray]:
    """The demographic year with every chain run: persons, head's age, children, leavers and
    the counters (deaths, births, dissolved, left home)."""
    fertility, mortality, leaving = vital
    row = np.zeros(L.N_COUNT, dtype=np.int64)
    adults, k_left = _deaths(us[0], p - popcount(k), k, mortality[z, a], mortality[z])
    died = p - adults - popcount(k_left)
    k, p = k_left, p - died
    row[L.C_DEATHS] += died
    if adults == 0:
        if k == 0:
            row[L.C_DISSOLVED] += 1
            return 0, a, 0, 0, row
        a = highest_bit(k)
        k &= ~(1 << a)
        adults = 1
    k, born = _births(us[1], adults // 2, fertility[z, a] * f, k, p)
    row[L.C_BIRTHS] += born
    left = _leavers(us[2], k, leaving)
    row[L.C_LEFT_HOME] += popcount(left)
    persons = p + born - popcount(left)
    kids = ((k & ~left) << 1) & 0xFFFFFFFF
    return persons, min(a + 1, L.MAX_AGE), kids, left, row


@st.composite
def _vital(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Schedules from zero to high rates, so that the slow paths are exercised too."""
    size = (2, L.MAX_AGE + 1)
    scale = draw(st.sampled_from([0.001, 0.05, 0.6]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    fertility = rng.uniform(0.0, scale, size)
    mortality = rng.uniform(0.0, scale, size)
    mortality[:, L.MAX_AGE] = 1.0
    leave_from = draw(st.integers(14, L.KID_AGES - 1))
    leaving = np.where(np.arange(L.KID_AGES) >= leave_from, rng.uniform(0.0, 1.0), 0.0)
    leaving[-1] = 1.0
    return fertility, mortality, leaving


@settings(max_examples=400, deadline=None)
@given(
    vital=_vital(),
    persons=st.integers(1, L.MAX_PERSONS),
    age=st.integers(15, L.MAX_AGE),
    kids=st.integers(0, 2**32 - 1),
    us=st.tuples(_U32, _U32, _U32),
    zone=st.integers(0, 1),
    factor=st.floats(0.5, 1.5),
)
def test_quick_tests_give_the_chains_result(
    vital: tuple, persons: int, age: int, kids: int, us: tuple, zone: int, factor: float
) -> None:
    fertility, mortality, leaving = vital
    kids &= (1 << L.KID_AGES) - 1
    while popcount(kids) > persons:  # children are persons of the household
        kids &= kids - 1
    expected = _chains_only(persons, age, kids, us, zone, factor, vital)
    arrays = {
        "head_age": np.array([age], dtype=np.uint8),
        "kids": np.array([kids], dtype=np.uint32),
        "children": np.zeros(1, dtype=np.uint8),
        "persons": np.array([persons], dtype=np.uint8),
    }
    leavers = np.zeros(1, dtype=np.uint32)
    row = np.zeros(L.N_COUNT, dtype=np.int64)
    kid_max, leave_mask = quick_bounds(mortality, leaving)
    live_demography(
        0,
        us[0],
        us[1],
        us[2],
        zone,
        factor,
        arrays["head_age"],
        arrays["kids"],
        arrays["children"],
        arrays["persons"],
        fertility,
        mortality,
        leaving,
        kid_max,
        leave_mask,
        leavers,
        0,
        row,
    )
    p, a, k, left, counters = expected
    assert int(arrays["persons"][0]) == p
    assert int(leavers[0]) == left
    for c in (L.C_DEATHS, L.C_BIRTHS, L.C_DISSOLVED, L.C_LEFT_HOME):
        assert row[c] == counters[c], c
    if p:
        assert (int(arrays["head_age"][0]), int(arrays["kids"][0])) == (a, k)
        assert int(arrays["children"][0]) == school_children(k)


def test_quick_bounds_of_the_schedules() -> None:
    mortality = np.zeros((2, L.MAX_AGE + 1))
    mortality[0, 3], mortality[1, 0], mortality[1, 40] = 0.02, 0.01, 0.9  # age 40: no child
    leaving = np.zeros(L.KID_AGES)
    leaving[[18, 25, 31]] = [0.1, 0.5, 1.0]
    kid_max, mask = quick_bounds(mortality, leaving)
    np.testing.assert_array_equal(kid_max, [0.02, 0.01])
    assert mask == (1 << 18) | (1 << 25) | (1 << 31)


def test_surely_none_only_beyond_the_union_bound() -> None:
    """Beyond the bound (and its margin) every event of a chain is missed; at the bound the
    chain may still hit, so the quick test must send the household to the chain."""
    q = (0.3, 0.2, 0.1)
    bound = sum(q)
    assert not _surely_none(bound, bound)
    assert _surely_none(bound + 2**-29, bound)
    # The chain's own verdict at the lowest uniform the quick test lets through.
    u = bound + 2**-29
    for qi in q:
        assert u >= qi
        u = (u - qi) / (1.0 - qi)
