"""Property tests of the labour market, housing and services (hypothesis): service money is
spent exactly on running and building places, stocks never go negative, wages move between
their indexed value and the clearing wage, the gaps add up to the needs not served."""

from __future__ import annotations

import numpy as np
from dynamics_helpers import places
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from urbsim.dynamics import housing, labour, services
from urbsim.scenario.schema import Economy, Services
from urbsim.state import SERVICE_TYPES, PlaceState

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def service_costs(draw: st.DrawFn) -> Services:
    def one() -> dict[str, float]:
        return {
            "operating_cost": draw(st.floats(1.0, 1e4)),
            "building_cost": draw(st.floats(0.0, 1e5)),
            "depreciation": draw(st.floats(0.0, 1.0)),
        }

    return Services.model_validate({name: one() for name in SERVICE_TYPES})


@st.composite
def service_places(draw: st.DrawFn) -> PlaceState:
    """Places with random users, entitlement shares, stocks, renewal and programme capacity."""
    n = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ps = PlaceState.zeros(n)
    total = np.zeros(n)
    for name in SERVICE_TYPES:
        users = rng.choice([0.0, 1.0, 1e3, 1e6], n) * rng.uniform(0.5, 1.5, n)
        getattr(ps, f"{name}_users")[:] = users
        demand = users * rng.uniform(0.0, 1.0, n)
        getattr(ps, f"{name}_demand")[:] = demand
        getattr(ps, f"{name}_capacity")[:] = rng.choice([0.0, 1.0, 1e3, 1e6], n)
        total += demand
    ps.service_demand[:] = total
    ps.renewal_factor[:] = rng.uniform(1.0, 1.5, n)
    ps.programme_capacity[:] = rng.choice([0.0, 100.0], n)
    return ps


def _stock_cost(ps: PlaceState, svc: Services, before: dict[str, np.ndarray]) -> np.ndarray:
    """Running cost of the stock after funding plus building cost of the places added."""
    cost = np.zeros(ps.residents.shape[0])
    for name in SERVICE_TYPES:
        st_ = getattr(svc, name)
        after = getattr(ps, f"{name}_capacity")
        cost += after * st_.operating_cost
        cost += np.clip(after - before[name], 0.0, None) * st_.building_cost
    return cost


@_SETTINGS
@given(
    service_places(), service_costs(), st.floats(0.0, 1e9), st.floats(0.5, 3.0), st.floats(0.3, 1.5)
)
def test_service_money_is_spent_on_running_and_building(
    ps: PlaceState, svc: Services, money: float, wage_index: float, eff: float
) -> None:
    n = ps.residents.shape[0]
    services.depreciate(ps, svc)
    before = {name: getattr(ps, f"{name}_capacity").copy() for name in SERVICE_TYPES}
    spend = np.full(n, money)
    services.fund_capacity(ps, svc, spend, wage_index, eff)
    for name in SERVICE_TYPES:
        cap = getattr(ps, f"{name}_capacity")
        assert (cap >= 0).all() and np.isfinite(cap).all()
    # Where anyone is entitled, the money is spent to the yuan: on running the places kept
    # and on building the new ones (prices times wage index over efficiency).
    cost = _stock_cost(ps, svc, before) * wage_index / eff
    has_demand = ps.service_demand > 0
    np.testing.assert_allclose(cost[has_demand], spend[has_demand], rtol=1e-9, atol=1e-6)
    # Nowhere is more spent than the money.
    assert (cost <= spend * (1 + 1e-9) + 1e-6).all()


@_SETTINGS
@given(service_places(), service_costs(), st.floats(0.5, 3.0), st.floats(0.3, 1.5))
def test_money_needed_closes_the_capacity_gap(
    ps: PlaceState, svc: Services, wage_index: float, eff: float
) -> None:
    """Funded with exactly what it needs, a place has no capacity gap left."""
    need = services.money_needed(ps, svc, wage_index, eff)
    services.fund_capacity(ps, svc, need, wage_index, eff)
    services.service_gaps(ps)
    np.testing.assert_allclose(ps.capacity_gap, 0.0, atol=1e-9)


