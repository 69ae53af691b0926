"""Public services of the places: users, entitlement, capacity by type and the two gaps.

Three service types (:data:`urbsim.state.SERVICE_TYPES`): education serves school-age
children, health every resident, social security / elderly care the persons of households
headed by someone 60 or older (urban zone, :func:`urbsim.kernels.aggregate.count_service_users`).

* **Entitlement.** Hukou holders are entitled in full, permit holders by the access schedule of
  their years of residence, others by the base access (:func:`access_shares`). A type's
  *entitled demand* is its users weighted by entitlement (:func:`entitled_demand`).
* **Capacity** is a stock of places per type: it loses ``depreciation`` of itself each year
  (:func:`depreciate`); the year's service money first runs the remaining places at their
  operating cost, then builds the places entitled demand lacks, at building plus operating
  cost; places beyond demand come last and close first when money is short
  (:func:`fund_capacity`).
  Governance efficiency divides every cost; renewal multiplies places; the county-town
  programme's capacity adds to every type in proportion to its entitled demand.
* **Gaps** (:func:`service_gaps`), as shares of the users' needs of all types: the *entitlement
  gap* is the need that status does not entitle (users minus entitled demand), the *capacity
  gap* the entitled demand the capacity cannot serve. Their sum is the share not served. The
  service quality households decide on is the entitled demand served, at most 1.
"""

from __future__ import annotations

import numpy as np

from urbsim.scenario.schema import Services, ServiceType
from urbsim.state import SERVICE_TYPES, PlaceState


def access_shares(access: np.ndarray, base_access: float, n_categories: int) -> np.ndarray:
    """Entitlement of each access category (full, base, permit by years), the permit schedule
    padded with its last value to ``n_categories`` columns: one row, or one row per place for
    a schedule per place (``access`` of shape ``(n_places, years)``)."""
    access = np.asarray(access, dtype=np.float64)
    rows = access.reshape(-1, access.shape[-1])
    permit = np.repeat(rows[:, -1:], n_categories - 2, axis=1)
    width = min(rows.shape[1], n_categories - 2)
    permit[:, :width] = rows[:, :width]
    fixed = np.broadcast_to([1.0, base_access], (rows.shape[0], 2))
    out = np.concatenate((fixed, permit), axis=1)
    return out if access.ndim == 2 else out[0]


def entitled_demand(
    acc: np.ndarray, access: np.ndarray, base_access: float, hpa: float
) -> np.ndarray:
    """Persons weighted by their service entitlement, per place, from access-category counts
    (``access``: one schedule for all places, or one row per place)."""
    shares = access_shares(access, base_access, acc.shape[1])
    return (acc * np.atleast_2d(shares)).sum(axis=1) * hpa


def _types(svc: Services) -> dict[str, ServiceType]:
    return {name: getattr(svc, name) for name in SERVICE_TYPES}


def set_needs(
    ps: PlaceState,
    users: dict[str, np.ndarray],
    access: np.ndarray,
    base_access: float,
    hpa: float,
) -> None:
    """Users and entitled demand of every type, and ``service_demand`` (their sum).

    Parameters
    ----------
    users
        Agent counts by access category (``(n_places, 2 + n_access)``) per service type.
    """
    total = np.zeros(ps.residents.shape[0])
    for name in SERVICE_TYPES:
        acc = users[name]
        getattr(ps, f"{name}_users")[:] = acc.sum(axis=1) * hpa
        demand = entitled_demand(acc, access, base_access, hpa)
        getattr(ps, f"{name}_demand")[:] = demand
        total += demand
    ps.service_demand[:] = total


def depreciate(ps: PlaceState, svc: Services) -> None:
    """Each type's capacity loses its ``depreciation`` share."""
    for name, st in _types(svc).items():
        getattr(ps, f"{name}_capacity")[:] *= 1.0 - st.depreciation


def effective_capacity(ps: PlaceState, name: str) -> np.ndarray:
    """Places of type ``name`` that serve: the stock times the renewal factor, plus the
    programme capacity in proportion to the type's share of entitled demand."""
    share = np.divide(
        getattr(ps, f"{name}_demand"),
        ps.service_demand,
        out=np.zeros(ps.service_demand.shape[0]),
        where=ps.service_demand > 0,
    )
    return getattr(ps, f"{name}_capacity") * ps.renewal_factor + ps.programme_capacity * share


def _required_places(ps: PlaceState, name: str) -> np.ndarray:
    """Stock places of type ``name`` that serve its entitled demand with the renewal factor,
    beside the programme's share of capacity."""
    programme = effective_capacity(ps, name) - getattr(ps, f"{name}_capacity") * ps.renewal_factor
    required = np.clip(getattr(ps, f"{name}_demand") - programme, 0.0, None)
    return required / ps.renewal_factor


def _missing_places(ps: PlaceState, name: str) -> np.ndarray:
    """Stock places of type ``name`` to build so that it serves its entitled demand."""
    return np.clip(_required_places(ps, name) - getattr(ps, f"{name}_capacity"), 0.0, None)


