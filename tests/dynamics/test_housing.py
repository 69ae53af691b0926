"""Hand-computed cases for urbsim.dynamics.housing: demand from residents and income, cost from
wage and crowding, construction from the land quota and the market response by city size
class, depreciation (the stock shrinks where residents leave), and the size ordering of price
growth that follows."""

from __future__ import annotations

import numpy as np
from dynamics_helpers import places

from urbsim.dynamics import housing
from urbsim.scenario.schema import Economy

# Size-class codes of urbsim.world.SIZE_CLASSES.
SUPER_LARGE, LARGE_II, SMALL = 0, 3, 5


def _economy(
    depreciation: float = 0.02,
    quota: tuple[float, float] = (0.0, 0.0),
    income_elasticity: float = 0.0,
    floor: float = 1.0,
) -> Economy:
    """Supply multipliers 0.5 (super-large) ... 1.4 (small); ``quota`` is (super-large,
    small), the other classes 0."""
    return Economy.model_validate(
        {
            "housing_cost_2010": 300.0,
            "housing_elasticity": 2.0,
            "housing_supply_response": 0.1,
            "housing": {
                "depreciation": depreciation,
                "income_elasticity": income_elasticity,
                "market_floor": floor,
                "supply_by_size": {
                    "super_large": 0.5,
                    "mega": 0.6,
                    "large_i": 0.8,
                    "large_ii": 1.0,
                    "medium": 1.2,
                    "small": 1.4,
                },
                "land_quota": {
                    "super_large": quota[0],
                    "mega": 0.0,
                    "large_i": 0.0,
                    "large_ii": 0.0,
                    "medium": 0.0,
                    "small": quota[1],
                },
            },
        }
    )


def test_demand_is_floored_and_grows_with_income() -> None:
    eco = _economy(income_elasticity=0.5, floor=20_000.0)
    demand = housing.housing_demand(np.array([0.0, 5_000.0, 1e6]), 1.21, eco)
    # floor 20,000 for the two small markets; 1.21 ** 0.5 = 1.1
    np.testing.assert_allclose(demand, [22_000.0, 22_000.0, 1.1e6])


def test_cost_follows_wage_and_crowding() -> None:
    cost = housing.housing_cost(
        np.array([40_000.0, 60_000.0]), np.array([1.0, 1.5]), _economy(), 40_000.0
    )
    # 300 * 1 * 1 = 300; 300 * 1.5 * 1.5^2 = 1012.5
    np.testing.assert_allclose(cost, [300.0, 1012.5])


def test_construction_replaces_depreciation_builds_the_quota_and_answers_crowding() -> None:
    rate = housing.construction_rate(
        np.array([1.0, 1.5, 0.5, 0.9]),
        np.array([0.1, 0.2, 0.1, 0.1]),
        0.02,
        np.array([0.01, 0.0, 0.0, 0.03]),
    )
    # 0.02 + 0.01; 0.02 + 0.2 * 0.5 = 0.12; 0.02 - 0.05 < 0 -> 0;
    # oversupplied but on quota land: 0.02 + 0.03 - 0.01 = 0.04
    np.testing.assert_allclose(rate, [0.03, 0.12, 0.0, 0.04])


def test_stock_by_size_class_and_shrinking_where_residents_leave() -> None:
    eco = _economy(quota=(0.0, 0.01))
    ps = places(4, urban_residents=[1000.0] * 4, wage=[40_000.0] * 4)
    size = np.array([SUPER_LARGE, SMALL, LARGE_II, LARGE_II])
    housing.update_housing(ps, eco, 40_000.0, size, first=True)
    # first year: the stock houses everyone, crowding 1, cost 300; builders replace the 2 %
    # lost, so the stock is unchanged but in the small city, which builds its 1 % quota
    np.testing.assert_allclose(ps.housing_stock, [1000.0, 1010.0, 1000.0, 1000.0])
    np.testing.assert_allclose(ps.housing_built, [20.0, 30.0, 20.0, 20.0])
    np.testing.assert_allclose(ps.housing_cost, [300.0] * 4)

    ps.housing_stock[1] = 1000.0
    ps.urban_residents[:] = [1500.0, 1500.0, 500.0, 1000.0]
    housing.update_housing(ps, eco, 40_000.0, size, first=False)
    # crowding [1.5, 1.5, 0.5, 1]; cost 300 * crowding^2 = [675, 675, 75, 300]
    np.testing.assert_allclose(ps.housing_cost, [675.0, 675.0, 75.0, 300.0])
    # super-large: rate 0.02 + 0.1 * 0.5 * 0.5 = 0.045 -> 1000 * (1 - 0.02 + 0.045) = 1025
    # small: 0.02 + 0.01 + 0.1 * 1.4 * 0.5 = 0.1 -> 1080
    # emptying large II: no construction, 2 % lost -> 980; stable: 1000
    np.testing.assert_allclose(ps.housing_stock, [1025.0, 1080.0, 980.0, 1000.0])
    np.testing.assert_allclose(ps.housing_built, [45.0, 100.0, 0.0, 20.0])


def test_income_growth_crowds_the_city_whose_supply_is_slow() -> None:
    eco = _economy(income_elasticity=0.5)
    ps = places(2, urban_residents=[1000.0, 1000.0], wage=[40_000.0] * 2)
    size = np.array([SUPER_LARGE, SMALL])
    housing.update_housing(ps, eco, 40_000.0, size, first=True, wage_index=1.0)
    # a year later the same residents, real wages up 21 %: demand 1000 * 1.1 = 1100 in both
    housing.update_housing(ps, eco, 40_000.0, size, first=False, wage_index=1.21)
    # crowding 1.1 in both this year: cost 300 * 1.21 = 363; construction 0.02 + 0.1 * m * 0.1
    np.testing.assert_allclose(ps.housing_cost, [363.0, 363.0])
    np.testing.assert_allclose(ps.housing_stock, [1005.0, 1014.0])


def test_prices_rise_faster_where_supply_is_slow() -> None:
    eco = _economy()
    ps = places(2, urban_residents=[1000.0, 1000.0], wage=[40_000.0] * 2)
    size = np.array([SUPER_LARGE, SMALL])
    housing.update_housing(ps, eco, 40_000.0, size, first=True)
    for _ in range(5):  # the same demand growth, 10 % a year, in both
        ps.urban_residents *= 1.1
        housing.update_housing(ps, eco, 40_000.0, size, first=False)
    assert ps.housing_cost[0] > ps.housing_cost[1] * 1.05


def test_the_land_quota_oversupplies_small_cities() -> None:
    # No demand growth: the small city keeps building its 3 % quota, crowding falls below 1
    # and its cost with it; the super-large city without quota stays at crowding 1.
    eco = _economy(quota=(0.0, 0.03))
    ps = places(2, urban_residents=[1000.0, 1000.0], wage=[40_000.0] * 2)
    size = np.array([SUPER_LARGE, SMALL])
    housing.update_housing(ps, eco, 40_000.0, size, first=True)
    for _ in range(10):
        housing.update_housing(ps, eco, 40_000.0, size, first=False)
    assert ps.housing_cost[0] == 300.0
    assert ps.housing_cost[1] < 0.9 * 300.0
    # the market response brakes it: crowding settles where 0.03 + 0.14 (crowding - 1) = 0
    assert ps.housing_stock[1] / 1000.0 < 1.0 / (1.0 - 0.03 / 0.14)
