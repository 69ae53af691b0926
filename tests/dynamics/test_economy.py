"""Hand-computed cases for each function of urbsim.dynamics.economy.

Each test sets up two to four places with round numbers and checks the result against the
arithmetic written out in its comments. Both household engines share these functions, so the
engine-equivalence tests cannot see a bug here; these tests are what guards the economy.
"""

from __future__ import annotations

import numpy as np
import pytest
from dynamics_helpers import by_region, govs, place_table, places, policy_arrays

from urbsim.dynamics import economy as E
from urbsim.dynamics.series import interpolate
from urbsim.kernels.layout import RULE_OPEN, RULE_POINTS
from urbsim.scenario.schema import CountyTown, Economy, Policy, Renewal


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def test_interpolate_is_linear_between_years_and_flat_outside() -> None:
    series = {"2010": 0.10, "2020": 0.05}
    assert interpolate(series, 2015) == pytest.approx(0.075)  # halfway
    assert interpolate(series, 2005) == 0.10  # before the first key
    assert interpolate(series, 2030) == 0.05  # after the last key


# ---------------------------------------------------------------------------------------------
# Programmes
# ---------------------------------------------------------------------------------------------
def test_renewal_allocates_in_proportion_to_households_left() -> None:
    ps = places(3, urban_households=[100.0, 300.0, 0.0], renewed_households=[0.0, 100.0, 0.0])
    gs = govs(2, renewal_cost=[5.0, 5.0])  # last year's cost must not linger
    rn = Renewal(
        households_per_year=150.0,
        cost_per_household=1000.0,
        subsidy_share=0.4,
        amenity_effect=0.6,
        service_effect=0.3,
    )
    subsidy = E.renew_communities(ps, gs, rn, np.array([0, 0, 1]), 2)
    # left [100, 200, 0] of 300: half of it is done this year -> done [50, 100, 0]
    np.testing.assert_allclose(ps.renewed_households, [50.0, 200.0, 0.0])
    # renovated share of urban households [50/100, 100/300, 0] = [0.5, 1/3, 0]
    np.testing.assert_allclose(ps.amenity, [0.6 * 0.5, 0.6 / 3.0, 0.0])
    np.testing.assert_allclose(ps.renewal_factor, [1.0 + 0.3 * 0.5, 1.0 + 0.3 / 3.0, 1.0])
    # cost 150 households * 1000 = 150,000: 40 % central, 60 % to government 0
    assert subsidy == pytest.approx(60_000.0)
    np.testing.assert_allclose(gs.renewal_cost, [90_000.0, 0.0])

    # More households per year than are left: everything left is done, no more.
    subsidy = E.renew_communities(
        ps, gs, rn.model_copy(update={"households_per_year": 1e6}), np.array([0, 0, 1]), 2
    )
    np.testing.assert_allclose(ps.renewed_households, [100.0, 300.0, 0.0])
    assert subsidy == pytest.approx(150.0 * 1000.0 * 0.4)  # the 150 households left
    # Nothing left: no cost at all.
    assert E.renew_communities(ps, gs, rn, np.array([0, 0, 1]), 2) == 0.0
    np.testing.assert_array_equal(gs.renewal_cost, [0.0, 0.0])


