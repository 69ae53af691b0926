"""Demography: the rate schedules on hand-computed cases, a household's demographic year in the
kernel (several deaths and births per household-year, succession, dissolution, leaving home,
ageing, school-age children), and household formation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from test_household_step_kernel import (
    KEY,
    N,
    make_households,
    make_par,
    make_pf,
    make_pi,
    run_step,
    tolerance,
)

from urbsim.dynamics import demography as D
from urbsim.kernels import layout as L
from urbsim.kernels.demography import (
    formed_households,
    households_that_may_leave,
    plan_formation,
    quick_bounds,
)
from urbsim.scenario.schema import Demography


# --- schedules ------------------------------------------------------------------------------------
def test_fertility_shape_is_a_normalized_gamma_over_15_to_49() -> None:
    shape = D.fertility_shape(28.0, 5.0)
    assert shape.sum() == pytest.approx(1.0)
    assert not shape[:15].any() and not shape[50:].any()
    # Gamma with k = (28/5)^2 = 31.36 and theta = 25/28: density ratio at mid-ages 25.5, 30.5
    # is (30.5/25.5)^(k-1) * exp(-(30.5-25.5)/theta).
    k, theta = 31.36, 25.0 / 28.0
    ratio = (30.5 / 25.5) ** (k - 1.0) * math.exp(-5.0 / theta)
    assert shape[30] / shape[25] == pytest.approx(ratio, rel=1e-12)
    mean = float((shape * (np.arange(shape.shape[0]) + 0.5)).sum())
    assert mean == pytest.approx(28.0, abs=0.1)


def test_gompertz_makeham_probabilities_by_hand() -> None:
    q = D.gompertz_makeham_q(0.001, 1e-4, 0.1, 0.02)
    assert q[0] == 0.02 and q[-1] == 1.0
    # Age 10: 1 - exp(-(A + B e^{10c} (e^c - 1) / c)).
    h = 0.001 + 1e-4 * math.exp(1.0) * (math.exp(0.1) - 1.0) / 0.1
    assert q[10] == pytest.approx(1.0 - math.exp(-h), rel=1e-12)
    assert (np.diff(q[1:]) > 0).all()


def test_life_expectancy_by_hand() -> None:
    # Half die in the first year (at mid-year), the rest in the second: 0.75 + 0.25 years.
    assert D.life_expectancy(np.array([0.5, 1.0])) == pytest.approx(1.0)
    # Everyone dies in the first year: half a year.
    assert D.life_expectancy(np.array([1.0, 1.0])) == pytest.approx(0.5)


def test_base_mortality_meets_the_life_expectancy() -> None:
    dem = Demography()
    q = D.base_mortality(dem)
    assert D.life_expectancy(q) == pytest.approx(74.83, abs=1e-6)
    assert q[0] == 0.0131
    other = D.base_mortality(dem.model_copy(update={"life_expectancy": 80.0}))
    assert D.life_expectancy(other) == pytest.approx(80.0, abs=1e-6)
    assert (other[1:-1] < q[1:-1]).all()


def test_zone_schedules_split_around_the_2010_urban_share() -> None:
    dem = Demography()
    base = D.base_schedules(dem)
    q = D.base_mortality(dem)
    w = D.URBAN_SHARE_2010
    mixed = w * base.mortality[1] + (1 - w) * base.mortality[0]
    np.testing.assert_allclose(mixed[:-1], q[:-1], rtol=1e-12)
    np.testing.assert_allclose(base.mortality[0, :-1] / base.mortality[1, :-1], 1.3)
    assert base.fertility[1].sum() == pytest.approx(0.99)
    assert base.fertility[0].sum() == pytest.approx(1.44)
    assert base.leaving[17] == 0.0 and base.leaving[18] == 0.15 and base.leaving[31] == 1.0


def test_switching_births_and_deaths_off_zeroes_both_schedules() -> None:
    base = D.base_schedules(Demography(births_and_deaths=False))
    assert not base.fertility.any() and not base.mortality.any()
    assert base.leaving[31] == 1.0
    year = D.scaled(base, 2.0, 2.0)
    assert not year.mortality.any()


def test_targets_and_alignment_by_hand() -> None:
    dem = Demography()
    # 2013 lies between 2012 (12.10) and 2015 (12.07): 12.09 per 1000.
    assert D.target_rate(dem.birth_rate, 2013, True) == pytest.approx(0.01209)
    assert D.target_rate(dem.death_rate, 2019, True) == pytest.approx(0.00714)
    assert D.target_rate(dem.birth_rate, 2020, True) is None
    # A series that ends before the first year simulated aligns that year to its last value.
    assert D.target_rate({"2010": 0.0}, 2011, False) == 0.0
    assert D.target_rate({"2010": 0.0}, 2012, True) is None
    # 12 births wanted per 1000 persons, 10 expected: factor 1.2; no target keeps the last.
    assert D.alignment_scale(0.012, 10.0, 1000.0, 0.7) == pytest.approx(1.2)
    assert D.alignment_scale(None, 10.0, 1000.0, 0.7) == 0.7
    assert D.alignment_scale(0.012, 0.0, 1000.0, 0.7) == 0.7
    assert D.alignment_scale(0.012, 0.0, 1000.0, None) == 1.0
    year = D.scaled(D.base_schedules(dem), 1.5, 40.0)
    assert (year.mortality <= 1.0).all() and year.mortality[:, -1].all()
    assert not D.scaled(D.base_schedules(dem), 0.0, 0.0).mortality.any()


# --- the kernel: frequencies on hand-computed cases -----------------------------------------------
def _vital(fertility: float = 0.0, mortality: float = 0.0, leaving: float = 0.0) -> Any:
    from test_household_step_kernel import quiet_vital

    return quiet_vital(fertility, mortality, leaving)


def _run(hh: dict[str, np.ndarray], vital: Any, zone: int = 1) -> tuple[np.ndarray, np.ndarray]:
    leavers = np.zeros(hh["place"].shape[0], dtype=np.uint32)
    counts, _ = run_step(
        hh, make_pf([30.0], [114.0]), make_pi(1), make_par(), vital=vital, leavers=leavers
    )
    return counts, leavers


def _listed_and_every(
    hh: dict[str, np.ndarray], vital: Any, n_chunks: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The listed households (:func:`households_that_may_leave` on the step's key), the
    leavers of every household (no list) and those of the listed ones, after one year each."""
    parents = households_that_may_leave(KEY, hh["kids"], hh["persons"], vital.leaving, n_chunks)
    every = {k: v.copy() for k, v in hh.items()}
    listed = {k: v.copy() for k, v in hh.items()}
    pf, pi, par = make_pf([30.0], [114.0]), make_pi(1), make_par()
    all_leavers = np.zeros(hh["place"].shape[0], dtype=np.uint32)
    counts, _ = run_step(every, pf, pi, par, vital=vital, leavers=all_leavers)
    leavers = np.zeros(parents.shape[0], dtype=np.uint32)
    c, _ = run_step(
        listed, pf, pi, par, vital=vital, leavers=leavers, parents=parents, n_chunks=n_chunks
    )
    np.testing.assert_array_equal(c, counts)
    for k in every:
        np.testing.assert_array_equal(listed[k], every[k])
    return parents, all_leavers, leavers


