"""Hand-computed cases for urbsim.dynamics.housing: cost from wage and crowding, construction
by city size class, depreciation (the stock shrinks where residents leave)."""

from __future__ import annotations

import numpy as np
from dynamics_helpers import places

from urbsim.dynamics import housing
from urbsim.scenario.schema import Economy

# Size-class codes of urbsim.world.SIZE_CLASSES.
SUPER_LARGE, LARGE_II, SMALL = 0, 3, 5


def _economy(depreciation: float = 0.02) -> Economy:
    return Economy.model_validate(
        {
            "housing_cost_2010": 300.0,
            "housing_elasticity": 2.0,
            "housing_supply_response": 0.1,
            "housing": {
                "depreciation": depreciation,
                "supply_by_size": {
                    "super_large": 0.5,
                    "mega": 0.6,
                    "large_i": 0.8,
                    "large_ii": 1.0,
                    "medium": 1.2,
                    "small": 1.4,
                },
            },
        }
    )


def test_cost_follows_wage_and_crowding() -> None:
    cost = housing.housing_cost(
        np.array([40_000.0, 60_000.0]), np.array([1.0, 1.5]), _economy(), 40_000.0
    )
    # 300 * 1 * 1 = 300; 300 * 1.5 * 1.5^2 = 1012.5
    np.testing.assert_allclose(cost, [300.0, 1012.5])


def test_construction_replaces_depreciation_and_answers_crowding() -> None:
    rate = housing.construction_rate(np.array([1.0, 1.5, 0.5]), np.array([0.1, 0.2, 0.1]), 0.02)
    # 0.02; 0.02 + 0.2 * 0.5 = 0.12; 0.02 - 0.05 < 0 -> 0
    np.testing.assert_allclose(rate, [0.02, 0.12, 0.0])


def test_stock_by_size_class_and_shrinking_where_residents_leave() -> None:
    eco = _economy()
    ps = places(4, urban_residents=[1000.0] * 4, wage=[40_000.0] * 4)
    size = np.array([SUPER_LARGE, SMALL, LARGE_II, LARGE_II])
    housing.update_housing(ps, eco, 40_000.0, size, first=True)
    # first year: the stock houses everyone, crowding 1, cost 300; builders replace the 2 %
    # lost, so the stock is unchanged
    np.testing.assert_allclose(ps.housing_stock, [1000.0] * 4)
    np.testing.assert_allclose(ps.housing_cost, [300.0] * 4)

    ps.urban_residents[:] = [1500.0, 1500.0, 500.0, 1000.0]
    housing.update_housing(ps, eco, 40_000.0, size, first=False)
    # crowding [1.5, 1.5, 0.5, 1]; cost 300 * crowding^2 = [675, 675, 75, 300]
    np.testing.assert_allclose(ps.housing_cost, [675.0, 675.0, 75.0, 300.0])
    # super-large: rate 0.02 + 0.1 * 0.5 * 0.5 = 0.045 -> 1000 * (1 - 0.02 + 0.045) = 1025
    # small: 0.02 + 0.1 * 1.4 * 0.5 = 0.09 -> 1070
    # emptying large II: no construction, 2 % lost -> 980; stable: 1000
    np.testing.assert_allclose(ps.housing_stock, [1025.0, 1070.0, 980.0, 1000.0])


def test_prices_rise_faster_where_supply_is_slow() -> None:
    eco = _economy()
    ps = places(2, urban_residents=[1000.0, 1000.0], wage=[40_000.0] * 2)
    size = np.array([SUPER_LARGE, SMALL])
    housing.update_housing(ps, eco, 40_000.0, size, first=True)
    for _ in range(5):  # the same demand growth, 10 % a year, in both
        ps.urban_residents *= 1.1
        housing.update_housing(ps, eco, 40_000.0, size, first=False)
    assert ps.housing_cost[0] > ps.housing_cost[1] * 1.05
