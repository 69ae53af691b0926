"""Yearly updates of places and governments, vectorized over arrays.

Both household engines share these functions, so they see identical place values (and the
engine-equivalence tests cannot see a bug here: ``tests/dynamics`` tests them directly).
Monetary values are yuan of the year; ``wage_index`` carries real wage growth since the start
year and scales wages, rents, transfers and the cost of services alike.

Order of a year's updates (:func:`update_places`, then :func:`update_governments`):

1. wages, jobs and employment (:mod:`urbsim.dynamics.labour`), housing cost and stock
   (:mod:`urbsim.dynamics.housing`);
2. entitled service demand (:mod:`urbsim.dynamics.services`);
3. old-community renewal (:func:`renew_communities`);
4. county-town programme: depreciation, then the year's money (:func:`depreciate_programme`,
   :func:`fund_programme`);
5. local budgets: revenue, transfers, debt service, service budget (:func:`local_revenue`,
   :func:`central_transfers`, :func:`set_budgets`);
6. service capacity (:func:`fund_services`): the budget by place, depreciation, borrowing for
   part of what the services still need (:func:`allocate_services`, :func:`borrow`), running
   and building capacity by type, the entitlement and capacity gaps and service quality;
7. points quotas (:func:`points_quotas`).

The labour market, housing and service demand live in their own modules; this one holds the
sequence of the year, the programmes and local public finance.
"""

from __future__ import annotations

import numpy as np

from urbsim.dynamics import services
from urbsim.dynamics.housing import update_housing
from urbsim.dynamics.labour import productivity, update_labour
from urbsim.kernels.layout import RULE_POINTS
from urbsim.scenario.schema import CountyTown, Economy, Policy, Renewal
from urbsim.state import LocalState, PlaceState, PolicyArrays
from urbsim.world import PlaceTable

#: Yuan per billion yuan (``policy.county_town.budget`` is in billion yuan/year).
_YUAN_PER_BILLION = 1e9
#: Persons per 10,000 (``quota_per_10k`` is persons per 10,000 registered per year).
_PER_10K = 1e-4


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------
def _share_of_group(values: np.ndarray, gov: np.ndarray, n_gov: int) -> np.ndarray:
    """Each place's share of its government's total of ``values`` (0 where the total is 0)."""
    total = np.bincount(gov, weights=values, minlength=n_gov)[gov]
    return np.divide(values, total, out=np.zeros(values.shape[0]), where=total > 0)


# ---------------------------------------------------------------------------------------------
# Places: wages, jobs, housing (:mod:`urbsim.dynamics.labour`, :mod:`urbsim.dynamics.housing`)
# ---------------------------------------------------------------------------------------------
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
    *,
    demand: np.ndarray,
    index_growth: float,
    size_class: np.ndarray,
) -> None:
    """Wages, jobs and employment, housing stock and cost, for the year about to run.

    ``spillover`` is the wage multiplier from nearby growth poles
    (:func:`urbsim.dynamics.labour.pole_spillover`), ``demand`` each region's demand index
    (:func:`urbsim.dynamics.labour.regional_demand_index`), ``index_growth`` the national wage
    index over last year's and ``size_class`` each place's city size class.
    """
    wage = productivity(
        ps.urban_residents,
        table.region,
        pa.pole,
        spillover,
        eco,
        policy.growth_poles.productivity_boost,
        wage_index,
        demand,
    )
    update_labour(ps, eco, wage, index_growth, first)
    update_housing(ps, eco, mean_wage_2010, size_class, first)


