"""Local public finance: revenue, transfers, land-transfer income, obligations, budgets,
investment and borrowing under a debt ceiling, with the 2015 debt swap.

A local government (one per prefecture) keeps two budgets, as Chinese local governments do:

* the **fund budget**: land-transfer revenue, of which compensation and land development take
  the share ``1 - land_net_share``; the net income and reserves pay the year's obligations
  (interest, amortization, the local share of renewal) first, as land income serviced LGFV
  debt, and with borrowing they pay investment in urban infrastructure for new urban
  residents and in public services to close part of the service shortfall. A surplus repays
  debt early and what is left is kept as a reserve;
* the **general budget**: local revenue (taxes) and central transfers pay the obligations the
  fund cannot, then the service budget (the share ``service_budget_share`` of what is left)
  and other current spending (the rest: administration, public security and the like, which
  the model does not follow further).

Borrowing is limited by a ceiling. Before ``economy.debt_swap_year`` (2015: the amended Budget
Law) local governments borrowed through their financing vehicles (LGFVs), up to
``economy.borrowing_limit`` years of revenue, transfers and net land income, at
``economy.lgfv_interest_rate``. From that year the stock is recognised as government debt (the
balance carries over unchanged), swapped into bonds over ``economy.debt_swap_years`` (the
average interest rate falls linearly to ``economy.interest_rate``), and the legislature's
national ceiling ``economy.debt_ceiling`` applies: the first year's ceiling is shared out by each
government's debt (the ceiling recognised the screened stock), later increments by fiscal
capacity.

Every yuan is accounted for (``tests/dynamics/test_finance_properties.py``)::

    revenue + transfers + land revenue + borrowing + arrears + reserves before
        = compensation + service budget + other spending + renewal + governance + debt service
          + infrastructure + service investment + programme bonds + early repayment
          + reserves after

``arrears`` (obligations no budget could pay, rolled into the debt) are zero unless debt
service exceeds all of a government's income.
"""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import Economy
from urbsim.state import LocalState, PlaceState

#: Yuan per trillion yuan (``economy.debt_ceiling`` is in trillion yuan).
YUAN_PER_TRILLION = 1e12
#: Highest land price relative to ``economy.land_price_2010``. Housing cost follows crowding,
#: which explodes at places that start with almost no urban housing (remote counties of a few
#: hundred urban residents); land there is not dearer than in the largest cities, whose land
#: prices are of the order of ten times the national average.
LAND_PRICE_CAP = 20.0


def group_sum(values: np.ndarray, gov: np.ndarray, n_gov: int) -> np.ndarray:
    """Sum of ``values`` over the places of each government."""
    return np.bincount(gov, weights=values, minlength=n_gov)


def group_share(values: np.ndarray, gov: np.ndarray, n_gov: int) -> np.ndarray:
    """Each place's share of its government's total of ``values`` (0 where the total is 0)."""
    total = group_sum(values, gov, n_gov)[gov]
    return np.divide(values, total, out=np.zeros(values.shape[0]), where=total > 0)


# ---------------------------------------------------------------------------------------------
# Income
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


def new_urban_residents(ps: PlaceState) -> np.ndarray:
    """Urban residents of each place beyond the most its infrastructure has served
    (``infrastructure_served``, a high-water mark; 0 where the place has not grown past it).

    A stock rule rather than the year's gain: a place whose urban residents fall and recover
    already has the roads and pipes for them, and at coarse scales (whole agents of 1,000
    households) the positive part of a noisy yearly change would pay for them again and
    again (the scale study of 2026-12-07: +75 % of investment in 2035 at 1,000 households per
    agent against 10 under that rule; a running maximum still rises with upward noise, far
    less)."""
    return np.clip(ps.urban_residents - ps.infrastructure_served, 0.0, None)


def serve_new_urban_residents(ps: PlaceState) -> None:
    """Raise each place's ``infrastructure_served`` to its urban residents where they exceed
    it, once the year's need is reckoned (whether or not all of it is paid: an unpaid need is
    not carried over)."""
    np.maximum(ps.infrastructure_served, ps.urban_residents, out=ps.infrastructure_served)


def land_price(ps: PlaceState, eco: Economy) -> np.ndarray:
    """Gross price of transferred land at each place (yuan/m2): ``land_price_2010`` scaled like
    the place's housing cost (higher in large, crowded, well-paid cities), at most
    :data:`LAND_PRICE_CAP` times the reference."""
    relative = np.minimum(ps.housing_cost / eco.housing_cost_2010, LAND_PRICE_CAP)
    return eco.land_price_2010 * relative