@_SETTINGS
@given(service_places(), service_costs())
def test_gaps_are_shares_that_add_up_to_needs_not_served(ps: PlaceState, svc: Services) -> None:
    services.service_gaps(ps)
    assert ((ps.quality >= 0) & (ps.quality <= 1 + 1e-12)).all()
    assert (ps.entitlement_gap >= 0).all() and (ps.capacity_gap >= -1e-15).all()
    users = sum(getattr(ps, f"{name}_users") for name in SERVICE_TYPES)
    served = sum(
        np.minimum(services.effective_capacity(ps, name), getattr(ps, f"{name}_demand"))
        for name in SERVICE_TYPES
    )
    # users * (1 - entitlement gap - capacity gap) = persons served
    ok = users > 0
    np.testing.assert_allclose(
        (users * (1.0 - ps.entitlement_gap - ps.capacity_gap))[ok],
        served[ok],
        rtol=1e-9,
        atol=1e-6,
    )


@_SETTINGS
@given(
    st.lists(st.floats(1.0, 1e6), min_size=1, max_size=6),
    st.floats(0.1, 3.0),
    st.floats(0.0, 1.0),
    st.floats(0.9, 1.2),
    st.integers(0, 2**32 - 1),
)
def test_wages_stay_between_indexed_and_clearing_wage(
    urban: list[float], elasticity: float, speed: float, growth: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    eco = Economy.model_validate(
        {"labour": {"demand_elasticity": elasticity, "wage_adjustment": speed}}
    )
    n = len(urban)
    ps = places(n, urban_residents=urban)
    labour.update_labour(ps, eco, rng.uniform(1e3, 1e5, n), 1.0, first=True)
    for _ in range(4):
        indexed = ps.wage * growth
        ps.urban_residents *= rng.choice([0.0, 0.5, 1.0, 2.0], n)
        prod = rng.uniform(1e3, 1e5, n)
        labour.update_labour(ps, eco, prod, growth, first=False)
        supply = ps.labour_force * (1.0 - eco.natural_unemployment)
        target = labour.clearing_wage(prod, ps.job_base, supply, elasticity)
        lo, hi = np.minimum(indexed, target), np.maximum(indexed, target)
        assert ((ps.wage >= lo * (1 - 1e-12)) & (ps.wage <= hi * (1 + 1e-12))).all()
        assert ((ps.employment >= 0) & (ps.employment <= 1)).all()
        assert (ps.jobs <= ps.labour_force * (1 + 1e-12)).all()


@_SETTINGS
@given(
    st.lists(st.floats(0.0, 1e7), min_size=1, max_size=6),
    st.floats(0.0, 0.5),
    st.floats(0.0, 1.0),
    st.floats(0.0, 0.2),
    st.floats(0.0, 3.0),
    st.integers(0, 2**32 - 1),
)
def test_housing_stock_stays_positive_and_shrinks_at_most_by_depreciation(
    urban: list[float],
    depreciation: float,
    response: float,
    quota: float,
    income_elasticity: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    eco = Economy.model_validate(
        {
            "housing_supply_response": response,
            "housing": {
                "depreciation": depreciation,
                "income_elasticity": income_elasticity,
                "land_quota": {k: quota for k in ("super_large", "mega", "large_i")}
                | {k: 2 * quota for k in ("large_ii", "medium", "small")},
            },
        }
    )
    n = len(urban)
    ps = places(n, urban_residents=urban, wage=rng.uniform(1e3, 1e5, n).tolist())
    size = rng.integers(0, 6, n)
    housing.update_housing(ps, eco, 30_000.0, size, first=True)
    index = 1.0
    for _ in range(5):
        before = ps.housing_stock.copy()
        ps.urban_residents *= rng.choice([0.0, 0.5, 1.0, 2.0], n)
        index *= rng.uniform(0.9, 1.2)
        cut, demolished = rng.uniform(0, 1, n), rng.uniform(0, 0.5, n)
        housing.update_housing(ps, eco, 30_000.0, size, False, cut, demolished, index)
        assert (ps.housing_stock > 0).all() and (ps.housing_cost > 0).all()
        assert (ps.housing_built >= 0).all()
        # the stock moves by exactly what was built and what was lost
        lost = before * (depreciation + demolished)
        np.testing.assert_allclose(ps.housing_stock, before - lost + ps.housing_built)
        assert (ps.housing_stock >= (before - lost) * (1 - 1e-12)).all()
