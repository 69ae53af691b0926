"""Hand-computed cases for urbsim.dynamics.labour: the regional demand path, productivity, the
job base, the clearing wage, wage adjustment, filled jobs and employment.

Arithmetic in the comments; both household engines read these values, so these tests are what
guards the labour market.
"""

from __future__ import annotations

import numpy as np
import pytest
from dynamics_helpers import by_region, places

from urbsim.dynamics import labour
from urbsim.scenario.schema import Economy


def _growth(e: float, c: float, w: float, ne: float) -> dict[str, dict[str, float]]:
    return {
        k: {"2010": v}
        for k, v in zip(("east", "central", "west", "northeast"), (e, c, w, ne), strict=True)
    }


def test_regional_demand_index_cumulates_growth_over_the_weighted_mean() -> None:
    eco = Economy.model_validate({"labour": {"regional_growth": _growth(0.1, 0.0, 0.0, 0.0)}})
    weights = np.array([1.0, 1.0, 1.0, 1.0])
    # start year: 1 everywhere
    np.testing.assert_allclose(labour.regional_demand_index(eco, weights, 2010, 2010), [1.0] * 4)
    # equal weights: mean growth 0.025; east 1.1 / 1.025, others 1 / 1.025, then squared
    one = np.array([1.1, 1.0, 1.0, 1.0]) / 1.025
    np.testing.assert_allclose(labour.regional_demand_index(eco, weights, 2010, 2011), one)
    np.testing.assert_allclose(labour.regional_demand_index(eco, weights, 2010, 2012), one**2)
    # weights 3:1:0:0: mean growth 0.075
    idx = labour.regional_demand_index(eco, np.array([3.0, 1.0, 0.0, 0.0]), 2010, 2011)
    np.testing.assert_allclose(idx, np.array([1.1, 1.0, 1.0, 1.0]) / 1.075)


def test_default_path_puts_the_northeast_behind_after_2013() -> None:
    eco = Economy()
    weights = np.array([0.45, 0.25, 0.2, 0.1])
    before = labour.regional_demand_index(eco, weights, 2010, 2013)
    after = labour.regional_demand_index(eco, weights, 2010, 2019)
    # The northeast (index 3) loses ground 2013-2019 relative to every other region.
    rel = after / before
    assert rel[3] < min(rel[:3]) and rel[3] < 0.9


def test_productivity_is_the_wage_rule_times_regional_demand() -> None:
    eco = Economy.model_validate(
        {
            "wage_2010": {
                "east": 40_000.0,
                "central": 30_000.0,
                "west": 30_000.0,
                "northeast": 30_000.0,
            },
            "agglomeration_elasticity": 0.0,
            "labour": {"regional_demand_elasticity": 0.5},
        }
    )
    urban = np.array([1e6, 1e6])
    region = np.array([0, 3])
    demand = np.array([1.21, 1.0, 1.0, 0.81])
    out = labour.productivity(urban, region, np.zeros(2, bool), np.ones(2), eco, 0.0, 1.0, demand)
    # 40,000 * sqrt(1.21) = 44,000; 30,000 * sqrt(0.81) = 27,000
    np.testing.assert_allclose(out, [44_000.0, 27_000.0])


def test_place_wages_by_region_size_floor_pole_and_spillover() -> None:
    eco = Economy(
        wage_2010=by_region(40_000.0, 30_000.0, 30_000.0, 30_000.0),
        agglomeration_elasticity=0.5,
        wage_floor_residents=40_000.0,
    )
    urban = np.array([4e6, 1e4, 1e6])
    region = np.array([0, 1, 0])
    pole = np.array([True, False, False])
    spillover = np.array([1.0, 1.02, 1.0])
    wage = labour.place_wages(urban, region, pole, spillover, eco, pole_boost=0.05, wage_index=1.1)
    # 0: 40,000 * 1.1 * sqrt(4e6 / 1e6) = 88,000; pole boost * 1.05 = 92,400
    # 1: below the floor, sized as 40,000 residents: 30,000 * 1.1 * sqrt(0.04) = 6,600;
    #    spillover * 1.02 = 6,732
    # 2: 40,000 * 1.1 * sqrt(1) = 44,000
    np.testing.assert_allclose(wage, [92_400.0, 6_732.0, 44_000.0])


def test_pole_spillover_falls_linearly_to_the_radius() -> None:
    # Three places on the equator: a pole at 0°, others at 0.5° and 5° of longitude.
    lat = np.zeros(3)
    lon = np.radians([0.0, 0.5, 5.0])
    pole = np.array([True, False, False])
    # radius: one degree of arc on the sphere of 6,371 km that distances_km uses
    out = labour.pole_spillover(lat, lon, pole, strength=0.1, radius_km=6371.0 * np.pi / 180.0)
    # 0.5° of arc is half the radius: 1 + 0.1 * (1 - 0.5) = 1.05; 5° is beyond: 1.
    np.testing.assert_allclose(out, [1.0, 1.05, 1.0], rtol=1e-6)
    assert (labour.pole_spillover(lat, lon, np.zeros(3, dtype=bool), 0.1, 100.0) == 1.0).all()


