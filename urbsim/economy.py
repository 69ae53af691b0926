"""Yearly updates of places and governments, vectorized over arrays.

Both household engines share these functions, so they see identical place values. Monetary
values are yuan of the year; ``wage_index`` carries real wage growth since the start year and
scales wages, rents, transfers and the cost of services alike.
"""

from __future__ import annotations

import numpy as np

from urbsim.governments import AMORTIZATION, PROGRAMME_DEPRECIATION, LocalState, PolicyArrays
from urbsim.kernels import aggregate as A
from urbsim.kernels.layout import RULE_POINTS
from urbsim.places import PlaceState, distances_km
from urbsim.scenario.schema import Economy, Policy
from urbsim.world import PlaceTable

_DISTRICT = 0
#: Urban residents below which a place's wage is computed as if it had this many (a county town
#: of a few thousand people still pays a regional wage).
_MIN_URBAN = 20_000.0


def interpolate(series: dict[str, float], year: int) -> float:
    """Value of a year series (keys are years) at ``year``: linear between keys, flat outside."""
    years = np.array(sorted(int(k) for k in series), dtype=np.float64)
    values = np.array([series[str(int(y))] for y in years], dtype=np.float64)
    return float(np.interp(float(year), years, values))


def access_shares(access: np.ndarray, base_access: float, n_categories: int) -> np.ndarray:
    """Entitlement of each access category (full, base, permit by years), the permit schedule
    padded with its last value to ``n_categories`` columns."""
    permit = np.full(n_categories - 2, access[-1])
    permit[: min(access.shape[0], n_categories - 2)] = access[: n_categories - 2]
    return np.concatenate(([1.0, base_access], permit))


def entitled_demand(
    acc: np.ndarray, access: np.ndarray, base_access: float, hpa: float
) -> np.ndarray:
    """Persons weighted by their service entitlement, per place, from access-category counts."""
    shares = access_shares(access, base_access, acc.shape[1])
    return (acc * shares[None, :]).sum(axis=1) * hpa


def pole_spillover(
    lat: np.ndarray, lon: np.ndarray, pole: np.ndarray, strength: float, radius_km: float
) -> np.ndarray:
    """Wage multiplier from the nearest growth pole: 1 + strength * (1 - d / radius), d < radius.

    Places that are themselves poles get no spillover (they get the pole boost instead).
    """
    out = np.ones(lat.shape[0])
    idx = np.flatnonzero(pole)
    if idx.size == 0 or strength == 0.0:
        return out
    d = distances_km(lat, lon, lat[idx], lon[idx]).min(axis=1)
    gain = strength * np.clip(1.0 - d / radius_km, 0.0, None)
    return np.where(pole, 1.0, 1.0 + gain)


def update_places(
    ps: PlaceState,
    table: PlaceTable,
    eco: Economy,
    pa: PolicyArrays,
    policy: Policy,
    wage_index: float,
    mean_wage_2010: float,
    spillover: np.ndarray,
    first: bool,
) -> None:
    """Wages, jobs and employment, housing stock and cost, for the year about to run.

    ``spillover`` is the wage multiplier from nearby growth poles (:func:`pole_spillover`).
    """
    urban = ps.urban_residents
    base = np.asarray(eco.wage_2010.as_tuple())[table.region]
    size = np.maximum(urban, _MIN_URBAN) / 1e6
    wage = base * wage_index * size**eco.agglomeration_elasticity
    wage = wage * np.where(pa.pole, 1.0 + policy.growth_poles.productivity_boost, 1.0)
    wage = wage * spillover
    ps.wage[:] = wage
    labour = eco.workers_per_person * urban
    target = labour * (1.0 - eco.natural_unemployment) + ps.programme_jobs
    if first:
        ps.jobs[:] = target
        ps.housing_stock[:] = np.maximum(urban, 1.0)
    else:
        ps.jobs += eco.job_adjustment * (target - ps.jobs)
    ps.employment[:] = np.where(
        labour > 0,
        np.minimum(1.0, ps.jobs / np.maximum(labour, 1.0)),
        1.0 - eco.natural_unemployment,
    )
    ratio = np.maximum(urban, 1.0) / ps.housing_stock
    ps.housing_cost[:] = (
        eco.housing_cost_2010 * (wage / mean_wage_2010) * ratio**eco.housing_elasticity
    )
    # Builders respond to crowding: the stock grows where residents outnumber it.
    ps.housing_stock *= 1.0 + eco.housing_supply_response * np.clip(ratio - 1.0, 0.0, None)


