"""Hand-computed cases for each function of urbsim.dynamics.finance.

Each test uses two or three governments with round numbers and checks the result against the
arithmetic written out in its comments.
"""

from __future__ import annotations

import numpy as np
import pytest
from dynamics_helpers import by_region, govs, place_table, places, policy_arrays

from urbsim.dynamics import economy as E
from urbsim.dynamics import finance as F
from urbsim.scenario.schema import Economy, Policy
from urbsim.state import PlaceState

_GOV = np.array([0, 0, 1])


# ---------------------------------------------------------------------------------------------
# Income
# ---------------------------------------------------------------------------------------------
def _finance_places() -> PlaceState:
    return places(
        3,
        urban_residents=[1000.0, 2000.0, 0.0],
        wage=[40_000.0, 20_000.0, 30_000.0],
        employment=[0.9, 1.0, 0.8],
        residents=[1200.0, 2500.0, 500.0],
        registered_population=[1500.0, 2000.0, 1000.0],
    )


def test_revenue_is_a_share_of_the_urban_wage_bill() -> None:
    eco = Economy(local_tax_rate=0.1, workers_per_person=0.5)
    # labour [500, 1000, 0]: 0.1 * 40,000 * 0.9 * 500 = 1.8e6; 0.1 * 20,000 * 1 * 1000 = 2e6
    np.testing.assert_allclose(F.local_revenue(_finance_places(), eco), [1.8e6, 2e6, 0.0])


def test_transfers_follow_residents_or_registered_population() -> None:
    eco = Economy(transfer_per_person=100.0, transfer_region=by_region(1.0, 1.0, 2.0, 1.0))
    ps = _finance_places()
    region = np.array([0, 2, 2])
    # per person: 100 * wage index 1.5 * regional multiplier [1, 2, 2] = [150, 300, 300]
    # permanent: residents [1200, 2500, 500] -> [180,000, 750,000, 150,000]
    np.testing.assert_allclose(
        F.central_transfers(ps, eco, region, permanent=True, wage_index=1.5),
        [180_000.0, 750_000.0, 150_000.0],
    )
    # registered: [1500, 2000, 1000] -> [225,000, 600,000, 300,000]
    np.testing.assert_allclose(
        F.central_transfers(ps, eco, region, permanent=False, wage_index=1.5),
        [225_000.0, 600_000.0, 300_000.0],
    )


def test_land_revenue_sells_the_land_of_the_new_housing_at_the_local_price() -> None:
    # infrastructure has served at most 1000, 2000 and 1000 urban residents: the first place's
    # 1250 are 250 new ones, the second's as many as ever, the third's half of its most
    # (shrunk); the year's new housing houses 300, 40 (quota land, no new residents) and 0
    ps = places(
        3,
        urban_residents=[1250.0, 2000.0, 500.0],
        infrastructure_served=[1000.0, 2000.0, 1000.0],
        housing_cost=[720.0, 360.0, 36_000.0],
        housing_built=[300.0, 40.0, 0.0],
    )
    np.testing.assert_allclose(F.new_urban_residents(ps), [250.0, 0.0, 0.0])
    eco = Economy(land_per_urban_resident=100.0, land_price_2010=1000.0, housing_cost_2010=360.0)
    # land price 1000 * cost / 360, at most 20 times 1000: [2000, 1000, 20000] yuan/m2
    np.testing.assert_allclose(F.land_price(ps, eco), [2000.0, 1000.0, 20_000.0])
    # 300 persons * 100 m2 * 2000 yuan/m2 = 6e7; 40 * 100 * 1000 = 4e6; nothing built: 0
    np.testing.assert_allclose(F.land_revenue(ps, eco), [6e7, 4e6, 0.0])
    # infrastructure: 250 * 60,000 * wage index 1.5 = 2.25e7
    eco = Economy(infrastructure_cost=60_000.0)
    np.testing.assert_allclose(F.infrastructure_need(ps, eco, 1.5), [2.25e7, 0.0, 0.0])


