"""Indicators of a recorded year computed from the counts and the place values: the service
gaps, the national aggregates of the national table, the migration indicators (floating
population by scope, return migrants, the decomposition of urban growth) and the province flow
table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from urbsim.dynamics import services
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.kernels import migrants as M
from urbsim.output.columns import size_class_column
from urbsim.state import SERVICE_TYPES, LocalState, PlaceState
from urbsim.world import SIZE_CLASSES, PlaceTable
from urbsim.world.base import DISTRICT as _DISTRICT


def _weighted_gaps(ps: PlaceState, users: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Entitlement and capacity gaps of the places in ``mask``, weighted by ``users``."""
    total = float(np.sum(users[mask]))
    if total <= 0:
        return 0.0, 0.0
    ent = float(np.sum((ps.entitlement_gap * users)[mask])) / total
    cap = float(np.sum((ps.capacity_gap * users)[mask])) / total
    return ent, cap


def national_gaps(ps: PlaceState, size_class: np.ndarray) -> dict[str, float]:
    """Entitlement and capacity gaps of the whole country and of each size class (the places'
    gaps weighted by their users of all service types), the service gap (their sum), and the
    capacity gap of each service type (entitled needs beyond capacity over its users)."""
    users = sum(getattr(ps, f"{name}_users") for name in SERVICE_TYPES)
    ent, cap = _weighted_gaps(ps, users, np.ones(users.shape[0], dtype=bool))
    out = {"entitlement_gap": ent, "capacity_gap": cap, "service_gap": ent + cap}
    for code, name in enumerate(SIZE_CLASSES):
        ent, cap = _weighted_gaps(ps, users, size_class == code)
        out[size_class_column("entitlement_gap", name)] = ent
        out[size_class_column("capacity_gap", name)] = cap
    for name in SERVICE_TYPES:
        demand = getattr(ps, f"{name}_demand")
        served = np.minimum(services.effective_capacity(ps, name), demand)
        n_users = float(np.sum(getattr(ps, f"{name}_users")))
        out[f"capacity_gap_{name}"] = float(np.sum(demand - served)) / n_users if n_users else 0.0
    return out


def national_row(
    counts: np.ndarray,
    ps: PlaceState,
    gs: LocalState,
    table: PlaceTable,
    hpa: float,
    size_class: np.ndarray,
) -> dict[str, float]:
    """National aggregates of one year from the integer counts and place values (the national
    columns of :mod:`urbsim.output.columns` that come from the count); ``size_class`` is each
    place's city size class."""
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
    row.update(national_gaps(ps, size_class))
    return row


def urban_growth_decomposition(counters: np.ndarray) -> dict[str, int]:
    """The year's change of urban residents by its sources, in agent persons.

    The identity ``urban(t) - urban(t - 1) = natural + migration + reclassification`` holds
    exactly: urban residents change only by births and deaths in urban-zone households, by
    households moving between a rural and an urban zone, and by in-situ reclassification of
    rural zones (``tests/dynamics/test_migration_indicators.py`` holds the model to it).

    Parameters
    ----------
    counters
        Counters of a household step (``C_*`` of :mod:`urbsim.kernels.layout`).

    Returns
    -------
    dict[str, int]
        ``natural`` (urban births - urban deaths), ``migration`` (persons moving into an urban
        zone - out of one) and ``reclassification`` (persons reclassified in place).
    """
    c = counters
    return {
        "natural": int(c[L.C_URBAN_BIRTHS] - c[L.C_URBAN_DEATHS]),
        "migration": int(c[L.C_URBAN_IN] - c[L.C_URBAN_OUT]),
        "reclassification": int(c[L.C_INSITU]),
    }


def floating_head_mean_age(migrants: np.ndarray) -> float:
    """Mean age (years) of the heads of floating households aged
    :data:`urbsim.kernels.migrants.SURVEY_AGES`, one per household (the scale cancels); NaN
    when there is none.

    Parameters
    ----------
    migrants
        Per-place migrant counts (:func:`urbsim.kernels.migrants.count_migrants`).
    """
    heads = int(migrants[:, M.M_SURVEY_HEADS].sum())
    return float(migrants[:, M.M_SURVEY_HEAD_AGES].sum() / heads) if heads else float("nan")