def test_leavers_of_the_listed_parents_only_are_those_of_every_household() -> None:
    """The engine lists the households whose leaving draw may give a leaver (``parents``) and
    gets one leavers entry per listed household: the same leavers, the same households after
    the year, whatever the chunks; the list is the same whatever the chunks, holds every
    household with a leaver (deaths and succession taking children away on the way), and few
    others."""
    rng = np.random.default_rng(5)
    n = 3_000
    kids = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    kids[rng.random(n) < 0.6] &= np.uint32((1 << 18) - 1)  # most without a child of 18+
    kids[rng.random(n) < 0.3] &= np.uint32((1 << 31) - 1)  # none of 31, who leaves surely
    persons = np.minimum(rng.integers(1, 3, n) + np.bitwise_count(kids), 40).astype(np.uint8)
    vital = _vital(fertility=0.1, mortality=0.2, leaving=0.04)
    hh = make_households(n, persons=6, head_age=50, kids=kids)
    hh["persons"][:] = persons
    hh["persons"][::97] = 0  # dissolved rows: never listed
    hh["kids"][::97] = 0
    parents, all_leavers, leavers = _listed_and_every(hh, vital)
    np.testing.assert_array_equal(leavers, all_leavers[parents])
    assert not all_leavers[np.setdiff1d(np.arange(n), parents)].any()
    may = np.flatnonzero(hh["kids"] & np.uint32(quick_bounds(vital.mortality, vital.leaving)[1]))
    assert set(parents) <= set(may) and len(parents) < 0.8 * len(may)
    with_leavers = int((all_leavers > 0).sum())
    assert with_leavers > 100 and len(parents) < 1.3 * with_leavers
    for n_chunks in (1, 3, 64):
        np.testing.assert_array_equal(
            households_that_may_leave(KEY, hh["kids"], hh["persons"], vital.leaving, n_chunks),
            parents,
        )


