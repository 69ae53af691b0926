"""Housing of the places: stock and cost.

Housing cost follows the wage and crowding (urban residents over the stock, to
``housing_elasticity``). Builders replace the stock lost to depreciation and add to it where
residents outnumber it, faster in small cities than in large ones (``supply_by_size``:
construction-land quotas favour small cities), so costs rise fastest where demand outruns a
slow supply; where residents leave, construction stops and the stock shrinks by depreciation.
"""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import Economy
from urbsim.state import PlaceState


def housing_cost(
    wage: np.ndarray, crowding: np.ndarray, eco: Economy, mean_wage_2010: float
) -> np.ndarray:
    """Annual rent (yuan/m2/year): ``housing_cost_2010`` times the wage over the 2010 mean
    wage, times crowding (residents over stock) to ``housing_elasticity``."""
    return eco.housing_cost_2010 * (wage / mean_wage_2010) * crowding**eco.housing_elasticity


def construction_rate(
    crowding: np.ndarray, response: np.ndarray, depreciation: float
) -> np.ndarray:
    """New stock as a share of the stock: depreciation replaced, plus ``response`` per unit of
    crowding above 1 (less below 1), never negative."""
    return np.clip(depreciation + response * (crowding - 1.0), 0.0, None)


def update_housing(
    ps: PlaceState,
    eco: Economy,
    mean_wage_2010: float,
    size_class: np.ndarray,
    first: bool,
    supply_cut: np.ndarray | float = 0.0,
    demolition: np.ndarray | float = 0.0,
) -> None:
    """Housing cost from the wage and crowding, then the stock: depreciation out, construction
    in (:func:`construction_rate`, response by size class). The first year's stock houses every
    urban resident.

    A population cap (:mod:`urbsim.dynamics.population_control`) withholds ``supply_cut`` of
    the construction and demolishes ``demolition`` of the stock (shares, per place); with
    neither the stock is the same to the bit."""
    urban = np.maximum(ps.urban_residents, 1.0)
    if first:
        ps.housing_stock[:] = urban
    crowding = urban / ps.housing_stock
    ps.housing_cost[:] = housing_cost(ps.wage, crowding, eco, mean_wage_2010)
    hm = eco.housing
    response = eco.housing_supply_response * np.asarray(hm.supply_by_size.as_tuple())[size_class]
    built = construction_rate(crowding, response, hm.depreciation) * (1.0 - supply_cut)
    ps.housing_stock *= 1.0 - hm.depreciation - demolition + built
