"""The model: array-backed Mesa agents, governments and the timeline, and the output tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from urbsim.governments import CentralGovernment, LocalGovernment
from urbsim.kernels import layout as L
from urbsim.model import UrbanizationModel
from urbsim.places import Place
from urbsim.scenario import LoadedScenario
from urbsim.state import LocalState, PlaceState
from urbsim.world import KINDS, REGIONS, SIZE_CLASSES, World

NATIONAL_COLUMNS = [
    "year",
    "residents",
    "urban_residents",
    "urbanization_rate",
    "hukou_urbanization_rate",
    "floating_population",
    "hukou_conversions",
    "permit_holders",
    "service_gap",
]
PLACES_COLUMNS = [
    "year",
    "place_id",
    "name",
    "province_code",
    "prefecture_code",
    "region",
    "kind",
    "size_class",
    "lon",
    "lat",
    "residents",
    "urban_residents",
    "hukou_residents",
    "registered_population",
    "floating_residents",
    "permit_holders",
    "wage",
    "housing_cost",
    "service_capacity",
    "service_demand",
]
#: Persons of the 31 province rows of the 2010 census (the synthetic world's residents).
RESIDENTS_2010 = 1332.8e6


@pytest.fixture(scope="module")
def run_model(small_scenario: Callable[..., LoadedScenario]) -> UrbanizationModel:
    """The default policy with permits from 2012, 2010-2013, about 10k agents."""
    loaded = small_scenario(seed=3, end_year=2013, timeline={"2012": {"permit": {"enabled": True}}})
    model = UrbanizationModel(loaded)
    model.run()
    return model


@pytest.fixture()
def fresh_model(small_scenario: Callable[..., LoadedScenario]) -> UrbanizationModel:
    return UrbanizationModel(small_scenario(seed=4, end_year=2013))


# --- places --------------------------------------------------------------------------------------
def _place(model: UrbanizationModel, place_id: int) -> Place:
    (place,) = model.places.select(lambda p: p.place_id == place_id)
    return place


def test_places_are_one_agent_per_place(run_model: UrbanizationModel) -> None:
    m = run_model
    assert len(m.places) == m.n_places == len(m.place_table)
    assert all(isinstance(p, Place) for p in m.places)
    assert sorted(p.place_id for p in m.places) == list(range(m.n_places))


def test_place_attributes_read_the_arrays(run_model: UrbanizationModel) -> None:
    m = run_model
    for pid in (0, 17, m.n_places - 1):
        place = _place(m, pid)
        for f in fields(PlaceState):
            assert getattr(place, f.name) == getattr(m.place_state, f.name)[pid], f.name
        assert place.name == m.place_table.name[pid]
        assert place.code == m.place_table.code[pid]
        assert place.kind == m.place_table.kind[pid]
        assert place.region == m.place_table.region[pid]
        assert place.size_class == m.size_class[pid]
        assert repr(place) == f"Place({pid}, {place.name!r})"


def test_place_attributes_write_the_arrays(fresh_model: UrbanizationModel) -> None:
    m = fresh_model
    place = _place(m, 5)
    place.wage = 12345.0
    assert m.place_state.wage[5] == 12345.0
    m.place_state.housing_cost[5] = 77.0
    assert place.housing_cost == 77.0
    others = np.delete(m.place_state.wage, 5)
    assert not (others == 12345.0).any()


def test_agentset_selection(run_model: UrbanizationModel) -> None:
    m = run_model
    table = m.place_table
    districts = m.places.select(lambda p: p.kind == 0)
    assert len(districts) == int((table.kind == 0).sum())
    assert all(p.kind == 0 for p in districts)
    assert len(m.places.select(at_most=5)) == 5
    big = m.places.select(lambda p: p.urban_residents > 1e6)
    assert len(big) == int((m.place_state.urban_residents > 1e6).sum())
    wages = np.asarray(m.places.get("wage"))
    ids = np.asarray(m.places.get("place_id"))
    np.testing.assert_array_equal(wages, m.place_state.wage[ids])
    assert len(m.agents_by_type[Place]) == m.n_places


# --- governments ---------------------------------------------------------------------------------
def test_one_local_government_per_prefecture(run_model: UrbanizationModel) -> None:
    m = run_model
    govs = list(m.agents_by_type[LocalGovernment])
    prefs = np.unique(m.place_table.prefecture_code)
    assert len(govs) == m.n_gov == len(prefs)
    assert sorted(g.prefecture_code for g in govs) == sorted(int(c) for c in prefs)
    assert sorted(g.gov_id for g in govs) == list(range(m.n_gov))
    by_id = {g.gov_id: g for g in govs}
    for gov_id in (0, m.n_gov // 2, m.n_gov - 1):
        gov = by_id[gov_id]
        assert gov.prefecture_code == prefs[gov_id]
        places = gov.places
        expected = np.flatnonzero(m.place_table.prefecture_code == gov.prefecture_code)
        assert sorted(p.place_id for p in places) == expected.tolist()
        for f in fields(LocalState):
            assert getattr(gov, f.name) == getattr(m.local_state, f.name)[gov_id]
    np.testing.assert_array_equal(prefs[m.gov_of_place], m.place_table.prefecture_code)


def test_single_central_government(run_model: UrbanizationModel) -> None:
    m = run_model
    central = list(m.agents_by_type[CentralGovernment])
    assert central == [m.central]
    assert m.central.policy == m.loaded.policy(m.year)


def test_central_government_applies_the_timeline(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    loaded = small_scenario(
        seed=2,
        end_year=2014,
        timeline={
            "2012": {
                "permit": {"enabled": True, "min_residence_months": 12},
                "settlement": {"county_town": {"rule": "open", "min_years": 0}},
            },
            "2013": {"growth_poles": {"rule": "capitals"}},
        },
    )
    m = UrbanizationModel(loaded)
    county = m.place_table.kind != 0
    capital_districts = (m.place_table.kind == 0) & m.place_table.is_capital
    seen = {}
    while True:
        pa = m.policy_arrays
        # Permit rules without addressed places are the same everywhere.
        assert (pa.permit_on == pa.permit_on[0]).all()
        assert (pa.permit_months == pa.permit_months[0]).all()
        seen[m.year] = (
            bool(pa.permit_on[0]),
            int(pa.permit_months[0]),
            set(pa.rule[county].tolist()),
            set(pa.min_years[county].tolist()),
            int(pa.pole.sum()),
        )
        assert m.central.policy == loaded.policy(m.year)
        places = m.year_inputs().places
        np.testing.assert_array_equal(places.permit_on, pa.permit_on.astype(np.int64))
        np.testing.assert_array_equal(places.permit_months, pa.permit_months)
        if m.year == m.end_year:
            break
        m.step()
    closed = (False, 6, {L.RULE_CONDITIONAL}, {1}, 0)
    opened = (True, 12, {L.RULE_OPEN}, {0}, 0)
    assert seen[2010] == seen[2011] == closed
    assert seen[2012] == opened
    poles = int(capital_districts.sum())
    assert seen[2013] == seen[2014] == (*opened[:4], poles)


def test_step_after_the_end_is_an_error(run_model: UrbanizationModel) -> None:
    assert run_model.year == run_model.end_year == 2013
    with pytest.raises(RuntimeError, match="2013"):
        run_model.step()


def test_run_reports_progress(small_scenario: Callable[..., LoadedScenario]) -> None:
    m = UrbanizationModel(small_scenario(seed=1, end_year=2012))
    calls = []
    m.run(progress=lambda done, total, n: calls.append((done, total, n)))
    # The households of each year, those formed included.
    agents = m.national_table()["agents"].astype(int).tolist()
    assert calls == [(1, 2, agents[1]), (2, 2, agents[2])]


def test_run_until_stops_early_with_the_same_years(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    full = UrbanizationModel(small_scenario(seed=2, end_year=2013))
    full.run()
    short = UrbanizationModel(small_scenario(seed=2, end_year=2013))
    short.run(until=2011)
    assert short.year == 2011
    pd.testing.assert_frame_equal(
        short.national_table(), full.national_table().iloc[:2], check_exact=True
    )
    with pytest.raises(ValueError, match="outside the run"):
        short.run(until=2010)
    with pytest.raises(ValueError, match="outside the run"):
        short.run(until=2014)


def test_model_accepts_a_given_world(
    tiny_world: Callable[..., World], small_scenario: Callable[..., LoadedScenario]
) -> None:
    world = tiny_world(n_places=9, n_households=200, seed=1)
    m = UrbanizationModel(small_scenario(end_year=2012), world=world)
    assert m.world is world and m.n_places == 9 and m.hpa == world.households_per_agent
    assert m.n_gov == len(np.unique(world.places.prefecture_code))
    m.run()
    assert len(m.places_table()) == 9 * 3


def test_the_start_household_arrays_are_not_kept_once_households_grow(
    fresh_model: UrbanizationModel,
) -> None:
    """The world's households follow the model's: the start's arrays would otherwise be held
    for the whole run next to the grown ones (issue 17: state held twice)."""
    start = fresh_model.households
    while fresh_model.households is start:
        fresh_model.step()
    assert fresh_model.world.households is fresh_model.households
    assert not np.shares_memory(start.place, fresh_model.households.place)
    # The grown arrays are the start's rows followed by the new households, with spare rows.
    assert fresh_model.households.capacity > len(fresh_model.households) > len(start)


# --- the output tables ---------------------------------------------------------------------------
def test_national_table_contract(run_model: UrbanizationModel) -> None:
    nat = run_model.national_table()
    assert set(NATIONAL_COLUMNS) <= set(nat.columns), set(NATIONAL_COLUMNS) - set(nat.columns)
    assert nat["year"].tolist() == [2010, 2011, 2012, 2013]
    assert nat["year"].dtype == np.int64
    for col in NATIONAL_COLUMNS[1:]:
        assert nat[col].dtype == np.float64, col
    assert np.isfinite(nat.select_dtypes("number").to_numpy()).all()


def test_places_table_contract(run_model: UrbanizationModel) -> None:
    m = run_model
    pt = m.places_table()
    assert set(PLACES_COLUMNS) <= set(pt.columns), set(PLACES_COLUMNS) - set(pt.columns)
    assert len(pt) == 4 * m.n_places
    assert pt["year"].dtype == np.int64
    for col in ("name", "region", "kind", "size_class"):
        assert pd.api.types.is_string_dtype(pt[col]), col
    assert set(pt["region"]) <= set(REGIONS)
    assert set(pt["kind"]) <= set(KINDS)
    assert set(pt["size_class"]) <= set(SIZE_CLASSES)
    first = pt[pt["year"] == 2010]
    np.testing.assert_array_equal(first["place_id"], np.arange(m.n_places))
    np.testing.assert_array_equal(first["prefecture_code"], m.place_table.prefecture_code)
    np.testing.assert_array_equal(first["lon"], m.place_table.lon)
    numeric = pt.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy()).all()


def test_national_and_places_tables_agree(run_model: UrbanizationModel) -> None:
    nat = run_model.national_table().set_index("year")
    sums = (
        run_model.places_table()
        .groupby("year")[["residents", "urban_residents", "floating_residents", "permit_holders"]]
        .sum()
    )
    for nat_col, place_col in [
        ("residents", "residents"),
        ("urban_residents", "urban_residents"),
        ("floating_population", "floating_residents"),
        ("permit_holders", "permit_holders"),
    ]:
        np.testing.assert_allclose(nat[nat_col], sums[place_col], rtol=1e-12)
    np.testing.assert_allclose(
        nat["urbanization_rate"], nat["urban_residents"] / nat["residents"], rtol=1e-12
    )


def test_rates_and_counts_are_in_range(run_model: UrbanizationModel) -> None:
    nat = run_model.national_table()
    for col in ("urbanization_rate", "hukou_urbanization_rate", "service_gap", "county_town_share"):
        assert nat[col].between(0.0, 1.0).all(), col
    assert (nat["permit_holders"] <= nat["floating_population"]).all()
    assert (nat["floating_population"] <= nat["residents"]).all()
    assert nat.loc[nat["year"] < 2012, "permit_holders"].eq(0.0).all()
    assert nat.loc[nat["year"] >= 2012, "permit_holders"].gt(0.0).all()
    assert nat.loc[nat["year"] > 2010, "hukou_conversions"].gt(0.0).all()
    pt = run_model.places_table()
    counts = pt[["residents", "urban_residents", "floating_residents", "permit_holders"]]
    assert (counts.to_numpy() >= 0).all()
    assert (pt["urban_residents"] <= pt["residents"]).all()
    np.testing.assert_allclose(pt["hukou_residents"] + pt["floating_residents"], pt["residents"])
    assert (pt["permit_holders"] <= pt["floating_residents"]).all()
    assert pt["employment_rate"].between(0.0, 1.0).all()
    assert (pt["wage"] > 0).all() and (pt["housing_cost"] > 0).all()


def test_synthetic_world_2010_row(run_model: UrbanizationModel) -> None:
    """The census 2010 figures the synthetic world is built to, within the sampling error of
    about 10,000 agents (a fraction of a percentage point on the rates)."""
    row = run_model.national_table().iloc[0]
    assert row["year"] == 2010
    assert row["residents"] == pytest.approx(RESIDENTS_2010, rel=1e-3)
    assert row["urbanization_rate"] == pytest.approx(0.503, abs=0.015)
    assert row["hukou_urbanization_rate"] == pytest.approx(0.3417, abs=0.015)
    assert row["floating_population"] == pytest.approx(221e6, rel=0.05)
    assert row["hukou_conversions"] == 0.0
    assert row["permit_holders"] == 0.0
    assert 0.0 < row["service_gap"] < 1.0


@pytest.mark.parametrize("access", [[0.5, 0.6, 0.7, 0.8, 0.9, 0.95], [0.7]])
def test_timeline_may_change_the_length_of_the_access_schedule(
    small_scenario: Callable[..., LoadedScenario], access: list[float]
) -> None:
    loaded = small_scenario(
        end_year=2013, timeline={"2012": {"permit": {"enabled": True, "access": access}}}
    )
    m = UrbanizationModel(loaded)
    m.run()
    assert m.national_table()["permit_holders"].iloc[-1] > 0


def test_county_town_points_quota_is_used(small_scenario: Callable[..., LoadedScenario]) -> None:
    points = {"rule": "points", "min_years": 0, "quota_per_10k": 1000.0}
    open_ = {"rule": "open", "min_years": 0}
    classes = ("super_large", "mega", "large_i", "large_ii", "medium", "small")
    loaded = small_scenario(
        seed=5,
        end_year=2013,
        policy={"settlement": {"county_town": points, **dict.fromkeys(classes, open_)}},
    )
    m = UrbanizationModel(loaded)
    hh = m.households
    floating_in_towns = (hh.place != hh.hukou_place) & (m.place_table.kind[hh.place] != 0)
    assert floating_in_towns.sum() > 100  # applicants exist
    m.run()
    assert m.national_table()["points_conversions"].sum() > 0


def test_infrastructure_is_reckoned_from_a_high_water_mark(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """The start year's towns have the infrastructure of their urban residents: no investment
    for them in the first year (docs/ODD.md 7.18); after each year the mark is the most urban
    residents each place has had at a year's reckoning, and a year's investment is for those
    beyond the mark before it (the wage index and the cost, wherever the money sufficed)."""
    model = UrbanizationModel(small_scenario(seed=5, end_year=2013))
    ps = model.place_state
    np.testing.assert_array_equal(ps.infrastructure_served, ps.urban_residents)
    assert model.national_table()["infrastructure_investment"].iloc[0] == 0.0
    highest = ps.urban_residents.copy()
    needs = []
    for _ in range(3):
        before = ps.infrastructure_served.copy()
        # Reckoned at the start of the year, on the urban residents the last year left (the
        # first year stepped: those of the start, all served already).
        urban = ps.urban_residents.copy()
        model.step()
        new = np.clip(urban - before, 0.0, None)
        highest = np.maximum(highest, urban)
        np.testing.assert_array_equal(ps.infrastructure_served, highest)
        need = new.sum() * model.spec.economy.infrastructure_cost * model.wage_index
        paid = model.national_table()["infrastructure_investment"].iloc[-1]
        assert paid <= need * (1 + 1e-9)
        assert (paid > 0) == (need > 0)
        needs.append(need)
    assert needs[0] == 0.0 and min(needs[1:]) > 0  # the lag, then growth to pay for


def test_the_start_years_migrants_hold_matches_given_their_being_away(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    """The model draws the start year's matches before the first year (docs/ODD.md 5), on
    the start year's places and count: none at the hukou place; away, above the movers' mean
    ``place_match_sd`` (those the model's other terms would send home hold higher ones); the
    run's seed keys the draws; the first year keeps none at the hukou place."""
    loaded = small_scenario(seed=5, end_year=2011, behaviour={"place_match_sd": 1.5})
    model = UrbanizationModel(loaded)
    hh = model.households
    away = hh.place != hh.hukou_place
    assert away.sum() > 500
    assert (hh.match[~away] == 0).all()
    z = hh.match[away] * L.MATCH_STEP
    # Above the movers' mean by six standard errors and more (1.76 at this seed: those the
    # model would send away first hold higher matches).
    assert z.mean() > 1.5 + 6 * z.std() / np.sqrt(z.size) and abs(z.std() - 1.0) < 0.3
    other = UrbanizationModel(
        small_scenario(seed=6, end_year=2011, behaviour={"place_match_sd": 1.5})
    )
    assert (other.households.match != hh.match).any()
    model.step()
    hh = model.households
    at_home = hh.place == hh.hukou_place
    assert (hh.match[at_home] == 0).all()