def update_governments(
    ps: PlaceState,
    gs: LocalState,
    table: PlaceTable,
    eco: Economy,
    pa: PolicyArrays,
    policy: Policy,
    counts: np.ndarray,
    acc_urban: np.ndarray,
    hpa: float,
    wage_index: float,
    gov: np.ndarray,
    n_gov: int,
    pilots: np.ndarray,
) -> tuple[float, float]:
    """Budgets, borrowing, service capacity, programmes and points quotas for the year.

    Returns
    -------
    programme_spending, renewal_subsidy : float
        Central spending on the county-town programme and renewal subsidies (yuan).
    """
    unit_cost = eco.service_cost * wage_index
    eff = pa.efficiency
    urban = ps.urban_residents
    region = table.region

    # Demand: urban residents weighted by entitlement.
    ps.service_demand[:] = entitled_demand(acc_urban, pa.access, eco.service_base_access, hpa)

    # Old-community renewal: households renovated in proportion to urban households not yet done.
    rn = policy.renewal
    renewal_subsidy = 0.0
    gs.renewal_cost[:] = 0.0
    if rn.households_per_year > 0:
        left = np.clip(ps.urban_households - ps.renewed_households, 0.0, None)
        total_left = left.sum()
        if total_left > 0:
            done = left * min(1.0, rn.households_per_year / total_left)
            share = np.divide(
                done, ps.urban_households, out=np.zeros_like(done), where=ps.urban_households > 0
            )
            ps.renewed_households += done
            ps.amenity += rn.amenity_effect * share
            ps.renewal_factor += rn.service_effect * share
            cost = done * rn.cost_per_household
            renewal_subsidy = float(cost.sum() * rn.subsidy_share)
            gs.renewal_cost[:] = np.bincount(
                gov, weights=cost * (1.0 - rn.subsidy_share), minlength=n_gov
            )

    # County-town programme: central money to the pilot county towns.
    ct = policy.county_town
    programme = 0.0
    ps.programme_capacity *= 1.0 - PROGRAMME_DEPRECIATION
    if ct.budget > 0 and pilots.size:
        weight = np.asarray(ct.priority.as_tuple())[region[pilots]] * urban[pilots]
        if weight.sum() > 0:
            money = ct.budget * 1e9 * weight / weight.sum()
            programme = float(money.sum())
            ps.programme_capacity[pilots] += money * ct.share_services * eff / unit_cost
            ps.amenity[pilots] += (
                money
                * ct.share_amenity
                / (ct.cost_per_amenity * wage_index * np.maximum(urban[pilots], 1.0))
            )
            ps.programme_jobs[pilots] += money * ct.share_jobs / (ct.cost_per_job * wage_index)

    # Local budgets: revenue from the urban wage bill, central transfers by the funding base.
    labour = eco.workers_per_person * urban
    revenue = eco.local_tax_rate * ps.wage * ps.employment * labour
    base_pop = ps.residents if pa.funding_permanent else ps.registered_population
    transfers = (
        eco.transfer_per_person
        * wage_index
        * np.asarray(eco.transfer_region.as_tuple())[region]
        * base_pop
    )
    gs.revenue[:] = np.bincount(gov, weights=revenue, minlength=n_gov)
    gs.transfers[:] = np.bincount(gov, weights=transfers, minlength=n_gov)
    gs.interest[:] = eco.interest_rate * gs.debt
    debt_service = gs.interest + AMORTIZATION * gs.debt
    gs.service_budget[:] = np.clip(
        eco.service_budget_share * (gs.revenue + gs.transfers) - debt_service - gs.renewal_cost,
        0.0,
        None,
    )
    # Within a city, the budget follows entitled demand, so quality is even across its places.
    demand_g = np.bincount(gov, weights=ps.service_demand, minlength=n_gov)
    alloc = gs.service_budget[gov] * np.divide(
        ps.service_demand, demand_g[gov], out=np.zeros(urban.shape[0]), where=demand_g[gov] > 0
    )
    capacity = alloc * eff / unit_cost * ps.renewal_factor + ps.programme_capacity
    # Borrowing to close part of the shortfall, within the debt ceiling.
    short = np.clip(ps.service_demand - capacity, 0.0, None)
    short_g = np.bincount(gov, weights=short, minlength=n_gov)
    room = np.clip(eco.borrowing_limit * (gs.revenue + gs.transfers) - gs.debt, 0.0, None)
    gs.borrowing[:] = np.minimum(eco.investment_share * short_g * unit_cost / eff, room)
    borrow = gs.borrowing[gov] * np.divide(
        short, short_g[gov], out=np.zeros(urban.shape[0]), where=short_g[gov] > 0
    )
    capacity = capacity + borrow * eff / unit_cost
    gs.debt[:] = gs.debt * (1.0 - AMORTIZATION) + gs.borrowing
    ps.service_capacity[:] = capacity
    ps.spending[:] = alloc + borrow
    ps.quality[:] = np.divide(
        capacity, ps.service_demand, out=np.ones(urban.shape[0]), where=ps.service_demand > 0
    )

    # Points quotas: persons per year per city, unused quota carried over for one year.
    points = pa.rule == RULE_POINTS
    quota = np.bincount(
        gov,
        weights=np.where(points, pa.quota_per_10k * 1e-4 * ps.registered_population, 0.0),
        minlength=n_gov,
    )
    gs.quota_left[:] = quota + np.minimum(gs.quota_left, quota)
    return programme, renewal_subsidy


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
    """National aggregates of one year from the integer counts and place values."""
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
