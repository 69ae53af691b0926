"""Hand-computed cases for urbsim.dynamics.services: users and entitled demand by type,
depreciation, the money the services need, running and building capacity, the entitlement and
capacity gaps and the quality households read."""

from __future__ import annotations

import numpy as np
import pytest
from dynamics_helpers import places

from urbsim.dynamics import services
from urbsim.scenario.schema import Services
from urbsim.state import SERVICE_TYPES

# Round costs: running a place 100 (education), 10 (health), 50 (elderly) yuan a year,
# building it twice that; 10 % of places lost a year.
SVC = Services.model_validate(
    {
        "education": {"operating_cost": 100.0, "building_cost": 200.0, "depreciation": 0.1},
        "health": {"operating_cost": 10.0, "building_cost": 20.0, "depreciation": 0.1},
        "elderly": {"operating_cost": 50.0, "building_cost": 100.0, "depreciation": 0.1},
    }
)


def test_entitled_demand_weights_access_categories() -> None:
    # Columns: full (hukou), base, permit after 0, 1, 2 completed years.
    acc = np.array([[10.0, 4.0, 2.0, 2.0, 2.0], [0.0, 10.0, 0.0, 0.0, 0.0]])
    access = np.array([0.5, 0.75])  # the schedule is padded with its last value, 0.75
    # place 0: 10*1 + 4*0.3 + 2*0.5 + 2*0.75 + 2*0.75 = 10 + 1.2 + 1 + 1.5 + 1.5 = 15.2
    # place 1: 10*0.3 = 3; times 100 households per agent
    np.testing.assert_allclose(services.entitled_demand(acc, access, 0.3, 100.0), [1520.0, 300.0])


def test_set_needs_by_type() -> None:
    ps = places(1)
    users = {
        "education": np.array([[2.0, 2.0, 0.0]]),  # 2 hukou children, 2 without access
        "health": np.array([[10.0, 6.0, 4.0]]),
        "elderly": np.array([[3.0, 0.0, 1.0]]),
    }
    services.set_needs(ps, users, np.array([0.5]), 0.25, 10.0)
    # users * 10; demand: education 2 + 2*0.25 = 2.5; health 10 + 1.5 + 2 = 13.5;
    # elderly 3 + 0.5 = 3.5 (times 10)
    np.testing.assert_allclose(
        [ps.education_users[0], ps.health_users[0], ps.elderly_users[0]], [40.0, 200.0, 40.0]
    )
    np.testing.assert_allclose(
        [ps.education_demand[0], ps.health_demand[0], ps.elderly_demand[0]], [25.0, 135.0, 35.0]
    )
    np.testing.assert_allclose(ps.service_demand, [195.0])


def test_depreciation_and_effective_capacity() -> None:
    ps = places(
        1,
        education_capacity=[100.0],
        health_capacity=[50.0],
        elderly_capacity=[10.0],
        education_demand=[30.0],
        health_demand=[60.0],
        elderly_demand=[10.0],
        service_demand=[100.0],
        renewal_factor=[1.2],
        programme_capacity=[20.0],
    )
    services.depreciate(ps, SVC)
    np.testing.assert_allclose([ps.education_capacity[0], ps.health_capacity[0]], [90.0, 45.0])
    # effective: stock * 1.2 + programme 20 * demand share: 90*1.2 + 20*0.3 = 114;
    # 45*1.2 + 20*0.6 = 66; 9*1.2 + 20*0.1 = 12.8
    got = [services.effective_capacity(ps, n)[0] for n in SERVICE_TYPES]
    np.testing.assert_allclose(got, [114.0, 66.0, 12.8])


def test_money_needed_runs_what_is_needed_and_builds_what_is_missing() -> None:
    ps = places(
        1,
        education_capacity=[10.0],
        health_capacity=[100.0],
        education_demand=[15.0],
        health_demand=[40.0],
        service_demand=[55.0],
    )
    need = services.money_needed(ps, SVC, wage_index=2.0, eff=0.5)
    # education: run 10 at 100, build 5 at 300 = 2500; health: run only the 40 needed at 10
    # = 400; elderly nothing; times wage index 2 / efficiency 0.5 = 4
    assert need[0] == pytest.approx(4 * 2900.0)