def test_job_base_starts_at_target_then_closes_a_share_of_the_gap() -> None:
    eco = Economy(workers_per_person=0.5, natural_unemployment=0.1, job_adjustment=0.25)
    ps = places(3, urban_residents=[1000.0, 0.0, 2000.0], programme_jobs=[0.0, 0.0, 100.0])
    labour.update_job_base(ps, eco, first=True)
    # labour force [500, 0, 1000]; target = labour * 0.9 + programme jobs = [450, 0, 1000]
    np.testing.assert_allclose(ps.labour_force, [500.0, 0.0, 1000.0])
    np.testing.assert_allclose(ps.job_base, [450.0, 0.0, 1000.0])
    ps.job_base[:] = [400.0, 0.0, 1200.0]
    labour.update_job_base(ps, eco, first=False)
    # += 0.25 * (target - base): 400 + 12.5, 0, 1200 - 50
    np.testing.assert_allclose(ps.job_base, [412.5, 0.0, 1150.0])


def test_clearing_wage_equates_demand_and_supply_within_bounds() -> None:
    a = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    base = np.array([50.0, 150.0, 10.0, 80.0, 0.0])
    supply = np.array([100.0, 100.0, 100.0, 0.0, 100.0])
    w = labour.clearing_wage(a, base, supply, elasticity=0.5)
    # 0: (50/100)^(1/0.5) = 0.25 -> 25; 1: 1.5^2 = 2.25 -> 225
    # 2: 10/100 bounded to 0.5 -> 25; 3 and 4: no supply or no jobs -> productivity
    np.testing.assert_allclose(w, [25.0, 225.0, 25.0, 100.0, 100.0])
    # At the clearing wage demand equals supply: 50 * (100 / 25)^0.5 = 100
    assert 50.0 * (100.0 / w[0]) ** 0.5 == pytest.approx(100.0)


def test_wages_are_indexed_then_close_a_share_of_the_log_gap() -> None:
    w = labour.adjust_wages(np.array([100.0, 100.0]), np.array([440.0, 110.0]), 1.1, 0.5)
    # indexed 110; sqrt(110 * 440) = 220; at the target already: 110
    np.testing.assert_allclose(w, [220.0, 110.0])
    # speed 0 keeps the indexed wage, speed 1 jumps to the target
    np.testing.assert_allclose(
        labour.adjust_wages(np.array([100.0]), np.array([50.0]), 1.1, 0.0), [110.0]
    )
    np.testing.assert_allclose(
        labour.adjust_wages(np.array([100.0]), np.array([50.0]), 1.1, 1.0), [50.0]
    )


def test_filled_jobs_are_the_short_side() -> None:
    jobs = labour.filled_jobs(
        np.array([100.0, 100.0]),
        np.array([100.0, 100.0]),
        np.array([200.0, 50.0]),
        np.array([80.0, 80.0]),
        elasticity=1.0,
    )
    # demand 100 * 100/200 = 50 < 80; 100 * 100/50 = 200 > 80
    np.testing.assert_allclose(jobs, [50.0, 80.0])


def test_unemployment_persists_after_demand_falls_and_fades_as_wages_adjust() -> None:
    eco = Economy.model_validate(
        {
            "workers_per_person": 0.5,
            "natural_unemployment": 0.1,
            "job_adjustment": 0.25,
            "labour": {"demand_elasticity": 1.0, "wage_adjustment": 0.5},
        }
    )
    ps = places(1, urban_residents=[2000.0])
    labour.update_labour(ps, eco, np.array([100.0]), 1.0, first=True)
    # labour force 1000, supply 900 = job base: wage = productivity 100, employment 0.9
    np.testing.assert_allclose([ps.wage[0], ps.employment[0]], [100.0, 0.9])
    labour.update_labour(ps, eco, np.array([90.0]), 1.0, first=False)
    # productivity falls 10 %: clearing wage 90; wage sqrt(100 * 90) = 94.868;
    # demand 900 * 90 / 94.868 = 853.8 -> employment 0.8538
    w1 = np.sqrt(100.0 * 90.0)
    np.testing.assert_allclose(ps.wage, [w1])
    np.testing.assert_allclose(ps.employment, [0.9 * 90.0 / w1])
    labour.update_labour(ps, eco, np.array([90.0]), 1.0, first=False)
    # wage sqrt(94.868 * 90) = 92.40: unemployment smaller but still above natural
    w2 = np.sqrt(w1 * 90.0)
    np.testing.assert_allclose(ps.employment, [0.9 * 90.0 / w2])
    assert 0.9 * 90.0 / w1 < ps.employment[0] < 0.9


def test_more_workers_than_jobs_lower_the_wage() -> None:
    eco = Economy.model_validate(
        {
            "workers_per_person": 0.5,
            "natural_unemployment": 0.0,
            "job_adjustment": 0.5,
            "labour": {"demand_elasticity": 1.0, "wage_adjustment": 1.0},
        }
    )
    ps = places(1, urban_residents=[2000.0])
    labour.update_labour(ps, eco, np.array([100.0]), 1.0, first=True)
    ps.urban_residents[:] = 2400.0  # 200 more workers
    labour.update_labour(ps, eco, np.array([100.0]), 1.0, first=False)
    # job base 1000 + 0.5 * (1200 - 1000) = 1100; clearing wage 100 * 1100 / 1200 = 91.67
    np.testing.assert_allclose(ps.job_base, [1100.0])
    np.testing.assert_allclose(ps.wage, [100.0 * 1100.0 / 1200.0])
    # at the clearing wage every worker is employed (natural unemployment 0)
    np.testing.assert_allclose(ps.employment, [1.0])


def test_employment_without_labour_force_is_one_minus_natural_unemployment() -> None:
    out = labour.employment_rate(np.array([0.0, 50.0]), np.array([0.0, 100.0]), 0.1)
    np.testing.assert_allclose(out, [0.9, 0.5])
