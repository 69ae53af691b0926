"""Hand-computed cases for urbsim.dynamics.local_policy: local governments' settlement openness
and investment effort, and the switch that leaves the central rules as they are."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from dynamics_helpers import govs, place_table, places, policy_arrays
from pandas.testing import assert_frame_equal

from urbsim.dynamics import local_policy as LP
from urbsim.kernels.layout import RULE_CLOSED, RULE_CONDITIONAL, RULE_OPEN, RULE_POINTS
from urbsim.model import UrbanizationModel
from urbsim.scenario import LoadedScenario
from urbsim.scenario.schema import SETTLEMENT_KEYS, LocalResponse

_GOV = np.array([0, 0, 1])


def test_weighted_mean_by_government() -> None:
    # government 0: (10 * 1 + 20 * 3) / 4 = 17.5; government 1 has no weight
    got = LP.weighted_mean(np.array([10.0, 20.0, 5.0]), np.array([1.0, 3.0, 0.0]), _GOV, 2)
    np.testing.assert_allclose(got, [17.5, 0.0])


def test_signals_of_labour_population_and_fiscal_room() -> None:
    ps = places(
        3,
        urban_residents=[100.0, 100.0, 220.0],
        urban_growth=[0.0, 0.0, 0.1],
        wage=[110.0, 110.0, 100.0],
        employment=[0.95, 0.95, 0.90],
    )
    gs = govs(2, mean_wage=[100.0, 100.0], debt=[50.0, 100.0], debt_ceiling=[100.0, 0.0])
    labour, population, fiscal = LP.signals(ps, gs, _GOV, 2, natural_unemployment=0.05)
    # wage change [1.1, 1.0]; national change weighted by urban residents [200, 220]:
    #   (1.1 * 200 + 1.0 * 220) / 420 = 440 / 420; employment over 0.95: [0, -0.05]
    national = 440.0 / 420.0
    np.testing.assert_allclose(labour, [1.1 - national, 1.0 - national - 0.05])
    # urban growth: gov 0 none, gov 1 from 200 to 220 = 10 %; national 20 / 400 = 5 %
    np.testing.assert_allclose(population, [-0.05, 0.05])
    # unused ceiling: 1 - 50/100; gov 1 has no ceiling
    np.testing.assert_allclose(fiscal, [0.5, 0.0])
    np.testing.assert_allclose(gs.mean_wage, [110.0, 100.0])  # recorded for next year


def test_openness_moves_part_way_to_a_clipped_target() -> None:
    lr = LocalResponse(
        weight_labour=2.0,
        weight_population=10.0,
        weight_fiscal=1.0,
        weight_rivals=0.5,
        adjustment=0.5,
    )
    gs = govs(2, openness=[0.0, 0.2])
    LP.openness(
        gs,
        labour=np.array([0.1, 0.0]),
        population=np.array([-0.02, 0.3]),
        fiscal=np.array([0.2, 0.0]),
        rivals=np.array([0.2, 0.0]),
        lr=lr,
    )
    # gov 0 target 2 * 0.1 + 10 * 0.02 + 0.2 + 0.5 * 0.2 = 0.7 -> 0 + 0.5 * 0.7 = 0.35
    # gov 1 target -3 clipped to -1 -> 0.2 + 0.5 * (-1.2) = -0.4
    np.testing.assert_allclose(gs.openness, [0.35, -0.4])


def test_class_means_of_rivals_and_of_the_whole_class() -> None:
    values = np.array([0.4, 0.1, -0.2, 0.3])
    weight = np.array([1.0, 3.0, 2.0, 5.0])
    size = np.array([1, 1, 1, 3])
    # rivals of gov 0: (0.1 * 3 - 0.2 * 2) / 5 = -0.02; of gov 1: (0.4 - 0.4) / 3 = 0;
    # of gov 2: (0.4 + 0.3) / 4 = 0.175; gov 3 has no rival
    np.testing.assert_allclose(
        LP.class_mean(values, weight, size, exclude_self=True), [-0.02, 0.0, 0.175, 0.0]
    )
    # the whole class: (0.4 + 0.3 - 0.4) / 6 = 0.05 for the first three, 0.3 for gov 3
    np.testing.assert_allclose(
        LP.class_mean(values, weight, size, exclude_self=False), [0.05, 0.05, 0.05, 0.3]
    )


def test_open_governments_cut_years_and_raise_quotas_of_conditional_and_points_rules() -> None:
    lr = LocalResponse(max_change_years=3, quota_factor=4.0)
    rule = np.array(
        [RULE_CONDITIONAL, RULE_POINTS, RULE_OPEN, RULE_CLOSED, RULE_POINTS], dtype=np.int64
    )
    pa = policy_arrays(
        5,
        rule=rule,
        min_years=np.array([5, 1, 3, 4, 4], dtype=np.int64),
        quota_per_10k=np.array([0.0, 10.0, 0.0, 0.0, 10.0]),
    )
    gs = govs(2, openness=[0.5, -0.5])
    LP.apply_openness(pa, gs, np.array([0, 0, 0, 0, 1]), lr)
    # openness 0.5: round(1.5) = 2 years fewer (numpy rounds half to even); the points place
    # (1 year) cannot go below 0; quota 10 * 4 ** 0.5 = 20. Open and closed rules are
    # untouched, and the government with negative openness does not tighten.
    np.testing.assert_array_equal(pa.min_years, [3, 0, 3, 4, 4])
    np.testing.assert_allclose(pa.quota_per_10k, [0.0, 20.0, 0.0, 0.0, 10.0])


def test_tightening_only_when_allowed() -> None:
    lr = LocalResponse(max_change_years=2, quota_factor=4.0, allow_tightening=True)
    pa = policy_arrays(
        1,
        rule=np.array([RULE_POINTS], dtype=np.int64),
        min_years=np.array([3], dtype=np.int64),
        quota_per_10k=np.array([10.0]),
    )
    LP.apply_openness(pa, govs(1, openness=[-1.0]), np.zeros(1, np.int64), lr)
    # two more years, a quarter of the quota
    np.testing.assert_array_equal(pa.min_years, [5])
    np.testing.assert_allclose(pa.quota_per_10k, [2.5])


def test_investment_effort_follows_openness_never_negative() -> None:
    lr = LocalResponse(investment_response=2.0)
    effort = LP.investment_effort(govs(3, openness=[0.25, -0.25, -1.0]), lr)
    np.testing.assert_allclose(effort, [1.5, 0.5, 0.0])


@pytest.mark.parametrize("first", [True, False])
def test_switched_off_the_central_rules_apply_unchanged(first: bool) -> None:
    ps = places(3, urban_residents=[100.0, 100.0, 200.0], wage=[1.0, 2.0, 3.0])
    gs = govs(2, openness=[0.0, 0.0], debt_ceiling=[100.0, 100.0])
    pa = policy_arrays(
        3,
        rule=np.full(3, RULE_POINTS, dtype=np.int64),
        min_years=np.array([5, 5, 5], dtype=np.int64),
        quota_per_10k=np.array([10.0, 10.0, 10.0]),
    )
    table = place_table([0, 0, 0], [0, 0, 0])
    lr = LocalResponse(enabled=False)
    effort = LP.respond(ps, gs, pa, table, _GOV, 2, lr, 0.05, True, first)
    np.testing.assert_array_equal(pa.min_years, [5, 5, 5])
    np.testing.assert_array_equal(pa.quota_per_10k, [10.0, 10.0, 10.0])
    np.testing.assert_array_equal(effort, [1.0, 1.0])
    assert (gs.mean_wage == 0).all() and (gs.openness == 0).all()


def test_switched_on_the_first_year_only_records_wages() -> None:
    ps = places(3, urban_residents=[100.0, 100.0, 200.0], wage=[1.0, 3.0, 3.0])
    gs = govs(2, debt_ceiling=[100.0, 100.0])
    pa = policy_arrays(3, rule=np.full(3, RULE_CONDITIONAL, dtype=np.int64))
    pa.min_years[:] = 5
    table = place_table([0, 0, 0], [0, 0, 0])
    lr = LocalResponse(enabled=True)
    effort = LP.respond(ps, gs, pa, table, _GOV, 2, lr, 0.05, True, first=True)
    np.testing.assert_allclose(gs.mean_wage, [2.0, 3.0])
    np.testing.assert_array_equal(pa.min_years, [5, 5, 5])
    np.testing.assert_array_equal(effort, [1.0, 1.0])
    # Before the legislature's ceiling the fiscal room does not count: only the labour signal
    # (employment 1 over 0.95, weight 5: 0.25), half of it the first year -> 0.125
    gs2 = govs(2, debt_ceiling=[100.0, 100.0], mean_wage=[2.0, 3.0])
    LP.respond(ps, gs2, pa, table, _GOV, 2, lr, 0.05, False, first=False)
    np.testing.assert_allclose(gs2.openness, [0.125, 0.125])
    # With it, room counts against that of the size class: government 0 (200 urban residents)
    # has all its ceiling unused, government 1 (200, the same class) none: class mean 0.5, so
    # fiscal signals +0.5 and -0.5; the rivals' openness was 0.
    gs.debt[:] = [0.0, 100.0]
    effort = LP.respond(ps, gs, pa, table, _GOV, 2, lr, 0.05, True, first=False)
    # targets 0.25 + 0.5 = 0.75 and 0.25 - 0.5 = -0.25: openness 0.375 and -0.125
    np.testing.assert_allclose(gs.openness, [0.375, -0.125])
    # round(0.375 * 3) = 1 year fewer at government 0's places; effort 1 + 0.5 * openness
    np.testing.assert_array_equal(pa.min_years, [4, 4, 5])
    np.testing.assert_allclose(effort, [1.1875, 0.9375])


def test_the_central_policy_keeps_the_rules_of_fixed_classes() -> None:
    # a district of a super-large city (12 million urban residents), a small city's district
    # and a county (county-town class)
    ps = places(3, urban_residents=[12e6, 1e5, 5e4])
    table = place_table([0, 0, 0], [0, 0, 1])
    gov = np.array([0, 1, 1])
    movable = LP.movable_places(table, ps, gov, 2, LocalResponse())
    np.testing.assert_array_equal(movable, [False, True, True])
    movable = LP.movable_places(table, ps, gov, 2, LocalResponse(fixed_classes=["county_town"]))
    np.testing.assert_array_equal(movable, [True, True, False])
    pa = policy_arrays(
        3,
        rule=np.full(3, RULE_POINTS, dtype=np.int64),
        min_years=np.array([5, 5, 5], dtype=np.int64),
        quota_per_10k=np.array([10.0, 10.0, 10.0]),
    )
    LP.apply_openness(pa, govs(2, openness=[1.0, 1.0]), gov, LocalResponse(), movable)
    np.testing.assert_array_equal(pa.min_years, [2, 2, 5])
    np.testing.assert_allclose(pa.quota_per_10k, [30.0, 30.0, 10.0])
    with pytest.raises(ValueError, match="unknown settlement classes"):
        LocalResponse(fixed_classes=["megacity"])


# ---------------------------------------------------------------------------------------------
# The competition for residents (issue 13): who opens, within which central bounds
# ---------------------------------------------------------------------------------------------
def _three_cities(lr: LocalResponse) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mega city (6 million urban residents) and a large-I city (4 million) whose wages rose
    10 % with employment at 99 %, and a large-I city with flat wages and 90 % employment: one
    urban district each, all on a conditional rule of 5 years, no fiscal signal (before the
    legislature's ceiling), urban growth equal everywhere."""
    ps = places(
        3,
        urban_residents=[6e6, 4e6, 4e6],
        wage=[110.0, 110.0, 100.0],
        employment=[0.99, 0.99, 0.90],
    )
    gs = govs(3, mean_wage=[100.0, 100.0, 100.0], debt_ceiling=[1.0, 1.0, 1.0])
    pa = policy_arrays(3, rule=np.full(3, RULE_CONDITIONAL, dtype=np.int64))
    pa.min_years[:] = 5
    gov = np.arange(3)
    LP.respond(ps, gs, pa, place_table([0, 1, 1], [0, 0, 0]), gov, 3, lr, 0.05, False, False)
    return gs.openness.copy(), pa.min_years.copy(), pa.relaxed.copy()