def test_a_household_whose_birth_takes_a_leaving_age_is_listed() -> None:
    """With leaving from age 2, a household with children of 0 and 1 has no child of leaving
    age, but a birth takes age 2 and that child may leave at once: every such household is
    listed whatever its draw, and the step finds all of its leavers."""
    n = 2_000
    leave = np.where(np.arange(L.KID_AGES) >= 2, 1.0, 0.0)
    base = _vital(fertility=1.0)
    vital = D.VitalRates(base.fertility, base.mortality, leave)
    hh = make_households(n, persons=4, head_age=30, kids=0b11)
    parents, all_leavers, leavers = _listed_and_every(hh, vital)
    np.testing.assert_array_equal(parents, np.arange(n))
    assert (all_leavers == 0b100).all()
    np.testing.assert_array_equal(leavers, all_leavers)


def test_parents_must_be_increasing_indices_with_one_leavers_entry_each() -> None:
    hh = make_households(4, persons=3, head_age=50, kids=1 << 20)
    pf, pi, par = make_pf([30.0], [114.0]), make_pi(1), make_par()
    for parents, leavers, match in (
        (np.array([2, 1]), np.zeros(2, np.uint32), "increasing"),
        (np.array([0, 4]), np.zeros(2, np.uint32), "increasing"),
        (np.array([0, 1]), np.zeros(3, np.uint32), "one entry per parent"),
        (np.array([0, 1], dtype=np.int32), np.zeros(2, np.uint32), "int64"),
    ):
        with pytest.raises(ValueError, match=match):
            run_step(hh, pf, pi, par, vital=_vital(), leavers=leavers, parents=parents)


def _binomial(n: int, p: float) -> np.ndarray:
    return np.array([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])


def test_several_deaths_in_a_household_year() -> None:
    """Three adults, each dying with probability 0.2: deaths per household Binomial(3, 0.2)
    (two or more in 10.4 % of households), all counted, all in the urban zone."""
    hh = make_households(N, persons=3, head_age=40)
    counts, _ = _run(hh, _vital(mortality=0.2))
    deaths = 3 - hh["persons"].astype(np.int64)
    expected = _binomial(3, 0.2)
    for k in range(4):
        share = float((deaths == k).mean())
        assert abs(share - expected[k]) < tolerance(expected[k]), (k, share)
    assert counts[L.C_DEATHS] == counts[L.C_URBAN_DEATHS] == int(deaths.sum())
    assert counts[L.C_DISSOLVED] == int((deaths == 3).sum())


