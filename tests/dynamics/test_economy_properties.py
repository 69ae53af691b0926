"""Property tests of urbsim.dynamics.economy: accounts that must close for any inputs.

* Budgets balance: for every local government with service demand and a service budget above
  zero, the service share of revenue and transfers plus new borrowing equals service spending
  plus debt service (interest and amortization) plus the local renewal cost.
* Debt follows its law of motion, new borrowing stays within the room under the ceiling, and
  debt started below the ceiling never exceeds it.
* Stocks are never negative (capacity, programme capacity, housing stock, jobs) and employment
  lies in [0, 1].
"""

from __future__ import annotations

import numpy as np
from dynamics_helpers import place_table, policy_arrays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from urbsim.dynamics import economy as E
from urbsim.scenario.schema import Economy, HousingMarket, LabourMarket, Policy
from urbsim.state import LocalState, PlaceState

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_RTOL = 1e-9


@st.composite
def economies(draw: st.DrawFn) -> Economy:
    """Economies over the whole range a scenario allows for the finance parameters."""
    unit = st.floats(0.0, 1.0)
    return Economy(
        local_tax_rate=draw(st.floats(0.0, 0.3)),
        transfer_per_person=draw(st.floats(0.0, 3000.0)),
        service_budget_share=draw(unit),
        borrowing_limit=draw(st.floats(0.0, 5.0)),
        interest_rate=draw(st.floats(0.0, 0.2)),
        investment_share=draw(unit),
        amortization=draw(unit),
        programme_depreciation=draw(unit),
        service_cost=draw(st.floats(100.0, 5000.0)),
        natural_unemployment=draw(st.floats(0.0, 0.5)),
        job_adjustment=draw(unit),
        housing_supply_response=draw(unit),
        labour=LabourMarket(
            demand_elasticity=draw(st.floats(0.1, 3.0)), wage_adjustment=draw(unit)
        ),
        housing=HousingMarket(depreciation=draw(st.floats(0.0, 0.5))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> dict:
    """A few places in one to three governments, with counts, wages and debts."""
    n = draw(st.integers(1, 8))
    n_gov = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gov = rng.integers(0, n_gov, n)
    urban = rng.choice([0.0, 1.0, 5e3, 2e5, 3e6], n) * rng.uniform(0.5, 1.5, n)
    ps = PlaceState.zeros(n)
    ps.urban_residents[:] = urban
    ps.residents[:] = urban * rng.uniform(1.0, 3.0, n)
    ps.registered_population[:] = ps.residents * rng.uniform(0.0, 2.0, n)
    ps.urban_households[:] = urban / 3.0
    ps.wage[:] = rng.uniform(1e3, 1e5, n)
    ps.employment[:] = rng.uniform(0.5, 1.0, n)
    ps.programme_capacity[:] = rng.uniform(0.0, 1e4, n) * rng.integers(0, 2, n)
    # Access counts (agents): local hukou, base access, permit holders; some places empty.
    acc = rng.integers(0, 500, (n, 3)).astype(np.float64) * (urban > 0)[:, None]
    gs = LocalState.zeros(n_gov)
    gs.debt[:] = rng.choice([0.0, 1e6, 1e9, 1e12], n_gov)
    gs.quota_left[:] = rng.uniform(0.0, 1e3, n_gov)
    # Users of each service type: health every urban person, fewer for the other two.
    users = {
        "health": acc,
        "education": np.floor(acc * rng.uniform(0.0, 0.5, (n, 1))),
        "elderly": np.floor(acc * rng.uniform(0.0, 0.3, (n, 1))),
    }
    return {
        "ps": ps,
        "gs": gs,
        "gov": gov,
        "n_gov": n_gov,
        "users": users,
        "rng": rng,
        "first": True,
    }


def _policy(draw_renewal: float, budget: float) -> Policy:
    return Policy.model_validate(
        {"renewal": {"households_per_year": draw_renewal}, "county_town": {"budget": budget}}
    )


def _run_year(w: dict, eco: Economy, policy: Policy) -> tuple[LocalState, np.ndarray]:
    """One update_governments; returns the local state before it and the demand by place."""
    ps, gs, gov, n_gov = w["ps"], w["gs"], w["gov"], w["n_gov"]
    before = LocalState(**{k: v.copy() for k, v in vars(gs).items()})
    n = ps.urban_residents.shape[0]
    table = place_table(region=[0] * n, kind=[1] * n)
    pilots = np.flatnonzero(ps.urban_residents > 0)
    E.update_governments(
        ps,
        gs,
        table,
        eco,
        policy_arrays(n),
        policy,
        w["users"],
        10.0,
        1.3,
        gov,
        n_gov,
        pilots,
        first=w["first"],
    )
    w["first"] = False
    return before, ps.service_demand.copy()


def _by_gov(values: np.ndarray, gov: np.ndarray, n_gov: int) -> np.ndarray:
    return np.bincount(gov, weights=values, minlength=n_gov)


@_SETTINGS
@given(worlds(), economies(), st.floats(0.0, 1e7), st.floats(0.0, 50.0))
def test_budgets_balance(w: dict, eco: Economy, renewal: float, budget: float) -> None:
    before, demand = _run_year(w, eco, _policy(renewal, budget))
    ps, gs, gov, n_gov = w["ps"], w["gs"], w["gov"], w["n_gov"]
    spending = _by_gov(ps.spending, gov, n_gov)
    demand_g = _by_gov(demand, gov, n_gov)
    # Debt service is computed here from the debt before the year, independently of the code.
    debt_service = (eco.interest_rate + eco.amortization) * before.debt
    resources = eco.service_budget_share * (gs.revenue + gs.transfers)
    for g in range(n_gov):
        scale = max(resources[g], debt_service[g], gs.renewal_cost[g], 1.0)
        if demand_g[g] > 0 and gs.service_budget[g] > 0:
            # revenue (service share) + borrowing = spending + debt service + renewal cost
            lhs = resources[g] + gs.borrowing[g]
            rhs = spending[g] + debt_service[g] + gs.renewal_cost[g]
            assert abs(lhs - rhs) <= _RTOL * (scale + gs.borrowing[g]), (g, lhs, rhs)
        elif gs.service_budget[g] == 0:
            # No service budget: debt service and renewal take the whole service share.
            assert resources[g] <= (debt_service[g] + gs.renewal_cost[g]) * (1 + _RTOL) + 1e-6
        if demand_g[g] == 0:
            # Nothing to serve: nothing borrowed, nothing spent.
            assert gs.borrowing[g] == 0.0 and spending[g] == 0.0
    assert (ps.spending >= 0).all() and (gs.service_budget >= 0).all()


@_SETTINGS
@given(worlds(), economies())
def test_borrowing_stays_under_the_debt_ceiling(w: dict, eco: Economy) -> None:
    before, _ = _run_year(w, eco, Policy())
    gs = w["gs"]
    ceiling = eco.borrowing_limit * (gs.revenue + gs.transfers)
    tol = _RTOL * np.maximum(ceiling, before.debt) + 1e-6
    assert (gs.borrowing >= 0).all()
    # New debt only within the room left under the ceiling ...
    assert (gs.borrowing <= np.maximum(ceiling - before.debt, 0.0) + tol).all()
    # ... and the old debt amortized.
    np.testing.assert_allclose(
        gs.debt, before.debt * (1 - eco.amortization) + gs.borrowing, rtol=_RTOL
    )
    assert (gs.debt <= np.maximum(ceiling, before.debt * (1 - eco.amortization)) + tol).all()


@_SETTINGS
@given(worlds(), economies(), st.integers(2, 12))
def test_debt_started_at_zero_never_exceeds_its_ceiling(w: dict, eco: Economy, years: int) -> None:
    w["gs"].debt[:] = 0.0
    for _ in range(years):
        _run_year(w, eco, Policy())
        gs = w["gs"]
        ceiling = eco.borrowing_limit * (gs.revenue + gs.transfers)
        assert (gs.debt <= ceiling * (1 + _RTOL) + 1e-6).all(), (gs.debt, ceiling)


@_SETTINGS
@given(worlds(), economies(), st.floats(0.0, 50.0), st.integers(1, 8))
def test_capacity_is_never_negative(w: dict, eco: Economy, budget: float, years: int) -> None:
    ps = w["ps"]
    for _ in range(years):
        _run_year(w, eco, _policy(0.0, budget))
        assert (ps.programme_capacity >= 0).all()
        assert (ps.service_capacity >= 0).all()
        assert ((ps.quality >= 0) & (ps.quality <= 1)).all()
        assert np.isfinite(ps.service_capacity).all()
        for name in ("education", "health", "elderly"):
            assert (getattr(ps, f"{name}_capacity") >= 0).all()
        gaps = ps.entitlement_gap + ps.capacity_gap
        assert (ps.entitlement_gap >= 0).all() and (ps.capacity_gap >= 0).all()
        assert (gaps <= 1 + 1e-12).all()


@_SETTINGS
@given(worlds(), economies(), st.integers(1, 8))
def test_places_keep_employment_in_range_and_stocks_positive(
    w: dict, eco: Economy, years: int
) -> None:
    ps, rng = w["ps"], w["rng"]
    n = ps.urban_residents.shape[0]
    table = place_table(region=rng.integers(0, 4, n).tolist(), kind=[0] * n)
    pa = policy_arrays(n)
    spill = np.ones(n)
    for year in range(years):
        E.update_places(
            ps,
            table,
            eco,
            pa,
            Policy(),
            1.0 + 0.05 * year,
            30_000.0,
            spill,
            year == 0,
            demand=rng.uniform(0.5, 1.5, 4),
            index_growth=1.05,
            size_class=rng.integers(0, 6, n),
        )
        assert ((ps.employment >= 0) & (ps.employment <= 1)).all(), ps.employment
        assert (ps.jobs >= 0).all() and (ps.housing_stock > 0).all()
        assert (ps.wage > 0).all() and (ps.housing_cost > 0).all()
        assert (ps.jobs <= ps.labour_force * (1 + 1e-12)).all()
        assert (ps.job_base >= 0).all()
        # Residents move between years: growth, decline, emptying.
        ps.urban_residents *= rng.choice([0.0, 0.5, 1.0, 1.5, 3.0], n)