def test_infrastructure_is_built_once_for_a_fall_and_a_recovery() -> None:
    # a place of 1000 urban residents falls to 900, recovers to 1000, grows to 1100: only the
    # last 100 are new to its infrastructure (the year's gain would pay for the recovery too)
    ps = places(1, urban_residents=[1000.0], infrastructure_served=[1000.0])
    eco = Economy(infrastructure_cost=1.0)
    needs = []
    for urban in (900.0, 1000.0, 1100.0):
        ps.urban_residents[:] = urban
        needs.append(float(F.infrastructure_need(ps, eco, 1.0)[0]))
        F.serve_new_urban_residents(ps)
    assert needs == [0.0, 0.0, 100.0]
    assert ps.infrastructure_served[0] == 1100.0


def test_collect_income_sums_places_and_splits_off_compensation() -> None:
    gs = govs(2)
    eco = Economy(land_net_share=0.25)
    F.collect_income(
        gs,
        np.array([1.0, 2.0, 3.0]),
        np.array([10.0, 20.0, 30.0]),
        np.array([100.0, 300.0, 40.0]),
        _GOV,
        2,
        eco,
    )
    np.testing.assert_allclose(gs.revenue, [3.0, 3.0])
    np.testing.assert_allclose(gs.transfers, [30.0, 30.0])
    np.testing.assert_allclose(gs.land_revenue, [400.0, 40.0])
    # three quarters of gross land revenue pays compensation and land development
    np.testing.assert_allclose(gs.compensation, [300.0, 30.0])


# ---------------------------------------------------------------------------------------------
# Debt regime
# ---------------------------------------------------------------------------------------------
def test_interest_falls_from_the_lgfv_rate_to_the_bond_rate_over_the_swap() -> None:
    eco = Economy(
        lgfv_interest_rate=0.08, interest_rate=0.04, debt_swap_year=2015, debt_swap_years=4
    )
    assert F.average_interest_rate(eco, 2014) == 0.08  # before the swap
    # swapped share (year - 2015 + 1) / 4: 2015 a quarter, 2016 half, 2018 all
    assert F.average_interest_rate(eco, 2015) == pytest.approx(0.04 + 0.75 * 0.04)
    assert F.average_interest_rate(eco, 2016) == pytest.approx(0.06)
    assert F.average_interest_rate(eco, 2018) == pytest.approx(0.04)
    assert F.average_interest_rate(eco, 2030) == pytest.approx(0.04)


def test_national_ceiling_interpolates_then_grows_with_wages() -> None:
    eco = Economy(
        debt_ceiling={"2015": 16.0, "2017": 20.0},
        debt_swap_year=2015,
        wage_growth={"2010": 0.1},
    )
    assert F.national_ceiling(eco, 2014) == 0.0  # no statutory ceiling before the swap
    assert F.national_ceiling(eco, 2015) == pytest.approx(16e12)
    assert F.national_ceiling(eco, 2016) == pytest.approx(18e12)  # halfway
    # two years past the last key: 20 * 1.1 * 1.1 = 24.2
    assert F.national_ceiling(eco, 2019) == pytest.approx(24.2e12)
    assert F.national_ceiling(Economy(debt_ceiling={}), 2020) == 0.0


def test_ceilings_lgfv_limit_then_recognised_stock_then_capacity() -> None:
    eco = Economy(
        borrowing_limit=2.0,
        debt_ceiling={"2015": 3e-9, "2016": 3.6e-9},  # 3000 and 3600 yuan
        debt_swap_year=2015,
        wage_growth={"2010": 0.1},
    )
    capacity = np.array([100.0, 100.0])
    gs = govs(2, debt=[1000.0, 500.0])
    F.update_ceilings(gs, eco, 2014, capacity)
    np.testing.assert_allclose(gs.debt_ceiling, [200.0, 200.0])  # 2 years of capacity
    F.update_ceilings(gs, eco, 2015, capacity)
    # 3000 shared by debt 1000 : 500
    np.testing.assert_allclose(gs.debt_ceiling, [2000.0, 1000.0])
    F.update_ceilings(gs, eco, 2016, capacity)
    # the 600 increment shared by capacity 100 : 100 -> +300 each
    np.testing.assert_allclose(gs.debt_ceiling, [2300.0, 1300.0])
    F.update_ceilings(gs, eco, 2017, capacity)
    # 3600 * 1.1 = 3960: +360 by capacity -> +180 each
    np.testing.assert_allclose(gs.debt_ceiling, [2480.0, 1480.0])