def test_several_births_in_a_household_year() -> None:
    """Four adults are two couples: births Binomial(2, 0.3) per household, the second newborn
    in the next free age slot; rural births are not urban births."""
    hh = make_households(N, persons=4, head_age=28, zone=0)
    counts, _ = _run(hh, _vital(fertility=0.3))
    births = hh["persons"].astype(np.int64) - 4
    expected = _binomial(2, 0.3)
    for k in range(3):
        assert abs(float((births == k).mean()) - expected[k]) < tolerance(expected[k])
    assert counts[L.C_BIRTHS] == int(births.sum()) and counts[L.C_URBAN_BIRTHS] == 0
    # Newborns are aged one at the end of the year; twins of the year take ages one and two.
    np.testing.assert_array_equal(hh["kids"][births == 1], 0b10)
    np.testing.assert_array_equal(hh["kids"][births == 2], 0b110)


def test_single_adults_and_old_heads_have_no_births() -> None:
    hh = make_households(
        N,
        persons=np.where(np.arange(N) % 2 == 0, 1, 2),
        head_age=np.where(np.arange(N) % 4 < 2, 30, 50),
    )
    counts, _ = _run(hh, _vital(fertility=0.9))
    couple30 = (np.arange(N) % 2 == 1) & (np.arange(N) % 4 < 2)
    assert counts[L.C_BIRTHS] == int((hh["persons"][couple30] == 3).sum()) > 0.85 * couple30.sum()
    assert (hh["persons"][~couple30] <= 2).all()


def test_no_birth_beyond_the_largest_household() -> None:
    hh = make_households(1000, persons=L.MAX_PERSONS, head_age=28)
    counts, _ = _run(hh, _vital(fertility=1.0))
    assert counts[L.C_BIRTHS] == 0 and (hh["persons"] == L.MAX_PERSONS).all()


def test_oldest_child_succeeds_and_the_last_person_dissolves() -> None:
    """Adults die for sure at the head's age (the oldest), children never: the child aged 10
    heads the household (11 at the end of the year), the one aged 5 stays a child (6: of school
    age); a head alone dissolves."""
    vital = _vital()
    vital.mortality[:, 70:] = 1.0
    kids = (1 << 5) | (1 << 10)
    hh = make_households(
        4, persons=np.array([4, 1, 2, 3]), head_age=70, kids=np.array([kids, 0, 0, kids])
    )
    counts, _ = _run(hh, vital)
    np.testing.assert_array_equal(hh["persons"], [2, 0, 0, 2])
    np.testing.assert_array_equal(hh["head_age"][[0, 3]], [11, 11])
    np.testing.assert_array_equal(hh["kids"][[0, 3]], [1 << 6, 1 << 6])
    np.testing.assert_array_equal(hh["children"][[0, 3]], [1, 1])
    assert counts[L.C_DISSOLVED] == 2 and counts[L.C_DEATHS] == 2 + 1 + 2 + 1


def test_leaving_home_by_age_and_certainly_at_31() -> None:
    """Children aged 20 and 25 leave independently with probability 0.4 (both in 16 %); a
    child of 31 always leaves; a child of 17 never does (leaving starts at 18)."""
    kids = (1 << 17) | (1 << 20) | (1 << 25) | (1 << 31)
    hh = make_households(N, persons=6, head_age=50, kids=kids)
    counts, leavers = _run(hh, _vital(leaving=0.4))
    assert ((leavers >> 31) & 1).all() and not ((leavers >> 17) & 1).any()
    both = ((leavers >> 20) & 1) & ((leavers >> 25) & 1)
    assert abs(float(both.mean()) - 0.16) < tolerance(0.16)
    assert abs(float(((leavers >> 20) & 1).mean()) - 0.4) < tolerance(0.4)
    n_left = np.array([bin(int(x)).count("1") for x in leavers])
    np.testing.assert_array_equal(hh["persons"], 6 - n_left)
    assert counts[L.C_LEFT_HOME] == int(n_left.sum())
    # Those who stay are a year older; the head too.
    stay = (kids & ~leavers.astype(np.int64)) << 1
    np.testing.assert_array_equal(hh["kids"], stay & 0xFFFFFFFF)
    assert (hh["head_age"] == 51).all()