def test_a_second_tier_city_under_labour_shortage_opens_and_a_slack_one_does_not() -> None:
    lr = LocalResponse(enabled=True, adjustment=1.0)
    openness, years, relaxed = _three_cities(lr)
    # national wage growth (1.1 * 6 + 1.1 * 4 + 1.0 * 4) / 14 = 15 / 14; labour signal of
    # the tight cities 1.1 - 15/14 + (0.99 - 0.95), weight 5
    tight = 5.0 * (1.1 - 15.0 / 14.0 + 0.04)
    np.testing.assert_allclose(openness[:2], [tight, tight])
    assert openness[2] < 0.0
    # round(0.343 * 3) = 1 year fewer in the tight large-I city; the mega city keeps the
    # central rule under the 2014 bounds (fixed_classes); the slack city never tightens.
    np.testing.assert_array_equal(years, [5, 4, 5])
    np.testing.assert_array_equal(relaxed, [False, True, False])


def test_a_mega_city_under_labour_shortage_opens_once_the_bounds_widen() -> None:
    """The 2016 plan lets mega cities set their own rules (fixed_classes of super-large cities
    only): the same signals then open the mega city too."""
    lr = LocalResponse(enabled=True, adjustment=1.0, fixed_classes=["super_large"])
    _, years, relaxed = _three_cities(lr)
    np.testing.assert_array_equal(years, [4, 4, 5])
    np.testing.assert_array_equal(relaxed, [True, True, False])