def land_revenue(ps: PlaceState, eco: Economy) -> np.ndarray:
    """Gross land-transfer revenue of each place (yuan/year): the construction land of the
    year's new housing (``housing_built``, persons housed at 2010 floor space, times
    ``land_per_urban_resident`` m2 each) sold at the place's :func:`land_price`. Land follows
    the housing built, so the quota land of small cities sells even where demand is weak, and
    the land price follows housing costs, which rise fastest in the largest cities."""
    return ps.housing_built * eco.land_per_urban_resident * land_price(ps, eco)


def infrastructure_need(ps: PlaceState, eco: Economy, wage_index: float) -> np.ndarray:
    """Public investment the new urban residents of each place (:func:`new_urban_residents`)
    call for (yuan/year)."""
    return new_urban_residents(ps) * eco.infrastructure_cost * wage_index


# ---------------------------------------------------------------------------------------------
# Debt regime
# ---------------------------------------------------------------------------------------------
def average_interest_rate(eco: Economy, year: int) -> float:
    """Average interest rate on local debt in ``year``: the LGFV rate before the swap, falling
    linearly to the bond rate over ``debt_swap_years`` from ``debt_swap_year`` on (a quarter
    of the stock swapped in each of 2015-2018 with the defaults)."""
    if year < eco.debt_swap_year:
        return eco.lgfv_interest_rate
    swapped = min(1.0, (year - eco.debt_swap_year + 1) / eco.debt_swap_years)
    return eco.interest_rate + (1.0 - swapped) * (eco.lgfv_interest_rate - eco.interest_rate)


def national_ceiling(eco: Economy, year: int) -> float:
    """The legislature's ceiling on all local debt in ``year`` (yuan); 0 before the swap year
    or without a ceiling series. Between keys of ``economy.debt_ceiling`` it is interpolated;
    after the last key it grows with real wage growth (fiscal capacity grows with wages)."""
    series = eco.debt_ceiling
    if year < eco.debt_swap_year or not series:
        return 0.0
    years = sorted(int(k) for k in series)
    value = float(np.interp(year, years, [series[str(y)] for y in years]))
    for y in range(years[-1] + 1, year + 1):
        value *= 1.0 + _wage_growth(eco, y)
    return value * YUAN_PER_TRILLION


def _wage_growth(eco: Economy, year: int) -> float:
    years = sorted(int(k) for k in eco.wage_growth)
    return float(np.interp(year, years, [eco.wage_growth[str(y)] for y in years]))


def update_ceilings(gs: LocalState, eco: Economy, year: int, capacity: np.ndarray) -> None:
    """Each government's debt ceiling for ``year`` (yuan).

    Before the swap: ``borrowing_limit`` years of ``capacity`` (revenue, transfers and net land
    income; an LGFV could borrow against them). In the first year of the legislature's ceiling
    it is shared out by each government's debt (the stock recognised in the swap; by capacity
    where nobody has debt), and each later change of the national ceiling by capacity.
    """
    national = national_ceiling(eco, year)
    if national <= 0.0:
        gs.debt_ceiling[:] = eco.borrowing_limit * capacity
        return
    started = year > eco.debt_swap_year and gs.debt_ceiling.sum() > 0.0
    if not started:
        weight = gs.debt if gs.debt.sum() > 0.0 else capacity
        gs.debt_ceiling[:] = national * _shares(weight)
        return
    change = national - gs.debt_ceiling.sum()
    gs.debt_ceiling[:] = np.clip(gs.debt_ceiling + change * _shares(capacity), 0.0, None)


def _shares(weight: np.ndarray) -> np.ndarray:
    total = weight.sum()
    if total <= 0.0:
        return np.full(weight.shape[0], 1.0 / max(weight.shape[0], 1))
    return weight / total


# ---------------------------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------------------------
def collect_income(
    gs: LocalState,
    revenue: np.ndarray,
    transfers: np.ndarray,
    land: np.ndarray,
    gov: np.ndarray,
    n_gov: int,
    eco: Economy,
) -> None:
    """Each government's revenue, transfers, gross land revenue and compensation (yuan/year),
    from the values of its places."""
    gs.revenue[:] = group_sum(revenue, gov, n_gov)
    gs.transfers[:] = group_sum(transfers, gov, n_gov)
    gs.land_revenue[:] = group_sum(land, gov, n_gov)
    gs.compensation[:] = (1.0 - eco.land_net_share) * gs.land_revenue


def set_budgets(gs: LocalState, eco: Economy, year: int) -> None:
    """Obligations, service budget and other spending of the year, and the fund left for
    investment (``gs.fund``).

    Obligations (interest at the year's average rate, amortization, the local renewal and
    governance costs)
    are paid from net land income and reserves first (land income serviced LGFV debt), then
    from the general budget; what neither can pay is rolled into the debt as arrears. The
    service budget is the service share of what the general budget has left; the rest is
    other current spending.
    """
    general = gs.revenue + gs.transfers
    gs.interest[:] = average_interest_rate(eco, year) * gs.debt
    gs.debt_service[:] = gs.interest + eco.amortization * gs.debt
    due = gs.debt_service + gs.renewal_cost + gs.governance_cost
    land_net = gs.land_revenue - gs.compensation
    from_fund = np.minimum(due, land_net + gs.reserves)
    from_general = np.minimum(due - from_fund, general)
    gs.arrears[:] = due - from_fund - from_general
    gs.service_budget[:] = eco.service_budget_share * (general - from_general)
    gs.other_spending[:] = general - from_general - gs.service_budget
    gs.fund[:] = land_net + gs.reserves - from_fund


