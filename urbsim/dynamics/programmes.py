"""Programmes of addressed units: a province's, prefecture's or county's own county-town
budget and old-community renewal (``policy.places[].county_town_budget``,
``.renewal_households``), in place of what the national programme gives their places.

A unit's amount governs its places that no more specific entry of the same field governs
(:class:`urbsim.state.UnitAmounts`); every other place keeps exactly what the
national programme gives it, so naming a unit changes that unit's places and no other.
"""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import CountyTown
from urbsim.state import UnitAmounts
from urbsim.world.base import DISTRICT

#: Yuan per billion yuan (``county_town_budget`` is in billion yuan/year).
YUAN_PER_BILLION = 1e9


def renewal_done(left: np.ndarray, households_per_year: float, local: UnitAmounts) -> np.ndarray:
    """Urban households renovated this year at each place.

    The national programme renovates ``households_per_year`` in proportion to the households
    each place has not yet renovated (``left``); at the places an addressed unit governs, the
    unit's amount is split over them the same way instead. No place renovates more than it
    has left.
    """
    done = np.zeros_like(left)
    total_left = left.sum()
    if households_per_year > 0 and total_left > 0:
        done = left * min(1.0, households_per_year / total_left)
    if not local.governed.any():
        return done
    own = np.minimum(local.split(left), left)
    return np.where(local.governed, own, done)


def county_town_money(
    national: np.ndarray,
    ct: CountyTown,
    local: UnitAmounts,
    region: np.ndarray,
    kind: np.ndarray,
    urban_residents: np.ndarray,
    pilot: np.ndarray,
) -> np.ndarray:
    """Money of the county-town programmes at each place (yuan).

    ``national`` is the national programme's split over its pilots; at the places an
    addressed unit governs, the unit's budget is split instead over its county towns
    (counties and county-level cities) that ``pilot`` does not exclude (0), by
    ``ct.priority`` of their region times their urban residents.
    """
    if not local.governed.any():
        return national
    eligible = (kind != DISTRICT) & (pilot != 0.0)
    weight = np.where(eligible, np.asarray(ct.priority.as_tuple())[region] * urban_residents, 0.0)
    own = local.split(weight) * YUAN_PER_BILLION
    return np.where(local.governed, own, national)