def migration_row(counters: np.ndarray, migrants: np.ndarray, hpa: float) -> dict[str, float]:
    """National migration columns of a year (:data:`urbsim.output.columns.NATIONAL`).

    Parameters
    ----------
    counters
        Counters of the year's household step (zeros in the start year).
    migrants
        Per-place migrant counts at the end of the year
        (:func:`urbsim.kernels.migrants.count_migrants`).
    hpa
        Households per agent.
    """
    growth = urban_growth_decomposition(counters)
    return {
        "interprovince_floating_population": float(migrants[:, M.M_OTHER_PROVINCE].sum() * hpa),
        "intraprovince_floating_population": float(migrants[:, M.M_OTHER_COUNTY].sum() * hpa),
        "outmigrant_workers": float(migrants[:, M.M_WORKERS].sum() * hpa),
        "outmigrant_workers_interprovince": float(
            migrants[:, M.M_WORKERS_OTHER_PROVINCE].sum() * hpa
        ),
        "floating_recent_arrivals": float(migrants[:, M.M_RECENT].sum() * hpa),
        "floating_children": float(migrants[:, M.M_CHILDREN].sum() * hpa),
        "floating_children_left_behind": float(migrants[:, M.M_CHILDREN_LEFT_BEHIND].sum() * hpa),
        "floating_head_mean_age": floating_head_mean_age(migrants),
        "return_migrants": float(counters[L.C_RETURN_MIGRANTS] * hpa),
        "hazard_return_migrants": float(counters[L.C_HAZARD_RETURN_MIGRANTS] * hpa),
        "job_ends": float(counters[L.C_JOB_ENDS] * hpa),
        "job_end_movers": float(counters[L.C_JOB_END_MOVERS] * hpa),
        "urban_growth_natural": float(growth["natural"] * hpa),
        "urban_growth_migration": float(growth["migration"] * hpa),
        "urban_growth_reclassification": float(growth["reclassification"] * hpa),
    }


def place_migrants(migrants: np.ndarray, hpa: float) -> dict[str, np.ndarray]:
    """Per-place migrant columns of a year (:data:`urbsim.output.columns.PLACES`): in-migrants
    from other provinces and from other counties of the province, and migrants by head age."""
    out = {
        "inmigrants_other_province": migrants[:, M.M_OTHER_PROVINCE] * hpa,
        "inmigrants_other_county": migrants[:, M.M_OTHER_COUNTY] * hpa,
    }
    for k, band in enumerate(M.HEAD_AGE_BANDS):
        out[f"migrants_head_{band}"] = migrants[:, M.M_HEAD_AGE0 + k] * hpa
    return out


def flows_frame(
    year: int, flows: np.ndarray, province_codes: np.ndarray, hpa: float
) -> pd.DataFrame:
    """One year's province flow matrix as a tidy table: every (origin, destination) pair of
    provinces, moves between places in households and persons (real, agents x ``hpa``).

    Parameters
    ----------
    year
        The year of the household step.
    flows
        ``(provinces, provinces, N_FLOW)`` agent counts (:attr:`StepResult.flows`); an empty
        matrix gives an empty table.
    province_codes
        Province code of each province index.
    hpa
        Households per agent.
    """
    n = flows.shape[0]
    codes = np.asarray(province_codes, dtype=np.int16)[:n]
    return pd.DataFrame(
        {
            "year": np.full(n * n, year, dtype=np.int64),
            "origin_province_code": np.repeat(codes, n),
            "destination_province_code": np.tile(codes, n),
            "households": flows[:, :, L.F_HOUSEHOLDS].reshape(-1) * hpa,
            "persons": flows[:, :, L.F_PERSONS].reshape(-1) * hpa,
        }
    )