def invest(
    gs: LocalState,
    need: np.ndarray,
    infra_need: np.ndarray,
    gov: np.ndarray,
    n_gov: int,
    eco: Economy,
    effort: np.ndarray | None = None,
    bonds: np.ndarray | None = None,
) -> np.ndarray:
    """Issue the county-town programme's special bonds (``bonds``, yuan per government, within
    the room under the ceiling first; ``programme_bonds``), then invest in infrastructure for
    new urban residents (``infra_need``, yuan per place) and in
    ``investment_share`` (times each government's ``effort``, 1 if not given; at most all) of
    the money its services still need (``need``, yuan per place): from the fund first, then by
    borrowing within the room under the ceiling; a surplus repays debt early, the rest is
    reserved. Updates the debt.

    Returns
    -------
    numpy.ndarray
        Service investment at each place (yuan), spread by need.
    """
    share = eco.investment_share * (np.ones(n_gov) if effort is None else effort)
    need_serv = np.minimum(share, 1.0) * group_sum(need, gov, n_gov)
    need_infra = group_sum(infra_need, gov, n_gov)
    fund_infra = np.minimum(gs.fund, need_infra)
    fund_serv = np.minimum(gs.fund - fund_infra, need_serv)
    left = gs.fund - fund_infra - fund_serv
    base = gs.debt * (1.0 - eco.amortization) + gs.arrears
    room = np.clip(gs.debt_ceiling - base, 0.0, None)
    gs.programme_bonds[:] = np.zeros(n_gov) if bonds is None else np.minimum(bonds, room)
    room = room - gs.programme_bonds
    wanted_infra = need_infra - fund_infra
    wanted = wanted_infra + need_serv - fund_serv
    borrowed = np.minimum(wanted, room)
    # Borrowed money goes to the two needs in proportion to what each still lacks.
    to_infra = np.divide(wanted_infra, wanted, out=np.zeros(n_gov), where=wanted > 0)
    gs.infrastructure[:] = fund_infra + borrowed * to_infra
    gs.service_investment[:] = fund_serv + borrowed * (1.0 - to_infra)
    gs.borrowing[:] = gs.programme_bonds + borrowed
    gs.repayment[:] = np.minimum(left, base)
    gs.reserves[:] = left - gs.repayment
    gs.debt[:] = base - gs.repayment + gs.borrowing
    return gs.service_investment[gov] * group_share(need, gov, n_gov)


def fiscal_capacity(gs: LocalState) -> np.ndarray:
    """Revenue, transfers and net land income of each government (yuan/year): what an LGFV
    could borrow against, and the key by which new national ceiling is shared out."""
    return gs.revenue + gs.transfers + gs.land_revenue - gs.compensation


def governance_costs(
    ps: PlaceState,
    efficiency: float | np.ndarray,
    cost: float,
    wage_index: float,
    gov: np.ndarray,
    n_gov: int,
) -> np.ndarray:
    """Yearly local cost of governance above the reference efficiency 1 (yuan per government):
    ``cost`` per urban resident per unit of efficiency above 1 (national, or per place),
    scaled by the wage index."""
    above = np.maximum(np.asarray(efficiency, dtype=np.float64) - 1.0, 0.0)
    per_place = cost * wage_index * above * ps.urban_residents
    return group_sum(per_place, gov, n_gov)


def initial_debt(gs: LocalState, eco: Economy) -> None:
    """The start year's debt: ``initial_debt_ratio`` years of each government's revenue and
    transfers (the audited 2010 stock relative to 2010 local revenue and transfers)."""
    gs.debt[:] = eco.initial_debt_ratio * (gs.revenue + gs.transfers)


def national_finance(gs: LocalState) -> dict[str, float]:
    """The national finance columns of a recorded year (sums over local governments)."""
    return {
        "local_debt_ceiling": float(gs.debt_ceiling.sum()),
        "local_revenue": float(gs.revenue.sum()),
        "central_transfers": float(gs.transfers.sum()),
        "land_revenue": float(gs.land_revenue.sum()),
        "local_borrowing": float(gs.borrowing.sum()),
        "debt_service": float(gs.debt_service.sum()),
        "infrastructure_investment": float(gs.infrastructure.sum()),
    }