# ---------------------------------------------------------------------------------------------
# Budgets and investment
# ---------------------------------------------------------------------------------------------
def _budget_eco() -> Economy:
    return Economy(
        lgfv_interest_rate=0.08,
        interest_rate=0.04,
        debt_swap_year=2015,
        debt_swap_years=4,
        amortization=0.1,
        service_budget_share=0.5,
    )


def test_budgets_pay_obligations_from_the_fund_then_the_general_budget() -> None:
    gs = govs(
        2,
        revenue=[1000.0, 100.0],
        transfers=[600.0, 0.0],
        land_revenue=[400.0, 40.0],
        compensation=[300.0, 30.0],
        debt=[2000.0, 1000.0],
        renewal_cost=[50.0, 0.0],
        reserves=[0.0, 5.0],
    )
    F.set_budgets(gs, _budget_eco(), 2014)
    # interest at 8 %: [160, 80]; debt service adds 10 % amortization: [360, 180]
    np.testing.assert_allclose(gs.interest, [160.0, 80.0])
    np.testing.assert_allclose(gs.debt_service, [360.0, 180.0])
    # obligations [410, 180]; the fund (net land [100, 10] + reserves [0, 5]) pays [100, 15]
    # first, the general budget [1600, 100] pays [310, 100]; government 1's last 65 are arrears
    np.testing.assert_allclose(gs.arrears, [0.0, 65.0])
    # service budget: half of what the general budget has left, [0.5 * 1290, 0]
    np.testing.assert_allclose(gs.service_budget, [645.0, 0.0])
    np.testing.assert_allclose(gs.other_spending, [645.0, 0.0])
    # nothing left in either fund for investment
    np.testing.assert_allclose(gs.fund, [0.0, 0.0])

    # After the swap the rate is lower: 2016, half swapped, 0.06 * 2000 = 120 of interest
    gs.reserves[:] = [0.0, 5.0]
    F.set_budgets(gs, _budget_eco(), 2016)
    np.testing.assert_allclose(gs.interest, [120.0, 60.0])


def test_invest_uses_the_fund_then_borrows_within_the_room_then_repays() -> None:
    eco = Economy(investment_share=0.5, amortization=0.1)
    need = np.array([500.0, 250.0, 350.0, 0.0])  # yuan the services still need, by place
    gov = np.array([0, 0, 1, 2])
    gs = govs(
        3,
        fund=[100.0, 0.0, 500.0],
        debt=[2000.0, 1000.0, 100.0],
        arrears=[0.0, 65.0, 0.0],
        debt_ceiling=[2500.0, 900.0, 1000.0],
    )
    infra = np.array([80.0, 0.0, 30.0, 80.0])
    spent = F.invest(gs, need, infra, gov, 3, eco)
    # service need by government, half of it wanted: 0.5 * [750, 350, 0] = [375, 175, 0]
    # gov 0: fund 100 pays infrastructure 80 and 20 of services; borrows the other 355 within
    #   room 2500 - 0.9 * 2000 = 700; debt 1800 + 355
    # gov 1: debt after amortization plus arrears 900 + 65 = 965 is over the ceiling: no room
    # gov 2: fund 500 pays infrastructure 80, the surplus 420 repays the debt left (90), 330
    #   is reserved
    np.testing.assert_allclose(gs.borrowing, [355.0, 0.0, 0.0])
    np.testing.assert_allclose(gs.infrastructure, [80.0, 0.0, 80.0])
    np.testing.assert_allclose(gs.service_investment, [375.0, 0.0, 0.0])
    np.testing.assert_allclose(gs.repayment, [0.0, 0.0, 90.0])
    np.testing.assert_allclose(gs.reserves, [0.0, 0.0, 330.0])
    np.testing.assert_allclose(gs.debt, [2155.0, 965.0, 0.0])
    # service investment by place in proportion to need: 375 * 500/750, 375 * 250/750
    np.testing.assert_allclose(spent, [250.0, 125.0, 0.0, 0.0])
    # an effort of 2 wants all of the need (the share is at most 1), 0 wants none
    gs = govs(2, debt_ceiling=[1e6, 1e6])
    F.invest(gs, need[:2], np.zeros(2), np.array([0, 1]), 2, eco, np.array([2.0, 0.0]))
    np.testing.assert_allclose(gs.service_investment, [500.0, 0.0])


