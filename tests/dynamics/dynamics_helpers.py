"""Builders of small hand-made places and governments for the tests of urbsim.dynamics."""

from __future__ import annotations

import numpy as np

from urbsim.kernels.layout import RULE_OPEN
from urbsim.scenario.schema import ByRegion
from urbsim.state import LocalState, PlaceState, PolicyArrays, UnitAmounts
from urbsim.world import PlaceTable


def places(n: int, **arrays: list[float]) -> PlaceState:
    """Places with every state zero (multipliers one) but the arrays given."""
    ps = PlaceState.zeros(n)
    for name, values in arrays.items():
        getattr(ps, name)[:] = values
    return ps


def govs(n: int, **arrays: list[float]) -> LocalState:
    """Local governments with every state zero but the arrays given."""
    gs = LocalState.zeros(n)
    for name, values in arrays.items():
        getattr(gs, name)[:] = values
    return gs


def policy_arrays(n: int, **kw: object) -> PolicyArrays:
    """Policy arrays of ``n`` places: every place open, permits off, unless given."""
    defaults: dict[str, object] = {
        "rule": np.full(n, RULE_OPEN, dtype=np.int64),
        "min_years": np.zeros(n, dtype=np.int64),
        "quota_per_10k": np.zeros(n),
        "permit_on": np.zeros(n, dtype=np.bool_),
        "permit_months": np.full(n, 6, dtype=np.int64),
        "access": np.tile([0.5, 1.0], (n, 1)),
        "funding_permanent": False,
        "efficiency": np.ones(n),
        "pole": np.zeros(n, dtype=np.bool_),
        "cap_pressure": np.zeros(n),
        "housing_supply_cut": np.zeros(n),
        "demolition": np.zeros(n),
        "school_access": np.ones(n),
        "pilot": np.full(n, np.nan),
        "surrender": np.zeros(n, dtype=np.int64),
        "hukou_benefit": np.zeros(n),
        "hukou_benefit_child": np.zeros(n),
        "county_town_budget": UnitAmounts.none(n),
        "renewal_households": UnitAmounts.none(n),
        "relaxed": np.zeros(n, dtype=np.bool_),
    }
    defaults.update(kw)
    return PolicyArrays(**defaults)  # type: ignore[arg-type]


def place_table(
    region: list[int], kind: list[int], is_capital: list[bool] | None = None
) -> PlaceTable:
    """Places with the given regions and kinds (0 urban district, 1 county); the rest filler."""
    n = len(region)
    return PlaceTable(
        code=np.arange(n) + 110101,
        name=np.array([f"p{i}" for i in range(n)], dtype=object),
        province_code=np.full(n, 11),
        prefecture_code=np.full(n, 110100),
        region=np.asarray(region),
        kind=np.asarray(kind),
        lon=np.zeros(n),
        lat=np.zeros(n),
        is_capital=np.asarray(is_capital if is_capital is not None else [False] * n),
        residents=np.zeros(n),
        urban_residents=np.zeros(n),
    )


def by_region(*r: float) -> ByRegion:
    """(east, central, west, northeast)."""
    return ByRegion(east=r[0], central=r[1], west=r[2], northeast=r[3])
