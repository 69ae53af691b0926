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
5. local budgets (:func:`run_finance`, :mod:`urbsim.dynamics.finance`): revenue, transfers
   and land income, debt ceilings, obligations, service budget;
6. service capacity (:func:`fund_services`): the budget by place, depreciation, investment in
   infrastructure and in part of what the services still need from land income and borrowing
   (:func:`allocate_services`, :func:`urbsim.dynamics.finance.invest`), running and building
   capacity by type, the entitlement and capacity gaps and service quality;
7. points quotas (:func:`points_quotas`).

Before step 3, local governments decide their settlement openness and investment effort
(:func:`urbsim.dynamics.local_policy.respond`, when ``policy.local_response`` is on). The
labour market, housing, service demand, public finance and local decisions live in their own
modules; this one holds the sequence of the year and the programmes.
"""

from __future__ import annotations

import numpy as np

from urbsim.dynamics import finance as F
from urbsim.dynamics import services
from urbsim.dynamics.housing import update_housing
from urbsim.dynamics.labour import productivity, update_labour
from urbsim.dynamics.local_policy import respond
from urbsim.dynamics.programmes import county_town_money, renewal_done
from urbsim.kernels.layout import RULE_POINTS
from urbsim.scenario.schema import CountyTown, Economy, Policy, Renewal
from urbsim.state import LocalState, PlaceState, PolicyArrays, UnitAmounts
from urbsim.world import PlaceTable

#: Yuan per billion yuan (``policy.county_town.budget`` is in billion yuan/year).
_YUAN_PER_BILLION = 1e9
#: Persons per 10,000 (``quota_per_10k`` is persons per 10,000 registered per year).
_PER_10K = 1e-4


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
    update_housing(
        ps,
        eco,
        mean_wage_2010,
        size_class,
        first,
        pa.housing_supply_cut,
        pa.demolition,
        wage_index,
    )


# ---------------------------------------------------------------------------------------------
# Programmes: old-community renewal, county towns
# ---------------------------------------------------------------------------------------------
def renew_communities(
    ps: PlaceState,
    gs: LocalState,
    rn: Renewal,
    gov: np.ndarray,
    n_gov: int,
    local: UnitAmounts | None = None,
) -> float:
    """Renovate ``rn.households_per_year`` urban households, in proportion to the households
    each place has not yet renovated (at the places an addressed unit governs, the unit's
    ``local`` amount instead: :func:`urbsim.dynamics.programmes.renewal_done`); raise amenity
    and the renewal factor by the renovated share; charge the local share of the cost to
    ``gs.renewal_cost``.

    Returns
    -------
    float
        The central subsidy (yuan).
    """
    gs.renewal_cost[:] = 0.0
    if local is None:
        local = UnitAmounts.none(ps.urban_households.shape[0])
    if rn.households_per_year <= 0 and not local.governed.any():
        return 0.0
    left = np.clip(ps.urban_households - ps.renewed_households, 0.0, None)
    if left.sum() <= 0:
        return 0.0
    done = renewal_done(left, rn.households_per_year, local)
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


def programme_money(
    ps: PlaceState, ct: CountyTown, pilots: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """The county-town budget split over the pilots by regional priority times urban residents
    (yuan per place; 0 outside the pilots)."""
    money = np.zeros(ps.urban_residents.shape[0])
    if ct.budget <= 0 or not pilots.size:
        return money
    weight = np.asarray(ct.priority.as_tuple())[region[pilots]] * ps.urban_residents[pilots]
    if weight.sum() > 0:
        money[pilots] = ct.budget * _YUAN_PER_BILLION * weight / weight.sum()
    return money


def fund_programme(
    ps: PlaceState,
    ct: CountyTown,
    pilots: np.ndarray,
    region: np.ndarray,
    unit_cost: float,
    efficiency: float | np.ndarray,
    wage_index: float,
    money: np.ndarray | None = None,
) -> float:
    """Spend the county-town money (``money`` per place, yuan; by default the national budget
    over the pilots, :func:`programme_money`): service capacity, amenity and jobs in the
    budget's shares, at ``unit_cost`` per place of service capacity (divided by the place's
    governance ``efficiency``), ``ct.cost_per_amenity`` per amenity unit and resident and
    ``ct.cost_per_job`` per job.

    Returns
    -------
    float
        Spending on the programme (yuan): higher-level money and the places' special bonds.
    """
    if money is None:
        money = programme_money(ps, ct, pilots, region)
    at = np.flatnonzero(money > 0)
    spent = money[at]
    if not spent.sum() > 0:
        return 0.0
    eff = np.broadcast_to(np.asarray(efficiency, dtype=np.float64), money.shape)[at]
    urban = ps.urban_residents[at]
    ps.programme_capacity[at] += spent * ct.share_services * eff / unit_cost
    ps.amenity[at] += (
        spent * ct.share_amenity / (ct.cost_per_amenity * wage_index * np.maximum(urban, 1.0))
    )
    ps.programme_jobs[at] += spent * ct.share_jobs / (ct.cost_per_job * wage_index)
    return float(spent.sum())


# ---------------------------------------------------------------------------------------------
# Services and quotas (the budgets are in :mod:`urbsim.dynamics.finance`)
# ---------------------------------------------------------------------------------------------
def allocate_services(ps: PlaceState, gs: LocalState, gov: np.ndarray, n_gov: int) -> np.ndarray:
    """Split each service budget over its places by entitled demand (so quality is even within
    a city).

    Returns
    -------
    numpy.ndarray
        Budget for services at each place (yuan).
    """
    return gs.service_budget[gov] * F.group_share(ps.service_demand, gov, n_gov)


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
    eff: float | np.ndarray,
    first: bool,
    effort: np.ndarray,
    bonds: np.ndarray,
) -> None:
    """Service capacity of the year (:mod:`urbsim.dynamics.services`): the budget opens the
    first year's capacity or depreciation runs; investment (:func:`urbsim.dynamics.finance.invest`:
    land income, then borrowing under the ceiling) covers ``investment_share`` times ``effort``
    of what the services still need, besides infrastructure for new urban residents; the money
    runs and builds capacity; gaps and quality follow. ``bonds`` (yuan per government) are the
    county-town programme's special bonds it issues first. A government without service demand
    spends its service budget on other things."""
    svc = eco.services
    alloc = allocate_services(ps, gs, gov, n_gov)
    used = F.group_sum(alloc, gov, n_gov)
    gs.other_spending += gs.service_budget - used
    gs.service_budget[:] = used
    if first:
        services.open_capacity(ps, svc, alloc, wage_index, eff)
    else:
        services.depreciate(ps, svc)
    need = np.clip(services.money_needed(ps, svc, wage_index, eff) - alloc, 0.0, None)
    infra = F.infrastructure_need(ps, eco, wage_index)
    F.serve_new_urban_residents(ps)
    spent = F.invest(gs, need, infra, gov, n_gov, eco, effort, bonds)
    services.fund_capacity(ps, svc, alloc + spent, wage_index, eff)
    services.service_gaps(ps)
    ps.spending[:] = alloc + spent


def run_finance(
    ps: PlaceState,
    gs: LocalState,
    region: np.ndarray,
    eco: Economy,
    pa: PolicyArrays,
    wage_index: float,
    gov: np.ndarray,
    n_gov: int,
    year: int,
    first: bool,
) -> None:
    """The year's income, debt ceilings and budgets (:mod:`urbsim.dynamics.finance`); the
    start year sets the initial debt first."""
    revenue = F.local_revenue(ps, eco)
    transfers = F.central_transfers(ps, eco, region, pa.funding_permanent, wage_index)
    F.collect_income(gs, revenue, transfers, F.land_revenue(ps, eco), gov, n_gov, eco)
    if first:
        F.initial_debt(gs, eco)
    F.update_ceilings(gs, eco, year, F.fiscal_capacity(gs))
    F.set_budgets(gs, eco, year)


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
    year: int,
    *,
    first: bool,
) -> tuple[float, float]:
    """Local decisions, budgets, investment and borrowing, service capacity, programmes and
    points quotas for ``year``.

    ``users`` holds, per service type, its urban users by place and access category (agents;
    :func:`urbsim.dynamics.services.set_needs`); ``first`` is the first year (capacity opens
    from the budget, debt is the initial stock). Local decisions
    (:func:`urbsim.dynamics.local_policy.respond`) change ``pa``.

    Returns
    -------
    programme_spending, renewal_subsidy : float
        Central spending on the county-town programme (what the pilots' special bonds do not
        pay) and renewal subsidies (yuan).
    """
    unit_cost = eco.service_cost * wage_index
    eff = pa.efficiency
    services.set_needs(ps, users, pa.access, eco.service_base_access, hpa)
    statutory = F.national_ceiling(eco, year) > 0.0
    lr = policy.local_response
    effort = respond(ps, gs, pa, table, gov, n_gov, lr, eco.natural_unemployment, statutory, first)
    renewal_subsidy = renew_communities(ps, gs, policy.renewal, gov, n_gov, pa.renewal_households)
    depreciate_programme(ps, eco.programme_depreciation)
    ct = policy.county_town
    money = county_town_money(
        programme_money(ps, ct, pilots, table.region),
        ct,
        pa.county_town_budget,
        table.region,
        table.kind,
        ps.urban_residents,
        pa.pilot,
    )
    programme = fund_programme(ps, ct, pilots, table.region, unit_cost, eff, wage_index, money)
    bonds = ct.bond_share * F.group_sum(money, gov, n_gov)
    gs.governance_cost[:] = F.governance_costs(
        ps, eff, policy.governance_cost, wage_index, gov, n_gov
    )
    run_finance(ps, gs, table.region, eco, pa, wage_index, gov, n_gov, year, first)
    fund_services(ps, gs, eco, gov, n_gov, wage_index, eff, first, effort, bonds)
    points_quotas(gs, pa, ps.registered_population, gov, n_gov)
    # The pilots' special bonds (within their ceilings) pay part of the programme.
    return programme - float(gs.programme_bonds.sum()), renewal_subsidy
