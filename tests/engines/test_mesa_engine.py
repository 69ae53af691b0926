"""The Mesa reference engine as Mesa code: households are ``Household`` agents of the model,
AgentSet operations work on them, the engine's DataCollector records one row per year, and the
mirror writes the household arrays with the registry dtypes."""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.agentset import AbstractAgentSet

from urbsim.engines.mesa_engine import Household, MesaEngine
from urbsim.engines.numba_engine import NumbaEngine
from urbsim.households import FIELDS, NON_AGRICULTURAL, RURAL, URBAN, Households
from urbsim.kernels import layout as L
from urbsim.kernels.aggregate import origin_index
from urbsim.model import UrbanizationModel
from urbsim.places import Place
from urbsim.scenario import LoadedScenario
from urbsim.world import World

#: Households per agent of the synthetic-world runs here (about 2,700 agents).
HPA = 150000.0
YEARS = 4


def _agent_fields(agent: Household) -> dict[str, int]:
    return {name: getattr(agent, name) for name in FIELDS}


@pytest.fixture(scope="module")
def fresh(small_scenario: Callable[..., LoadedScenario]) -> Callable[[], UrbanizationModel]:
    """Builder of a fresh Mesa-engine model on the synthetic world (not stepped)."""
    loaded = small_scenario(
        engine="mesa",
        seed=5,
        end_year=2010 + YEARS,
        world={"households_per_agent": HPA},
        timeline={"2011": {"permit": {"enabled": True}}},
    )
    return lambda: UrbanizationModel(loaded)


@pytest.fixture(scope="module")
def stepped(fresh: Callable[[], UrbanizationModel]) -> UrbanizationModel:
    """A Mesa-engine model run to its end year."""
    model = fresh()
    model.run()
    return model


@pytest.fixture
def tiny_model(
    tiny_world: Callable[..., World], small_scenario: Callable[..., LoadedScenario]
) -> UrbanizationModel:
    """A Mesa-engine model on a tiny world with dissolved households."""
    world = tiny_world(n_places=9, n_households=300, seed=2, dissolved_share=0.1)
    return UrbanizationModel(small_scenario(engine="mesa", end_year=2013), world=world)


# --- the engine and its agents --------------------------------------------------------------------
def test_scenario_engine_selects_the_engine(
    small_scenario: Callable[..., LoadedScenario],
    fresh: Callable[[], UrbanizationModel],
    tiny_world: Callable[..., World],
) -> None:
    assert isinstance(fresh().engine, MesaEngine)
    world = tiny_world(n_places=6, n_households=50, seed=1)
    numba = UrbanizationModel(small_scenario(end_year=2012), world=world)
    assert isinstance(numba.engine, NumbaEngine)
    # The Numba engine keeps households as arrays only: no Household agents.
    assert Household not in numba.agent_types


def test_households_are_agents_of_the_model(fresh: Callable[[], UrbanizationModel]) -> None:
    model = fresh()
    agents = model.agents_by_type[Household]
    n = len(model.households)
    assert isinstance(agents, AbstractAgentSet)
    assert len(agents) == n > 1000
    assert model.engine.households is agents
    assert all(isinstance(h, Household) and isinstance(h, mesa.Agent) for h in agents)
    assert all(h.model is model for h in agents)
    # One agent per household row, keyed by hh_id; unique ids distinct from the places'.
    assert sorted(h.hh_id for h in agents) == list(range(n))
    ids = [h.unique_id for h in model.agents]
    assert len(set(ids)) == len(ids) == n + len(model.agents_by_type[Place]) + model.n_gov + 1
    # The agents start from the world's household arrays.
    arrays = model.households
    for h in agents.select(at_most=50):
        assert _agent_fields(h) == {name: int(getattr(arrays, name)[h.hh_id]) for name in FIELDS}
        assert all(type(v) is int for v in _agent_fields(h).values())


def test_stepping_keeps_the_same_agents(fresh: Callable[[], UrbanizationModel]) -> None:
    """The agents stay the same objects; households formed are new agents with the next ids."""
    model = fresh()
    before = {h.hh_id: h for h in model.agents_by_type[Household]}
    model.step()
    model.step()
    after = model.agents_by_type[Household]
    formed = model.national_table()["households_formed"].sum() / model.hpa
    assert len(after) == len(before) + formed > len(before)
    assert all(before[h.hh_id] is h for h in after if h.hh_id in before)
    assert sorted(h.hh_id for h in after) == list(range(len(after)))


