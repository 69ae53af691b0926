"""Housing of the places: stock and cost."""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import Economy
from urbsim.state import PlaceState


def update_housing(ps: PlaceState, eco: Economy, mean_wage_2010: float, first: bool) -> None:
    """Housing cost from the wage and crowding (residents over stock), then the stock grows
    where residents outnumber it. The first year's stock houses every urban resident."""
    urban = ps.urban_residents
    if first:
        ps.housing_stock[:] = np.maximum(urban, 1.0)
    ratio = np.maximum(urban, 1.0) / ps.housing_stock
    ps.housing_cost[:] = (
        eco.housing_cost_2010 * (ps.wage / mean_wage_2010) * ratio**eco.housing_elasticity
    )
    # Builders respond to crowding: the stock grows where residents outnumber it.
    ps.housing_stock *= 1.0 + eco.housing_supply_response * np.clip(ratio - 1.0, 0.0, None)
