"""Housing of the places: demand, stock, construction and cost.

Housing demand is the urban residents (at least ``housing.market_floor``: a county seat is a
housing market even where the census counts few urban residents) times the floor space each
wants, which rises with the real wage index to ``housing.income_elasticity``. Housing cost
follows the wage and crowding (demand over the stock, to ``housing_elasticity``).

Construction has two parts, and their split by city size is what orders prices by size:

* **land quota**: local governments sell construction land under the quota they are allocated
  and developers build on it whatever the demand (``housing.land_quota``, a share of the stock
  per year). Quotas favoured small and medium cities and held back the largest ones, so small
  cities are oversupplied where residents leave or arrive slowly;
* **market response**: builders add ``housing_supply_response`` times ``supply_by_size`` of the
  stock per unit of crowding above 1 (less below 1), slow in the largest cities whose land is
  scarce.

Depreciated stock is replaced where crowding holds; where residents leave construction stops
(beyond the quota) and the stock shrinks by depreciation. The year's construction (persons
housed at 2010 floor space) is ``housing_built``: the land it takes is what local governments
sell (:func:`urbsim.dynamics.finance.land_revenue`).
"""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import Economy
from urbsim.state import PlaceState


def housing_demand(urban: np.ndarray, wage_index: float, eco: Economy) -> np.ndarray:
    """Housing demand (persons housed at 2010 floor space): urban residents, at least
    ``housing.market_floor``, times the wage index to ``housing.income_elasticity``."""
    hm = eco.housing
    return np.maximum(urban, hm.market_floor) * wage_index**hm.income_elasticity


def housing_cost(
    wage: np.ndarray, crowding: np.ndarray, eco: Economy, mean_wage_2010: float
) -> np.ndarray:
    """Annual rent (yuan/m2/year): ``housing_cost_2010`` times the wage over the 2010 mean
    wage, times crowding (demand over stock) to ``housing_elasticity``."""
    return eco.housing_cost_2010 * (wage / mean_wage_2010) * crowding**eco.housing_elasticity


def construction_rate(
    crowding: np.ndarray, response: np.ndarray, depreciation: float, quota: np.ndarray | float = 0.0
) -> np.ndarray:
    """New stock as a share of the stock: depreciation replaced, the land quota built, plus
    ``response`` per unit of crowding above 1 (less below 1), never negative."""
    return np.clip(depreciation + quota + response * (crowding - 1.0), 0.0, None)


def by_size(values: tuple[float, ...], size_class: np.ndarray) -> np.ndarray:
    """Per-place values of a size-class table (in the order of the size classes)."""
    return np.asarray(values, dtype=np.float64)[size_class]


def update_housing(
    ps: PlaceState,
    eco: Economy,
    mean_wage_2010: float,
    size_class: np.ndarray,
    first: bool,
    supply_cut: np.ndarray | float = 0.0,
    demolition: np.ndarray | float = 0.0,
    wage_index: float = 1.0,
) -> None:
    """Housing cost from the wage and crowding, then the stock: depreciation out, construction
    in (:func:`construction_rate`, quota and response by size class). The first year's stock
    houses the whole demand. ``wage_index`` is the real wage index since the start year.

    A population cap (:mod:`urbsim.dynamics.population_control`) withholds ``supply_cut`` of
    the construction and demolishes ``demolition`` of the stock (shares, per place); with
    neither the stock is the same to the bit."""
    demand = housing_demand(ps.urban_residents, wage_index, eco)
    if first:
        ps.housing_stock[:] = demand
    crowding = demand / ps.housing_stock
    ps.housing_cost[:] = housing_cost(ps.wage, crowding, eco, mean_wage_2010)
    hm = eco.housing
    response = eco.housing_supply_response * by_size(hm.supply_by_size.as_tuple(), size_class)
    quota = by_size(hm.land_quota.as_tuple(), size_class)
    built = construction_rate(crowding, response, hm.depreciation, quota) * (1.0 - supply_cut)
    ps.housing_built[:] = built * ps.housing_stock
    ps.housing_stock *= 1.0 - hm.depreciation - demolition + built
