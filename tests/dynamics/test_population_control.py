"""Population caps of the largest cities (issue 13): the enforcement pressure and the housing
channel, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import places_helpers as P
import pytest
from dynamics_helpers import places
from hypothesis import given, settings
from hypothesis import strategies as st

from urbsim.dynamics import housing
from urbsim.dynamics.population_control import cap_arrays, cap_pressure
from urbsim.scenario.places import resolve_places
from urbsim.scenario.schema import Economy, PlacePolicy, PopulationCap, SizeValues

_SIZE_KEYS = tuple(SizeValues.model_fields)


@pytest.mark.parametrize(
    ("residents", "pressure"),
    [(0.0, 0.0), (18.4e6, 0.0), (20.7e6, 0.5), (23.0e6, 1.0), (30e6, 1.0)],
)
def test_pressure_rises_linearly_from_the_trigger_to_the_cap(
    residents: float, pressure: float
) -> None:
    # Beijing's 23 million with enforcement from 80 % of it (18.4 million).
    cap = PopulationCap(residents=23e6, trigger=0.8)
    assert cap_pressure(cap, residents) == pytest.approx(pressure)


@settings(max_examples=100, deadline=None)
@given(
    residents=st.floats(0, 1e8, allow_nan=False),
    more=st.floats(0, 1e7, allow_nan=False),
    trigger=st.floats(0, 0.99),
)
def test_pressure_is_a_share_and_never_falls_as_residents_rise(
    residents: float, more: float, trigger: float
) -> None:
    cap = PopulationCap(residents=25e6, trigger=trigger)
    low, high = cap_pressure(cap, residents), cap_pressure(cap, residents + more)
    assert 0.0 <= low <= high <= 1.0


def test_a_more_specific_cap_wins_over_its_province() -> None:
    entries = [
        PlacePolicy(code=440000, name="广东省", population_cap={"residents": 1e6}),
        PlacePolicy(code=440300, name="深圳市", population_cap={"residents": 1e9}),
    ]
    resolved = resolve_places(entries, P.small_index())
    caps = cap_arrays(resolved, np.full(6, 1e6), 6)
    # Guangdong's 4 million are four times its cap; Shenzhen's own cap is far away.
    assert caps.pressure.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert caps.school_access.tolist() == [1.0, 1.0, 0.5, 0.5, 1.0, 0.5]


def test_housing_supply_cut_and_demolition_act_on_the_stock() -> None:
    # Large II cities (supply multiplier 1): response 0.1, depreciation 0.02.
    # No land quota, no income growth, no floor on demand: crowding is residents over stock.
    eco = Economy.model_validate(
        {
            "housing_supply_response": 0.1,
            "housing": {
                "depreciation": 0.02,
                "market_floor": 1.0,
                "land_quota": dict.fromkeys(_SIZE_KEYS, 0.0),
            },
        }
    )
    assert eco.housing.supply_by_size.large_ii == 1.0
    # Two crowded places (residents 1.5 times the stock): the first capped, the second not.
    ps = places(2, urban_residents=[150.0, 150.0], housing_stock=[100.0, 100.0], wage=[1.0, 1.0])
    size = np.array([3, 3])
    housing.update_housing(ps, eco, 1.0, size, False, np.array([0.5, 0.0]), np.array([0.03, 0.0]))
    # Construction 0.02 + 0.1 * 0.5 = 0.07 of the stock. Free: 100 * (1 - 0.02 + 0.07) = 105.
    # Capped: half the construction, 3 % demolished: 100 * (1 - 0.02 - 0.03 + 0.035) = 98.5.
    np.testing.assert_allclose(ps.housing_stock, [98.5, 105.0])


def test_without_a_cap_the_housing_update_is_unchanged_to_the_bit() -> None:
    eco = Economy()
    size = np.array([0, 3, 5])
    a = places(3, urban_residents=[150.0, 90.0, 1e6], housing_stock=[100.0, 100.0, 7e5])
    a.wage[:] = [4e4, 3e4, 5e4]
    b = places(3, urban_residents=[150.0, 90.0, 1e6], housing_stock=[100.0, 100.0, 7e5])
    b.wage[:] = a.wage
    housing.update_housing(a, eco, 4e4, size, False, wage_index=1.2)
    housing.update_housing(b, eco, 4e4, size, False, np.zeros(3), np.zeros(3), 1.2)
    np.testing.assert_array_equal(a.housing_stock, b.housing_stock)
    np.testing.assert_array_equal(a.housing_cost, b.housing_cost)
    # ... and equal to the update without the cap's terms.
    stock = np.array([100.0, 100.0, 7e5])
    crowding = housing.housing_demand(np.array([150.0, 90.0, 1e6]), 1.2, eco) / stock
    hm = eco.housing
    response = eco.housing_supply_response * np.asarray(hm.supply_by_size.as_tuple())[size]
    quota = np.asarray(hm.land_quota.as_tuple())[size]
    rate = housing.construction_rate(crowding, response, hm.depreciation, quota)
    np.testing.assert_array_equal(a.housing_stock, stock * (1.0 - hm.depreciation + rate))
