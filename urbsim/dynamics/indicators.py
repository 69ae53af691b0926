"""Indicators of a recorded year computed from the counts and the place values: persons the
services reach, service gaps, and the national aggregates of the national table."""

from __future__ import annotations

import numpy as np

from urbsim.dynamics.services import access_shares
from urbsim.kernels import aggregate as A
from urbsim.state import LocalState, PlaceState, PolicyArrays
from urbsim.world import PlaceTable
from urbsim.world.base import DISTRICT as _DISTRICT


def served_persons(
    acc_urban: np.ndarray, quality: np.ndarray, access: np.ndarray, base_access: float, hpa: float
) -> np.ndarray:
    """Urban residents weighted by access share times service quality (capped at 1), per place:
    the persons the place's services effectively reach."""
    shares = access_shares(access, base_access, acc_urban.shape[1])
    return (acc_urban * shares[None, :]).sum(axis=1) * np.minimum(quality, 1.0) * hpa


def place_service_gap(served: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """Share of a place's urban residents without full service access (0 without residents)."""
    return np.divide(urban - served, urban, out=np.zeros(urban.shape[0]), where=urban > 0)


def national_row(
    counts: np.ndarray,
    acc_urban: np.ndarray,
    ps: PlaceState,
    gs: LocalState,
    table: PlaceTable,
    pa: PolicyArrays,
    base_access: float,
    hpa: float,
) -> dict[str, float]:
    """National aggregates of one year from the integer counts and place values (the national
    columns of :mod:`urbsim.output.columns` that come from the count)."""
    res = counts[:, A.A_RESIDENTS].sum() * hpa
    urb = counts[:, A.A_URBAN].sum() * hpa
    reg = counts[:, A.A_REGISTERED].sum() * hpa
    nonagri = counts[:, A.A_NONAGRI_REGISTERED].sum() * hpa
    served = float(served_persons(acc_urban, ps.quality, pa.access, base_access, hpa).sum())
    county_town = counts[table.kind != _DISTRICT, A.A_URBAN].sum() * hpa
    return {
        "residents": float(res),
        "urban_residents": float(urb),
        "urbanization_rate": float(urb / res) if res else 0.0,
        "hukou_urbanization_rate": float(nonagri / reg) if reg else 0.0,
        "floating_population": float(counts[:, A.A_FLOATING].sum() * hpa),
        "permit_holders": float(counts[:, A.A_PERMIT].sum() * hpa),
        "service_gap": float(1.0 - served / urb) if urb else 0.0,
        "registered_population": float(reg),
        "nonagri_hukou_population": float(nonagri),
        "urban_floating_population": float(counts[:, A.A_URBAN_FLOATING].sum() * hpa),
        "county_town_share": float(county_town / urb) if urb else 0.0,
        "households": float(counts[:, A.A_HOUSEHOLDS].sum() * hpa),
        "local_debt": float(gs.debt.sum()),
    }