def test_programme_bonds_come_first_within_the_room() -> None:
    eco = Economy(investment_share=1.0, amortization=0.0)
    gs = govs(2, debt_ceiling=[100.0, 1000.0])
    gov = np.array([0, 1])
    F.invest(gs, np.array([50.0, 50.0]), np.zeros(2), gov, 2, eco, bonds=np.array([80.0, 80.0]))
    # government 0: bonds 80 of its room 100, services get the last 20 of their 50;
    # government 1: bonds 80 and services 50 fit
    np.testing.assert_allclose(gs.programme_bonds, [80.0, 80.0])
    np.testing.assert_allclose(gs.service_investment, [20.0, 50.0])
    np.testing.assert_allclose(gs.borrowing, [100.0, 130.0])
    np.testing.assert_allclose(gs.debt, [100.0, 130.0])
    gs = govs(1, debt_ceiling=[30.0])
    F.invest(gs, np.zeros(1), np.zeros(1), np.zeros(1, int), 1, eco, bonds=np.array([80.0]))
    np.testing.assert_allclose(gs.programme_bonds, [30.0])  # no more than the room


def test_borrowing_splits_between_infrastructure_and_services_by_need() -> None:
    eco = Economy(investment_share=1.0, amortization=0.0)
    gs = govs(1, debt_ceiling=[150.0])
    # needs: infrastructure 100, services 1000 -> room 150 only
    F.invest(gs, np.array([1000.0]), np.array([100.0]), np.zeros(1, np.int64), 1, eco)
    np.testing.assert_allclose(gs.borrowing, [150.0])
    # 150 * 100 / 1100 to infrastructure, 150 * 1000 / 1100 to services
    np.testing.assert_allclose(gs.infrastructure, [150.0 / 11.0])
    np.testing.assert_allclose(gs.service_investment, [1500.0 / 11.0])


def test_governance_costs_per_resident_above_the_reference_efficiency() -> None:
    ps = places(3, urban_residents=[1000.0, 3000.0, 500.0])
    # 20 yuan * wage index 1.5 * (1.5 - 1) = 15 yuan per urban resident: 4000 * 15, 500 * 15
    np.testing.assert_allclose(F.governance_costs(ps, 1.5, 20.0, 1.5, _GOV, 2), [60_000.0, 7_500.0])
    # at the reference efficiency (or below) governance costs nothing extra
    np.testing.assert_allclose(F.governance_costs(ps, 0.8, 20.0, 1.5, _GOV, 2), [0.0, 0.0])
    # and it is an obligation: 0.5 * (general budget 1000 - 100 paid) = 450 for services
    gs = govs(1, revenue=[1000.0], governance_cost=[100.0])
    F.set_budgets(gs, Economy(service_budget_share=0.5), 2016)
    np.testing.assert_allclose(gs.service_budget, [450.0])


def test_initial_debt_is_years_of_general_budget() -> None:
    gs = govs(2, revenue=[100.0, 10.0], transfers=[50.0, 0.0])
    F.initial_debt(gs, Economy(initial_debt_ratio=0.9))
    np.testing.assert_allclose(gs.debt, [135.0, 9.0])


# ---------------------------------------------------------------------------------------------
# The year's update as a whole (services and the budget: test_economy.py)
# ---------------------------------------------------------------------------------------------
def test_the_first_year_starts_from_the_initial_debt() -> None:
    eco = Economy(
        local_tax_rate=0.1,
        workers_per_person=0.5,
        transfer_per_person=0.0,
        initial_debt_ratio=2.0,
        lgfv_interest_rate=0.05,
        amortization=0.1,
        service_budget_share=1.0,
        borrowing_limit=0.0,
    )
    ps = places(1, urban_residents=[100.0], wage=[1000.0], employment=[1.0])
    gs = govs(1)
    users = {k: np.zeros((1, 3)) for k in ("health", "education", "elderly")}
    E.update_governments(
        ps, gs, place_table([0], [0]), eco, policy_arrays(1), Policy(), users, 1.0, 1.0,
        np.zeros(1, int), 1, np.zeros(0, int), 2010, first=True,
    )  # fmt: skip
    # revenue 0.1 * 1000 * 50 = 5000; initial debt 2 years = 10,000; interest 500, amortization
    # 1000 from the general budget; no service demand, so the 3500 left go to other spending;
    # no room to borrow, so the debt is 9000
    np.testing.assert_allclose(gs.other_spending, [3500.0])
    np.testing.assert_allclose(gs.debt, [9000.0])