# --- AgentSet operations on households -----------------------------------------------------------
def test_agentset_select_on_households(stepped: UrbanizationModel) -> None:
    agents = stepped.agents_by_type[Household]
    hh = stepped.households
    alive = hh.persons > 0
    floating = agents.select(lambda h: h.persons > 0 and h.place != h.hukou_place)
    assert isinstance(floating, AbstractAgentSet)
    assert len(floating) == int((alive & (hh.place != hh.hukou_place)).sum()) > 0
    assert (
        sorted(h.hh_id for h in floating)
        == np.flatnonzero(alive & (hh.place != hh.hukou_place)).tolist()
    )
    urban = agents.select(lambda h: h.zone == URBAN)
    assert len(urban) == int((hh.zone == URBAN).sum())
    permit = agents.select(lambda h: h.permit == 1, at_most=5)
    assert 0 < len(permit) <= 5 and all(h.permit == 1 for h in permit)
    assert len(agents.select(lambda h: h.permit == 1)) == int(hh.permit.sum())


def test_agentset_groupby_and_get_on_households(stepped: UrbanizationModel) -> None:
    agents = stepped.agents_by_type[Household]
    hh = stepped.households
    n_places = stepped.n_places
    by_place = agents.groupby("place")
    counts = np.zeros(n_places, dtype=np.int64)
    for place, group in by_place:
        counts[place] = len(group)
        assert all(h.place == place for h in group)
    np.testing.assert_array_equal(counts, np.bincount(hh.place, minlength=n_places))
    persons = by_place.agg("persons", sum)
    np.testing.assert_array_equal(
        [persons.get(p, 0) for p in range(n_places)],
        np.bincount(hh.place, weights=hh.persons, minlength=n_places).astype(np.int64),
    )
    by_zone = agents.groupby(lambda h: "urban" if h.zone == URBAN else "rural").count()
    assert by_zone == {
        "urban": int((hh.zone == URBAN).sum()),
        "rural": int((hh.zone == RURAL).sum()),
    }
    np.testing.assert_array_equal(
        np.asarray(agents.get("persons"))[np.argsort(agents.get("hh_id"))], hh.persons
    )
    assert agents.agg("persons", sum) == int(hh.persons.sum())


def test_migrant_groups_follow_the_kernel_origin_index(
    fresh: Callable[[], UrbanizationModel],
) -> None:
    """The network candidates of the Mesa engine (floating households grouped by hukou place
    with ``AgentSet.groupby``) are the kernel's origin index, in the same order."""
    model = fresh()
    model.step()
    ctx = model.engine.context(model.year_inputs())
    start, members = origin_index(model.households.as_dict(), model.n_places)
    assert sum(len(g) for g in ctx.migrants_from.values()) == members.shape[0] > 0
    for origin in range(model.n_places):
        expected = members[start[origin] : start[origin + 1]].tolist()
        assert [h.hh_id for h in ctx.migrants_from.get(origin, [])] == expected


# --- the DataCollector ---------------------------------------------------------------------------
def test_datacollector_collects_one_row_per_year(stepped: UrbanizationModel) -> None:
    dc = stepped.engine.datacollector
    assert isinstance(dc, mesa.DataCollector)
    df = dc.get_model_vars_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["moves", "considered", "floating_households"]
    assert len(df) == YEARS == stepped.year - stepped.start_year
    national = stepped.national_table().iloc[1:].reset_index(drop=True)
    np.testing.assert_array_equal(df["moves"], national["moves"] / stepped.hpa)
    np.testing.assert_array_equal(df["considered"], national["moves_considered"] / stepped.hpa)
    # Not considered >= moves: the return hazard sends households home without a move decision.
    assert (df["moves"] > 0).all() and (df["considered"] > 0).all()
    hh = stepped.households
    floating = int(((hh.persons > 0) & (hh.place != hh.hukou_place)).sum())
    assert df["floating_households"].iloc[-1] == floating
    assert (df["floating_households"] > 0).all()


def test_datacollector_row_per_step(fresh: Callable[[], UrbanizationModel]) -> None:
    model = fresh()
    dc = model.engine.datacollector
    assert len(dc.get_model_vars_dataframe()) == 0
    for year in range(1, 3):
        model.step()
        df = dc.get_model_vars_dataframe()
        assert len(df) == year
        assert df["moves"].iloc[-1] == model.engine.last_tally["moves"]
        assert df["considered"].iloc[-1] == model.engine.last_tally["considered"]


