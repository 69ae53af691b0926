"""Property tests of urbsim.dynamics.finance: accounts that must close for any inputs.

* The accounts close: for every local government and year, revenue, transfers, land revenue,
  borrowing, arrears and reserves brought forward equal compensation, the service budget, other
  spending, renewal, debt service, investment, early repayment and reserves carried forward; and
  what the places spend on services is the service budget plus service investment.
* Debt follows its law of motion, new borrowing stays within the room under the ceiling (the
  LGFV limit before the swap, the legislature's ceiling after), and arrears arise only when
  obligations exceed all income.
* No stock or flow is negative.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from dynamics_helpers import place_table, policy_arrays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from urbsim.dynamics import economy as E
from urbsim.scenario.schema import Economy, Policy
from urbsim.state import LocalState, PlaceState

_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_RTOL = 1e-9


@st.composite
def economies(draw: st.DrawFn) -> Economy:
    """Economies over the whole range a scenario allows for the finance parameters."""
    unit = st.floats(0.0, 1.0)
    ceiling = draw(st.one_of(st.just({}), st.floats(0.0, 0.05).map(lambda c: {"2015": c})))
    return Economy(
        local_tax_rate=draw(st.floats(0.0, 0.5)),
        transfer_per_person=draw(st.floats(0.0, 3000.0)),
        service_budget_share=draw(unit),
        borrowing_limit=draw(st.floats(0.0, 5.0)),
        interest_rate=draw(st.floats(0.0, 0.2)),
        lgfv_interest_rate=draw(st.floats(0.0, 0.3)),
        investment_share=draw(unit),
        amortization=draw(unit),
        service_cost=draw(st.floats(100.0, 5000.0)),
        land_per_urban_resident=draw(st.floats(0.0, 300.0)),
        land_price_2010=draw(st.floats(0.0, 5000.0)),
        land_net_share=draw(unit),
        infrastructure_cost=draw(st.floats(0.0, 300_000.0)),
        initial_debt_ratio=draw(st.floats(0.0, 3.0)),
        debt_swap_year=draw(st.integers(2011, 2016)),
        debt_swap_years=draw(st.integers(1, 5)),
        debt_ceiling=ceiling,
    )


@st.composite
def worlds(draw: st.DrawFn) -> dict:
    """A few places in one to three governments, with counts, wages, growth and debts."""
    n = draw(st.integers(1, 8))
    n_gov = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gov = rng.integers(0, n_gov, n)
    urban = rng.choice([0.0, 1.0, 5e3, 2e5, 3e6], n) * rng.uniform(0.5, 1.5, n)
    ps = PlaceState.zeros(n)
    ps.urban_residents[:] = urban
    # Rural residents too, so a government may have transfers but no urban service demand.
    ps.residents[:] = urban * rng.uniform(1.0, 3.0, n) + rng.choice([0.0, 1e4], n)
    ps.registered_population[:] = ps.residents * rng.uniform(0.0, 2.0, n)
    ps.wage[:] = rng.uniform(1e3, 1e5, n)
    ps.employment[:] = rng.uniform(0.5, 1.0, n)
    ps.housing_cost[:] = rng.uniform(100.0, 3000.0, n)
    ps.service_demand[:] = 0.0
    acc = rng.integers(0, 500, (n, 3)).astype(np.float64) * (urban > 0)[:, None]
    users = {
        "health": acc,
        "education": np.floor(acc * rng.uniform(0.0, 0.5, (n, 1))),
        "elderly": np.floor(acc * rng.uniform(0.0, 0.3, (n, 1))),
    }
    gs = LocalState.zeros(n_gov)
    gs.debt[:] = rng.choice([0.0, 1e6, 1e9, 1e12], n_gov)
    gs.reserves[:] = rng.choice([0.0, 1e7], n_gov)
    return {
        "ps": ps,
        "gs": gs,
        "gov": gov,
        "n_gov": n_gov,
        "users": users,
        "rng": rng,
        "programme": draw(st.sampled_from([0.0, 1e-3, 10.0])),  # billion yuan
        "bond_share": draw(st.floats(0.0, 1.0)),
        "efficiency": draw(st.sampled_from([1.0, 1.5])),
    }


def _copy(gs: LocalState) -> LocalState:
    return LocalState(**{f.name: getattr(gs, f.name).copy() for f in fields(LocalState)})


def _run_year(w: dict, eco: Economy, year: int, first: bool = False) -> LocalState:
    """One update_governments after the urban residents changed; returns the state before."""
    ps, gs, gov, n_gov, rng = w["ps"], w["gs"], w["gov"], w["n_gov"], w["rng"]
    growth = rng.choice([-1.0, -0.2, 0.0, 0.05, 0.5], ps.urban_residents.shape[0])
    ps.urban_growth[:] = growth
    ps.urban_residents *= 1.0 + growth
    # The year's new housing, whose land is sold (0 to a fifth of the residents).
    ps.housing_built[:] = ps.urban_residents * rng.choice([0.0, 0.02, 0.2], growth.shape[0])
    before = _copy(gs)
    n = ps.urban_residents.shape[0]
    table = place_table(region=[0] * n, kind=[1] * n)
    policy = Policy.model_validate(
        {
            "renewal": {"households_per_year": 1e5},
            "governance_efficiency": w["efficiency"],
            "governance_cost": 50.0,
            "county_town": {"budget": w["programme"], "bond_share": w["bond_share"]},
        }
    )
    pilots = np.flatnonzero(ps.urban_residents > 0)
    E.update_governments(
        ps, gs, table, eco, policy_arrays(n), policy, w["users"], 10.0, 1.3, gov, n_gov,
        pilots, year, first=first,
    )  # fmt: skip
    return before


def _close(lhs: np.ndarray, rhs: np.ndarray, scale: np.ndarray) -> bool:
    return bool((np.abs(lhs - rhs) <= _RTOL * scale + 1e-6).all())


@_SETTINGS
@given(worlds(), economies(), st.integers(2010, 2020), st.integers(1, 5))
def test_accounts_close(w: dict, eco: Economy, start: int, years: int) -> None:
    for year in range(start, start + years):
        before = _run_year(w, eco, year, first=year == start)
        gs, ps = w["gs"], w["ps"]
        inflow = (
            gs.revenue + gs.transfers + gs.land_revenue + gs.borrowing + gs.arrears
        ) + before.reserves
        outflow = (
            gs.compensation
            + gs.service_budget
            + gs.other_spending
            + gs.renewal_cost
            + gs.governance_cost
            + gs.debt_service
            + gs.infrastructure
            + gs.service_investment
            + gs.programme_bonds
            + gs.repayment
            + gs.reserves
        )
        assert _close(inflow, outflow, np.maximum(inflow, outflow)), (inflow, outflow)
        spent = np.bincount(w["gov"], weights=ps.spending, minlength=w["n_gov"])
        budget = gs.service_budget + gs.service_investment
        assert _close(spent, budget, budget), (spent, budget)


@_SETTINGS
@given(worlds(), economies(), st.integers(2010, 2020), st.integers(1, 5))
def test_borrowing_stays_within_the_room_under_the_ceiling(
    w: dict, eco: Economy, start: int, years: int
) -> None:
    for year in range(start, start + years):
        before = _run_year(w, eco, year, first=year == start)
        gs = w["gs"]
        opening = (
            before.debt if year != start else eco.initial_debt_ratio * (gs.revenue + gs.transfers)
        )
        base = opening * (1.0 - eco.amortization) + gs.arrears
        tol = _RTOL * np.maximum(gs.debt_ceiling, base) + 1e-6
        assert (gs.borrowing <= np.clip(gs.debt_ceiling - base, 0.0, None) + tol).all()
        assert (gs.programme_bonds <= gs.borrowing + tol).all()
        np.testing.assert_allclose(
            gs.debt, base - gs.repayment + gs.borrowing, rtol=_RTOL, atol=1e-6
        )
        assert (gs.debt <= np.maximum(gs.debt_ceiling, base) + tol).all()
        if year < eco.debt_swap_year or not eco.debt_ceiling:
            capacity = gs.revenue + gs.transfers + gs.land_revenue - gs.compensation
            np.testing.assert_allclose(gs.debt_ceiling, eco.borrowing_limit * capacity)


@_SETTINGS
@given(worlds(), economies(), st.integers(2010, 2020), st.integers(1, 5))
def test_no_stock_or_flow_is_negative_and_arrears_are_a_last_resort(
    w: dict, eco: Economy, start: int, years: int
) -> None:
    for year in range(start, start + years):
        before = _run_year(w, eco, year, first=year == start)
        gs, ps = w["gs"], w["ps"]
        # Rounding of differences of large flows: tolerance relative to the accounts' scale.
        scale = (gs.revenue + gs.transfers + gs.land_revenue + gs.debt + before.debt).max()
        for f in fields(LocalState):
            values = getattr(gs, f.name)
            assert np.isfinite(values).all(), f.name
            assert (values >= -_RTOL * scale - 1e-6).all(), f.name
        assert (ps.spending >= 0).all() and (ps.service_capacity >= 0).all()
        due = gs.debt_service + gs.renewal_cost + gs.governance_cost
        income = gs.revenue + gs.transfers + gs.land_revenue - gs.compensation + before.reserves
        arrears = gs.arrears > 1e-6 * np.maximum(due, 1.0)
        assert (due[arrears] > income[arrears]).all()