def test_programme_capacity_depreciates_and_pilots_get_money_by_priority() -> None:
    ps = places(3, urban_residents=[0.0, 3000.0, 2000.0], programme_capacity=[0.0, 0.0, 0.0])
    ct = CountyTown(
        budget=0.004,  # billion yuan: 4,000,000 yuan
        priority=by_region(1.0, 0.8, 0.5, 0.5),
        share_services=0.5,
        share_amenity=0.25,
        share_jobs=0.25,
        cost_per_amenity=125.0,
        cost_per_job=12_500.0,
    )
    pilots = np.array([1, 2])
    region = np.array([0, 0, 2])  # place 1 east (priority 1), place 2 west (0.5)
    spent = E.fund_programme(
        ps, ct, pilots, region, unit_cost=2000.0, efficiency=1.0, wage_index=2.0
    )
    # weights 1 * 3000 and 0.5 * 2000 = [3000, 1000]: money [3e6, 1e6]
    assert spent == pytest.approx(4e6)
    # capacity += money * 0.5 * 1 / 2000 = [750, 250]
    np.testing.assert_allclose(ps.programme_capacity, [0.0, 750.0, 250.0])
    # amenity += money * 0.25 / (125 * 2 * urban): 750,000 / 750,000 = 1; 250,000 / 500,000
    np.testing.assert_allclose(ps.amenity, [0.0, 1.0, 0.5])
    # jobs += money * 0.25 / (12,500 * 2): 30 and 10
    np.testing.assert_allclose(ps.programme_jobs, [0.0, 30.0, 10.0])

    # Next year: 10 % depreciation first, then the same money again.
    E.depreciate_programme(ps, 0.1)
    np.testing.assert_allclose(ps.programme_capacity, [0.0, 675.0, 225.0])
    E.fund_programme(ps, ct, pilots, region, unit_cost=2000.0, efficiency=1.0, wage_index=2.0)
    np.testing.assert_allclose(ps.programme_capacity, [0.0, 1425.0, 475.0])
    # Without a budget nothing is spent.
    no_budget = ct.model_copy(update={"budget": 0.0})
    assert E.fund_programme(ps, no_budget, pilots, region, 2000.0, 1.0, 2.0) == 0.0
    np.testing.assert_allclose(ps.programme_capacity, [0.0, 1425.0, 475.0])


# ---------------------------------------------------------------------------------------------
# Services and quotas (public finance: test_finance.py)
# ---------------------------------------------------------------------------------------------
def test_budget_follows_demand_within_a_city() -> None:
    ps = places(3, service_demand=[30.0, 10.0, 0.0])
    gs = govs(2, service_budget=[2000.0, 500.0])
    alloc = E.allocate_services(ps, gs, np.array([0, 0, 1]), 2)
    # government 0 splits 2000 by demand 30:10; government 1 has no demand and spends nothing
    np.testing.assert_allclose(alloc, [1500.0, 500.0, 0.0])


def test_points_quotas_count_points_places_and_carry_over_one_year() -> None:
    pa = policy_arrays(
        3,
        rule=np.array([RULE_POINTS, RULE_OPEN, RULE_POINTS], dtype=np.int64),
        quota_per_10k=np.array([10.0, 50.0, 20.0]),
    )
    gs = govs(2, quota_left=[30.0, 250.0])
    E.points_quotas(gs, pa, np.array([1e5, 1e5, 5e4]), np.array([0, 0, 1]), 2)
    # quota: government 0 = 10 per 10k of 100,000 = 100 (the open place has none);
    # government 1 = 20 per 10k of 50,000 = 100. Carry-over is at most one year's quota:
    # 100 + min(30, 100) = 130; 100 + min(250, 100) = 200
    np.testing.assert_allclose(gs.quota_left, [130.0, 200.0])


# ---------------------------------------------------------------------------------------------
# The year's update as a whole
# ---------------------------------------------------------------------------------------------
def _one_type_services() -> dict:
    """Services where only health costs anything to run (100 yuan a place, nothing to build,
    10 % lost a year); education and elderly care have no users below."""
    cheap = {"operating_cost": 1.0, "building_cost": 0.0, "depreciation": 0.0}
    return {
        "health": {"operating_cost": 100.0, "building_cost": 0.0, "depreciation": 0.1},
        "education": cheap,
        "elderly": cheap,
    }