# ---------------------------------------------------------------------------------------------
# Programmes: old-community renewal, county towns
# ---------------------------------------------------------------------------------------------
def renew_communities(
    ps: PlaceState, gs: LocalState, rn: Renewal, gov: np.ndarray, n_gov: int
) -> float:
    """Renovate ``rn.households_per_year`` urban households, in proportion to the households
    each place has not yet renovated; raise amenity and the renewal factor by the renovated
    share; charge the local share of the cost to ``gs.renewal_cost``.

    Returns
    -------
    float
        The central subsidy (yuan).
    """
    gs.renewal_cost[:] = 0.0
    if rn.households_per_year <= 0:
        return 0.0
    left = np.clip(ps.urban_households - ps.renewed_households, 0.0, None)
    total_left = left.sum()
    if total_left <= 0:
        return 0.0
    done = left * min(1.0, rn.households_per_year / total_left)
    share = np.divide(
        done, ps.urban_households, out=np.zeros_like(done), where=ps.urban_households > 0
    )
    ps.renewed_households += done
    ps.amenity += rn.amenity_effect * share
    ps.renewal_factor += rn.service_effect * share
    cost = done * rn.cost_per_household
    gs.renewal_cost[:] = np.bincount(gov, weights=cost * (1.0 - rn.subsidy_share), minlength=n_gov)
    return float(cost.sum() * rn.subsidy_share)


def depreciate_programme(ps: PlaceState, rate: float) -> None:
    """The capacity built by the county-town programme loses ``rate`` of itself."""
    ps.programme_capacity *= 1.0 - rate


def fund_programme(
    ps: PlaceState,
    ct: CountyTown,
    pilots: np.ndarray,
    region: np.ndarray,
    unit_cost: float,
    efficiency: float,
    wage_index: float,
) -> float:
    """Spend the county-town budget on the pilots, by regional priority times urban residents:
    service capacity, amenity and jobs in the budget's shares.

    Returns
    -------
    float
        Central spending on the programme (yuan).
    """
    if ct.budget <= 0 or not pilots.size:
        return 0.0
    urban = ps.urban_residents[pilots]
    weight = np.asarray(ct.priority.as_tuple())[region[pilots]] * urban
    if weight.sum() <= 0:
        return 0.0
    money = ct.budget * _YUAN_PER_BILLION * weight / weight.sum()
    ps.programme_capacity[pilots] += money * ct.share_services * efficiency / unit_cost
    ps.amenity[pilots] += (
        money * ct.share_amenity / (ct.cost_per_amenity * wage_index * np.maximum(urban, 1.0))
    )
    ps.programme_jobs[pilots] += money * ct.share_jobs / (ct.cost_per_job * wage_index)
    return float(money.sum())


# ---------------------------------------------------------------------------------------------
# Local public finance
# ---------------------------------------------------------------------------------------------
def local_revenue(ps: PlaceState, eco: Economy) -> np.ndarray:
    """Local revenue raised at each place: the tax rate times the urban wage bill (yuan/year)."""
    labour = eco.workers_per_person * ps.urban_residents
    return eco.local_tax_rate * ps.wage * ps.employment * labour


def central_transfers(
    ps: PlaceState, eco: Economy, region: np.ndarray, permanent: bool, wage_index: float
) -> np.ndarray:
    """Central transfers to each place (yuan/year): per person of the funding base, residents
    when ``permanent`` ("money follows people"), else the registered population."""
    base_pop = ps.residents if permanent else ps.registered_population
    return (
        eco.transfer_per_person
        * wage_index
        * np.asarray(eco.transfer_region.as_tuple())[region]
        * base_pop
    )


def set_budgets(
    gs: LocalState,
    revenue: np.ndarray,
    transfers: np.ndarray,
    gov: np.ndarray,
    n_gov: int,
    eco: Economy,
) -> None:
    """Each government's revenue, transfers, interest and service budget: the service share
    of revenue and transfers less debt service (interest plus amortization) and the local
    renewal cost, never negative."""
    gs.revenue[:] = np.bincount(gov, weights=revenue, minlength=n_gov)
    gs.transfers[:] = np.bincount(gov, weights=transfers, minlength=n_gov)
    gs.interest[:] = eco.interest_rate * gs.debt
    debt_service = gs.interest + eco.amortization * gs.debt
    gs.service_budget[:] = np.clip(
        eco.service_budget_share * (gs.revenue + gs.transfers) - debt_service - gs.renewal_cost,
        0.0,
        None,
    )


def allocate_services(ps: PlaceState, gs: LocalState, gov: np.ndarray, n_gov: int) -> np.ndarray:
    """Split each service budget over its places by entitled demand (so quality is even within
    a city).

    Returns
    -------
    numpy.ndarray
        Budget for services at each place (yuan).
    """
    return gs.service_budget[gov] * _share_of_group(ps.service_demand, gov, n_gov)