def test_school_age_children_follow_their_ages() -> None:
    """Children aged 5, 9, 13 and 14 become 6, 10, 14 and 15: three of school age (6-14)."""
    kids = (1 << 5) | (1 << 9) | (1 << 13) | (1 << 14)
    hh = make_households(10, persons=6, head_age=40, kids=kids, children=0)
    _run(hh, _vital())
    assert (hh["children"] == 3).all()
    hh = make_households(10, persons=3, head_age=40, kids=1 << 14, children=1)
    _run(hh, _vital())
    assert (hh["children"] == 0).all()


def test_heads_age_by_one_year_up_to_the_oldest_age() -> None:
    hh = make_households(3, head_age=np.array([15, 59, L.MAX_AGE - 1]))
    _run(hh, _vital())
    np.testing.assert_array_equal(hh["head_age"], [16, 60, L.MAX_AGE])


# --- household formation --------------------------------------------------------------------------
def test_plan_formation_pairs_leavers_of_a_place_in_order() -> None:
    """Household 0 (place 0, urban) loses children aged 1 and 3, household 1 (place 0, rural)
    one aged 5, household 2 (place 1) one aged 2, household 3 (place 0, urban) one aged 0: the
    first two form a couple headed by the one aged 1 (2 at the end of the year), the rural
    leaver of place 0 stays single (no partner in its zone), household 2's leaver starts a
    household in place 1, household 3's leaver another, single, in place 0."""
    leavers = np.array([0b1010, 1 << 5, 0b100, 0b1], dtype=np.uint32)
    place = np.array([0, 0, 1, 0], dtype=np.int16)
    zone = np.array([1, 0, 1, 1], dtype=np.uint8)
    parent, age, size = plan_formation(leavers, place, zone, 2)
    np.testing.assert_array_equal(parent, [0, 1, 2, 3])
    np.testing.assert_array_equal(age, [2, 6, 3, 1])
    np.testing.assert_array_equal(size, [2, 1, 1, 1])


def test_formed_households_inherit_the_parents_hukou_place_and_land() -> None:
    hh = make_households(
        3,
        place=np.array([0, 1, 1]),
        hukou_place=np.array([1, 1, 0]),
        hukou_type=0,
        land=np.array([1, 0, 1]),
        permit=np.array([1, 0, 0]),
        years_here=np.array([30, 2, 9]),
        education=np.array([0, 1, 2]),
        years_away=np.array([25, 0, 3]),
        left_behind=np.array([1, 0, 0]),
        match=np.array([-7, 0, 12]),
    )
    leavers = np.array([1 << 20, 0, 1 << 24], dtype=np.uint32)
    new = formed_households(hh, leavers, 2)
    assert set(new) == set(hh)
    np.testing.assert_array_equal(new["place"], [0, 1])
    np.testing.assert_array_equal(new["hukou_place"], [1, 0])
    np.testing.assert_array_equal(new["land"], [1, 1])
    np.testing.assert_array_equal(new["permit"], [1, 0])
    np.testing.assert_array_equal(new["education"], [0, 2])
    np.testing.assert_array_equal(new["head_age"], [21, 25])
    np.testing.assert_array_equal(new["years_here"], [21, 9])  # at most the head's age
    np.testing.assert_array_equal(new["years_away"], [21, 3])  # the same
    assert not new["left_behind"].any()  # no children, none left behind
    np.testing.assert_array_equal(new["match"], [-7, 12])  # the parents' match with the place
    np.testing.assert_array_equal(new["persons"], [1, 1])
    assert not new["kids"].any() and not new["children"].any()
    for name, arr in new.items():
        assert arr.dtype == hh[name].dtype, name