def running_cost(
    ps: PlaceState, svc: Services, wage_index: float, eff: float | np.ndarray
) -> np.ndarray:
    """Yuan per place to run the current stock of every type for the year."""
    cost = np.zeros(ps.residents.shape[0])
    for name, st in _types(svc).items():
        cost += getattr(ps, f"{name}_capacity") * st.operating_cost * wage_index / eff
    return cost


def money_needed(
    ps: PlaceState, svc: Services, wage_index: float, eff: float | np.ndarray
) -> np.ndarray:
    """Yuan per place to serve the entitled demand: run the places it needs of the current
    stock, build and run the places it lacks (places beyond the demand are not counted)."""
    need = np.zeros(ps.residents.shape[0])
    for name, st in _types(svc).items():
        stock = getattr(ps, f"{name}_capacity")
        required = _required_places(ps, name)
        run = np.minimum(stock, required) * st.operating_cost
        build = np.clip(required - stock, 0.0, None) * (st.building_cost + st.operating_cost)
        need += (run + build) * wage_index / eff
    return need


def open_capacity(
    ps: PlaceState, svc: Services, money: np.ndarray, wage_index: float, eff: float | np.ndarray
) -> None:
    """First year: the stock is what the money runs (no building cost), split over types in
    proportion to the operating cost of their entitled demand, so quality is even."""
    types = _types(svc)
    weights = {n: getattr(ps, f"{n}_demand") * st.operating_cost for n, st in types.items()}
    total = sum(weights.values())
    for name, st in types.items():
        share = np.divide(weights[name], total, out=np.zeros_like(total), where=total > 0)
        unit = st.operating_cost * wage_index / eff
        getattr(ps, f"{name}_capacity")[:] = money * share / unit


def _fraction(money: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Share of ``cost`` that ``money`` pays, in [0, 1] (1 where nothing costs)."""
    # Divide only where the money falls short (the quotient is then below 1 and cannot overflow
    # however small the cost).
    return np.divide(money, cost, out=np.ones_like(cost), where=cost > money)


def fund_capacity(
    ps: PlaceState, svc: Services, money: np.ndarray, wage_index: float, eff: float | np.ndarray
) -> None:
    """Spend the year's service money (yuan per place) on the depreciated stock, in this order
    of priority, each step paid in full before the next gets anything:

    1. run the places entitled demand needs (short money closes the same share of each type);
    2. build (and run) the places entitled demand lacks, the same share of each type's;
    3. run the places beyond demand (short money closes them first);
    4. build ahead of demand with what is left, by the cost of each type's entitled demand.

    All of the money is spent wherever anyone is entitled.
    """
    types = _types(svc)
    run_unit = {n: st.operating_cost * wage_index / eff for n, st in types.items()}
    build_unit = {
        n: (st.building_cost + st.operating_cost) * wage_index / eff for n, st in types.items()
    }
    stock = {n: getattr(ps, f"{n}_capacity").copy() for n in types}
    required = {n: _required_places(ps, n) for n in types}
    needed = {n: np.minimum(stock[n], required[n]) for n in types}
    missing = {n: np.clip(required[n] - stock[n], 0.0, None) for n in types}
    excess = {n: np.clip(stock[n] - required[n], 0.0, None) for n in types}
    left = money
    steps = []
    for places_, unit in ((needed, run_unit), (missing, build_unit), (excess, run_unit)):
        cost = sum(places_[n] * unit[n] for n in types)
        steps.append(_fraction(left, cost))
        left = np.clip(left - cost, 0.0, None)
    ahead = {n: getattr(ps, f"{n}_demand") * build_unit[n] for n in types}
    total_ahead = sum(ahead.values())
    for name in types:
        share = np.divide(
            ahead[name], total_ahead, out=np.zeros_like(total_ahead), where=total_ahead > 0
        )
        getattr(ps, f"{name}_capacity")[:] = (
            steps[0] * needed[name]
            + steps[1] * missing[name]
            + steps[2] * excess[name]
            + left * share / build_unit[name]
        )


def service_gaps(ps: PlaceState) -> None:
    """Entitlement and capacity gaps (shares of all types' users), effective capacity, and the
    quality households decide on (entitled demand served, 1 where none is entitled)."""
    n = ps.residents.shape[0]
    users = np.zeros(n)
    unentitled = np.zeros(n)
    unserved = np.zeros(n)
    served = np.zeros(n)
    capacity = np.zeros(n)
    for name in SERVICE_TYPES:
        demand = getattr(ps, f"{name}_demand")
        cap = effective_capacity(ps, name)
        n_users = getattr(ps, f"{name}_users")
        users += n_users
        unentitled += np.clip(n_users - demand, 0.0, None)
        served_here = np.minimum(cap, demand)
        unserved += demand - served_here
        served += served_here
        capacity += cap
    ps.service_capacity[:] = capacity
    ps.entitlement_gap[:] = np.divide(unentitled, users, out=np.zeros(n), where=users > 0)
    ps.capacity_gap[:] = np.divide(unserved, users, out=np.zeros(n), where=users > 0)
    ps.quality[:] = np.divide(
        served, ps.service_demand, out=np.ones(n), where=ps.service_demand > 0
    )