def test_update_governments_sets_capacity_spending_gaps_and_quality() -> None:
    """One government, two places, no programmes: the numbers of the pieces combined."""
    eco = Economy.model_validate(
        {
            "service_cost": 100.0,
            "service_base_access": 0.5,
            "local_tax_rate": 0.1,
            "workers_per_person": 0.5,
            "transfer_per_person": 0.0,
            "interest_rate": 0.0,
            "lgfv_interest_rate": 0.0,
            "initial_debt_ratio": 0.0,
            "amortization": 0.1,
            "service_budget_share": 1.0,
            "borrowing_limit": 0.9,
            "investment_share": 1.0,
            "services": _one_type_services(),
        }
    )
    ps = places(
        2,
        urban_residents=[100.0, 100.0],
        infrastructure_served=[100.0, 100.0],  # no new urban residents
        wage=[1000.0, 1000.0],
        employment=[1.0, 1.0],
    )
    gs = govs(1)
    table = place_table(region=[0, 0], kind=[0, 1])
    # health users: place 0 has 100 hukou holders, place 1 has 100 without access (base 0.5)
    none = np.zeros((2, 3))
    users = {
        "health": np.array([[100.0, 0.0, 0.0], [0.0, 100.0, 0.0]]),
        "education": none,
        "elderly": none,
    }
    pa = policy_arrays(2)
    args = (ps, gs, table, eco, pa, Policy(), users, 1.0, 1.0, np.array([0, 0]), 1)
    prog, subsidy = E.update_governments(*args, np.zeros(0, np.int64), 2012, first=True)
    assert (prog, subsidy) == (0.0, 0.0)
    # demand [100, 50]; revenue 0.1 * 1000 * 1 * 50 * 2 places = 10,000 = the service budget
    np.testing.assert_allclose(ps.service_demand, [100.0, 50.0])
    np.testing.assert_allclose(gs.service_budget, [10_000.0])
    # split 2:1 -> [6666.7, 3333.3] yuan opens [66.7, 33.3] places at 100 yuan;
    # missing [33.3, 16.7] = 50 places -> needs 5,000 yuan; LGFV ceiling 0.9 * 10,000, no debt
    np.testing.assert_allclose(gs.borrowing, [5000.0])
    np.testing.assert_allclose(gs.debt, [5000.0])
    # capacity = demand exactly; spending = budget + borrowing by place
    np.testing.assert_allclose(ps.service_capacity, [100.0, 50.0])
    np.testing.assert_allclose(ps.spending, [10_000.0, 5000.0])
    np.testing.assert_allclose(ps.quality, [1.0, 1.0])
    # entitlement gap: place 1's 100 users are entitled to half; no capacity gap
    np.testing.assert_allclose(ps.entitlement_gap, [0.0, 0.5])
    np.testing.assert_allclose(ps.capacity_gap, [0.0, 0.0])

    # Next year: 10 % of places lost -> [90, 45]. Budget 10,000 - amortization 500 = 9,500,
    # split 2:1. Needed: run 90 + build 10 at 100 = 10,000; run 45 + build 5 = 5,000; beyond
    # the budget 5,500, but the room under the ceiling is 9,000 - 0.9 * 5,000 = 4,500.
    E.update_governments(*args, np.zeros(0, np.int64), 2013, first=False)
    np.testing.assert_allclose(gs.service_budget, [9500.0])
    np.testing.assert_allclose(gs.borrowing, [4500.0])
    np.testing.assert_allclose(gs.debt, [0.9 * 5000.0 + 4500.0])
    # borrowing spread by need [3666.7, 1833.3] -> [3000, 1500]; money [9333.3, 4666.7]
    # runs [90, 45] (9,000, 4,500) and builds [3.33, 1.67]: the ceiling leaves a capacity gap
    np.testing.assert_allclose(ps.service_capacity, [90.0 + 10.0 / 3.0, 45.0 + 5.0 / 3.0])
    np.testing.assert_allclose(
        ps.capacity_gap, [(10.0 - 10.0 / 3.0) / 100.0, (5.0 - 5.0 / 3.0) / 100.0]
    )
    np.testing.assert_allclose(ps.spending, [9500.0 * 2 / 3 + 3000.0, 9500.0 / 3 + 1500.0])
