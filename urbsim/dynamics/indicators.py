"""Indicators of a recorded year computed from the counts and the place values: the service
gaps and the national aggregates of the national table."""

from __future__ import annotations

import numpy as np

from urbsim.kernels import aggregate as A
from urbsim.state import SERVICE_TYPES, LocalState, PlaceState
from urbsim.world import PlaceTable
from urbsim.world.base import DISTRICT as _DISTRICT


def national_gaps(ps: PlaceState) -> dict[str, float]:
    """Entitlement and capacity gaps of the whole country: the places' gaps weighted by their
    users of all service types (the share of all users' needs), and their sum."""
    users = sum(getattr(ps, f"{name}_users") for name in SERVICE_TYPES)
    total = float(np.sum(users))
    if total <= 0:
        return {"entitlement_gap": 0.0, "capacity_gap": 0.0, "service_gap": 0.0}
    ent = float(np.sum(ps.entitlement_gap * users)) / total
    cap = float(np.sum(ps.capacity_gap * users)) / total
    return {"entitlement_gap": ent, "capacity_gap": cap, "service_gap": ent + cap}


def national_row(
    counts: np.ndarray,
    ps: PlaceState,
    gs: LocalState,
    table: PlaceTable,
    hpa: float,
) -> dict[str, float]:
    """National aggregates of one year from the integer counts and place values (the national
    columns of :mod:`urbsim.output.columns` that come from the count)."""
    res = counts[:, A.A_RESIDENTS].sum() * hpa
    urb = counts[:, A.A_URBAN].sum() * hpa
    reg = counts[:, A.A_REGISTERED].sum() * hpa
    nonagri = counts[:, A.A_NONAGRI_REGISTERED].sum() * hpa
    county_town = counts[table.kind != _DISTRICT, A.A_URBAN].sum() * hpa
    row = {
        "residents": float(res),
        "urban_residents": float(urb),
        "urbanization_rate": float(urb / res) if res else 0.0,
        "hukou_urbanization_rate": float(nonagri / reg) if reg else 0.0,
        "floating_population": float(counts[:, A.A_FLOATING].sum() * hpa),
        "permit_holders": float(counts[:, A.A_PERMIT].sum() * hpa),
        "registered_population": float(reg),
        "nonagri_hukou_population": float(nonagri),
        "urban_floating_population": float(counts[:, A.A_URBAN_FLOATING].sum() * hpa),
        "county_town_share": float(county_town / urb) if urb else 0.0,
        "households": float(counts[:, A.A_HOUSEHOLDS].sum() * hpa),
        "local_debt": float(gs.debt.sum()),
    }
    row.update(national_gaps(ps))
    return row