def test_open_capacity_gives_even_quality() -> None:
    ps = places(1, education_demand=[10.0], health_demand=[100.0], elderly_demand=[0.0])
    services.open_capacity(ps, SVC, np.array([1000.0]), wage_index=1.0, eff=1.0)
    # running cost of the demand: 10*100 + 100*10 = 2000; 1000 yuan runs half of each
    np.testing.assert_allclose(
        [ps.education_capacity[0], ps.health_capacity[0], ps.elderly_capacity[0]], [5.0, 50.0, 0.0]
    )


def test_short_money_closes_places_evenly() -> None:
    ps = places(
        1,
        education_capacity=[10.0],
        health_capacity=[100.0],
        education_demand=[10.0],
        health_demand=[100.0],
        service_demand=[110.0],
    )
    services.fund_capacity(ps, SVC, np.array([1000.0]), wage_index=1.0, eff=1.0)
    # bill 10*100 + 100*10 = 2000; 1000 keeps half of every type
    np.testing.assert_allclose([ps.education_capacity[0], ps.health_capacity[0]], [5.0, 50.0])


def test_spare_money_builds_missing_places_by_their_cost() -> None:
    ps = places(
        1,
        education_capacity=[10.0],
        health_capacity=[100.0],
        education_demand=[20.0],
        health_demand=[150.0],
        service_demand=[170.0],
    )
    services.fund_capacity(ps, SVC, np.array([3500.0]), wage_index=1.0, eff=1.0)
    # bill 2000; 1500 to invest; missing: education 10 places at 300 = 3000, health 50 at 30
    # = 1500; shares 2/3, 1/3: education 1000 / 300 = 3.33 new, health 500 / 30 = 16.67 new
    np.testing.assert_allclose(
        [ps.education_capacity[0], ps.health_capacity[0]],
        [10.0 + 1000.0 / 300.0, 100.0 + 500.0 / 30.0],
    )


def test_with_nothing_missing_money_builds_ahead_of_demand() -> None:
    ps = places(
        1,
        health_capacity=[100.0],
        health_demand=[50.0],
        elderly_demand=[10.0],
        service_demand=[60.0],
        elderly_capacity=[10.0],
    )
    services.fund_capacity(ps, SVC, np.array([1500.0 + 1000.0 + 500.0]), 1.0, 1.0)
    # bill 100*10 + 10*50 = 1500; 1500 invested by the cost of entitled demand: health
    # 50 * 30 = 1500, elderly 10 * 150 = 1500 -> 750 each: 25 health, 5 elderly places
    np.testing.assert_allclose([ps.health_capacity[0], ps.elderly_capacity[0]], [125.0, 15.0])


def test_gaps_separate_entitlement_from_capacity() -> None:
    ps = places(
        1,
        education_users=[100.0],
        health_users=[400.0],
        elderly_users=[0.0],
        education_demand=[80.0],
        health_demand=[300.0],
        service_demand=[380.0],
        education_capacity=[40.0],
        health_capacity=[400.0],
    )
    services.service_gaps(ps)
    # users 500; not entitled 20 + 100 = 120 -> 0.24; entitled but not served: education
    # 80 - 40 = 40 -> 0.08; served 40 + 300 = 340 of 380 entitled
    np.testing.assert_allclose(ps.entitlement_gap, [0.24])
    np.testing.assert_allclose(ps.capacity_gap, [0.08])
    np.testing.assert_allclose(ps.quality, [340.0 / 380.0])
    np.testing.assert_allclose(ps.service_capacity, [440.0])


def test_an_empty_place_has_no_gap_and_full_quality() -> None:
    ps = places(1)
    services.service_gaps(ps)
    assert (ps.entitlement_gap[0], ps.capacity_gap[0], ps.quality[0]) == (0.0, 0.0, 1.0)


def test_short_money_closes_places_beyond_demand_first() -> None:
    ps = places(
        1,
        health_capacity=[100.0],
        health_demand=[50.0],
        elderly_demand=[10.0],
        service_demand=[60.0],
        elderly_capacity=[10.0],
    )
    services.fund_capacity(ps, SVC, np.array([1000.0]), 1.0, 1.0)
    # running the needed 50 health and 10 elderly places costs 500 + 500 = 1000: the 50
    # health places nobody is entitled to close
    np.testing.assert_allclose([ps.health_capacity[0], ps.elderly_capacity[0]], [50.0, 10.0])