# --- the mirror into the household arrays ---------------------------------------------------------
def test_mirror_writes_arrays_with_registry_dtypes(stepped: UrbanizationModel) -> None:
    hh = stepped.households
    assert isinstance(hh, Households)
    agents = sorted(stepped.agents_by_type[Household], key=lambda h: h.hh_id)
    assert len(hh) == len(agents)
    for name, field in FIELDS.items():
        arr = getattr(hh, name)
        assert arr.dtype == field.dtype, name
        assert arr.ndim == 1 and arr.flags.c_contiguous, name
        np.testing.assert_array_equal(arr, [getattr(h, name) for h in agents], err_msg=name)


def test_mirror_after_every_step_keeps_dissolved_rows(tiny_model: UrbanizationModel) -> None:
    model = tiny_model
    n = len(model.households)
    dissolved = np.flatnonzero(model.households.persons == 0)
    assert dissolved.size > 0
    frozen = {name: getattr(model.households, name)[dissolved].copy() for name in FIELDS}
    previous = model.households
    while model.year < model.end_year:
        model.step()
        hh = model.households
        # A new mirror every year: the same rows, then the households formed.
        assert hh is not previous and len(hh) >= n
        previous = hh
        for name, field in FIELDS.items():
            assert getattr(hh, name).dtype == field.dtype
            # Dissolved households are skipped by every rule: their rows never change.
            np.testing.assert_array_equal(getattr(hh, name)[dissolved], frozen[name])
        by_id = {h.hh_id: h for h in model.agents_by_type[Household]}
        for i in (0, n // 2, n - 1):
            assert _agent_fields(by_id[i]) == {k: int(getattr(hh, k)[i]) for k in FIELDS}


# --- agent methods ---------------------------------------------------------------------------
def test_household_access_points_and_hukou(fresh: Callable[[], UrbanizationModel]) -> None:
    model = fresh()
    model.step()  # permits are issued from 2011: the access schedule is in force
    ctx = model.engine.context(model.year_inputs())
    b = model.spec.behaviour
    h = next(
        iter(
            model.agents_by_type[Household].select(
                lambda a: a.persons > 0 and a.place != a.hukou_place
            )
        )
    )
    base = model.spec.economy.service_base_access
    assert h.access_at(h.hukou_place, ctx) == 1.0
    h.permit = 0
    assert h.access_at(h.place, ctx) == base
    h.permit = 1
    schedule = ctx.access[h.place]  # the schedule of the place the permit is held at
    for years in (0, 1, len(schedule) - 1, 40):
        h.years_here = years
        assert h.access_at(h.place, ctx) == schedule[min(years, len(schedule) - 1)]
    other = next(p for p in range(model.n_places) if p not in (h.place, h.hukou_place))
    assert h.access_at(other, ctx) == base
    h.education, h.years_here = 2, 7
    assert h.points(ctx.par) == b.points_education * 2 + b.points_years * 7
    h.land, h.hukou_type = 1, 0
    surrender = ctx.places.surrender[h.place]
    h.take_local_hukou(ctx)
    land = 0 if surrender else 1  # land rights end only where surrender is a condition
    assert (h.hukou_place, h.hukou_type, h.land, h.permit) == (h.place, NON_AGRICULTURAL, land, 0)


def test_settle_move_applies_the_decision(fresh: Callable[[], UrbanizationModel]) -> None:
    model = fresh()
    agents = model.agents_by_type[Household]
    h = next(iter(agents.select(lambda a: a.persons > 0)))
    keys = ("moves", "province_moves", "returns", "return_migrants", "urban_in", "urban_out")
    tally = dict.fromkeys(keys, 0)
    province = model.province_of_place.tolist()
    n_prov = max(province) + 1
    flows = np.zeros((n_prov, n_prov, L.N_FLOW), dtype=np.int64)
    h.next_place, h.next_zone = h.place, h.zone
    h.settle_move(tally, province, flows)
    assert tally == dict.fromkeys(keys, 0) and not flows.any()
    origin = h.place
    target = next(p for p in range(model.n_places) if province[p] != province[origin])
    h.permit, h.years_here, h.hukou_place, h.zone = 1, 9, target, RURAL
    h.next_place, h.next_zone = target, URBAN
    h.settle_move(tally, province, flows)
    assert (h.place, h.zone, h.years_here, h.permit) == (target, URBAN, 0, 0)
    p = h.persons
    assert tally == {
        "moves": 1,
        "province_moves": 1,
        "returns": 1,
        "return_migrants": p,
        "urban_in": p,
        "urban_out": 0,
    }
    assert flows[province[origin], province[target]].tolist() == [1, p]
    assert flows.sum() == 1 + p