def borrow(
    gs: LocalState,
    need: np.ndarray,
    gov: np.ndarray,
    n_gov: int,
    eco: Economy,
) -> np.ndarray:
    """Borrow ``investment_share`` of the money the services still need beyond the budget
    (``need``, yuan per place), within the room under the debt ceiling (``borrowing_limit``
    years of revenue and transfers); amortize the old debt.

    Returns
    -------
    numpy.ndarray
        Borrowed money spent at each place (yuan), spread by need.
    """
    need_g = np.bincount(gov, weights=need, minlength=n_gov)
    room = np.clip(eco.borrowing_limit * (gs.revenue + gs.transfers) - gs.debt, 0.0, None)
    gs.borrowing[:] = np.minimum(eco.investment_share * need_g, room)
    spent = gs.borrowing[gov] * _share_of_group(need, gov, n_gov)
    gs.debt[:] = gs.debt * (1.0 - eco.amortization) + gs.borrowing
    return spent


def points_quotas(
    gs: LocalState, pa: PolicyArrays, registered: np.ndarray, gov: np.ndarray, n_gov: int
) -> None:
    """Points quotas: persons per year per city from its places under the points rule, unused
    quota carried over for one year."""
    points = pa.rule == RULE_POINTS
    quota = np.bincount(
        gov,
        weights=np.where(points, pa.quota_per_10k * _PER_10K * registered, 0.0),
        minlength=n_gov,
    )
    gs.quota_left[:] = quota + np.minimum(gs.quota_left, quota)


def fund_services(
    ps: PlaceState,
    gs: LocalState,
    eco: Economy,
    gov: np.ndarray,
    n_gov: int,
    wage_index: float,
    eff: float,
    first: bool,
) -> None:
    """Service capacity of the year (:mod:`urbsim.dynamics.services`): the budget opens the
    first year's capacity or depreciation runs; borrowing covers ``investment_share`` of what
    the services still need; the money runs and builds capacity; gaps and quality follow."""
    svc = eco.services
    alloc = allocate_services(ps, gs, gov, n_gov)
    if first:
        services.open_capacity(ps, svc, alloc, wage_index, eff)
    else:
        services.depreciate(ps, svc)
    need = np.clip(services.money_needed(ps, svc, wage_index, eff) - alloc, 0.0, None)
    spent = borrow(gs, need, gov, n_gov, eco)
    services.fund_capacity(ps, svc, alloc + spent, wage_index, eff)
    services.service_gaps(ps)
    ps.spending[:] = alloc + spent


def update_governments(
    ps: PlaceState,
    gs: LocalState,
    table: PlaceTable,
    eco: Economy,
    pa: PolicyArrays,
    policy: Policy,
    users: dict[str, np.ndarray],
    hpa: float,
    wage_index: float,
    gov: np.ndarray,
    n_gov: int,
    pilots: np.ndarray,
    *,
    first: bool,
) -> tuple[float, float]:
    """Budgets, borrowing, service capacity, programmes and points quotas for the year.

    ``users`` holds, per service type, its urban users by place and access category (agents;
    :func:`urbsim.dynamics.services.set_needs`); ``first`` is the first year (capacity opens
    from the budget).

    Returns
    -------
    programme_spending, renewal_subsidy : float
        Central spending on the county-town programme and renewal subsidies (yuan).
    """
    unit_cost = eco.service_cost * wage_index
    eff = pa.efficiency
    services.set_needs(ps, users, pa.access, eco.service_base_access, hpa)
    renewal_subsidy = renew_communities(ps, gs, policy.renewal, gov, n_gov)
    depreciate_programme(ps, eco.programme_depreciation)
    programme = fund_programme(
        ps, policy.county_town, pilots, table.region, unit_cost, eff, wage_index
    )
    revenue = local_revenue(ps, eco)
    transfers = central_transfers(ps, eco, table.region, pa.funding_permanent, wage_index)
    set_budgets(gs, revenue, transfers, gov, n_gov, eco)
    fund_services(ps, gs, eco, gov, n_gov, wage_index, eff, first)
    points_quotas(gs, pa, ps.registered_population, gov, n_gov)
    return programme, renewal_subsidy