def _tables(loaded: LoadedScenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = UrbanizationModel(loaded)
    model.run()
    return model.national_table(), model.places_table()


def test_with_the_switch_off_the_scripted_timeline_gives_exactly_the_same_tables(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """Off, every other field of ``policy.local_response`` is inert: the tables are those of the
    timeline alone, bit for bit, and record no openness and no relaxed rule. On, the same
    weights change them (so the comparison can fail)."""
    settlement = {key: {"rule": "conditional", "min_years": 5} for key in SETTLEMENT_KEYS}
    eager = {"weight_labour": 500.0, "weight_fiscal": 50.0, "adjustment": 1.0, "fixed_classes": []}
    timeline = {"2011": {"settlement": settlement}}
    today = _tables(small_scenario(seed=4, end_year=2014, timeline=timeline))
    off = {"local_response": {**eager, "enabled": False}}
    switched_off = _tables(small_scenario(seed=4, end_year=2014, timeline=timeline, policy=off))
    for a, b in zip(today, switched_off, strict=True):
        assert_frame_equal(a, b, check_exact=True)
    places = switched_off[1]
    assert (places["openness"] == 0).all() and (places["settlement_relaxed"] == 0).all()
    on = {"local_response": {**eager, "enabled": True}}
    switched_on = _tables(small_scenario(seed=4, end_year=2014, timeline=timeline, policy=on))
    assert switched_on[1]["settlement_relaxed"].sum() > 0
    assert not switched_on[0].equals(today[0])
