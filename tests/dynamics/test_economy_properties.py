"""Property tests of urbsim.dynamics.economy for any inputs (budgets and debt are tested in
``test_finance_properties.py``).

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
        2020,
        first=w["first"],
    )
    w["first"] = False
    return before, ps.service_demand.copy()


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
