"""Migration outputs: floating population by scope, return migrants, the decomposition of urban
growth (an exact identity), migrant stocks of places and the province flow table."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from urbsim.dynamics import indicators
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.kernels import migrants as M
from urbsim.model import UrbanizationModel
from urbsim.output import columns
from urbsim.scenario import LoadedScenario
from urbsim.world import World

#: Move rates high enough that every kind of move (zone changes, cross-province moves, returns)
#: happens in a few years of the small scenario.
MOVING = {"behaviour": {"move_base": 0.6, "network_sampling_share": 0.5, "home_preference": 1.5}}


def _urban_agents(model: UrbanizationModel) -> int:
    return int(model.counts[:, A.A_URBAN].sum())


@pytest.fixture(scope="module")
def stepped(small_scenario: Callable[..., LoadedScenario]) -> list[tuple[int, np.ndarray]]:
    """Urban agent persons at the start and after each of six years, with that year's
    counters, of the small scenario with many moves."""
    loaded = small_scenario(end_year=2016, **MOVING)
    model = UrbanizationModel(loaded)
    out = [(_urban_agents(model), model.counters.copy())]
    while model.year < model.end_year:
        model.step()
        out.append((_urban_agents(model), model.counters.copy()))
    return out


def test_urban_growth_decomposition_is_an_exact_identity(
    stepped: list[tuple[int, np.ndarray]],
) -> None:
    for (before, _), (after, counters) in itertools.pairwise(stepped):
        parts = indicators.urban_growth_decomposition(counters)
        assert after - before == sum(parts.values()), parts
    # Every source of urban growth was exercised, so the identity is not trivially 0 = 0.
    totals = np.sum([c for _, c in stepped[1:]], axis=0)
    for counter in (L.C_URBAN_BIRTHS, L.C_URBAN_DEATHS, L.C_URBAN_IN, L.C_URBAN_OUT, L.C_INSITU):
        assert totals[counter] > 0, counter


def test_national_decomposition_columns_add_up_to_the_urban_change(
    small_scenario: Callable[..., LoadedScenario],
) -> None:
    loaded = small_scenario(end_year=2013, **MOVING)
    model = UrbanizationModel(loaded)
    model.run()
    nat = model.national_table()
    hpa = model.hpa
    growth = nat["urban_residents"].diff().iloc[1:] / hpa
    parts = nat[
        ["urban_growth_natural", "urban_growth_migration", "urban_growth_reclassification"]
    ].iloc[1:]
    # Columns are agent counts times hpa: back in agents they are integers that add up exactly.
    np.testing.assert_array_equal(
        np.rint(growth).astype(np.int64), np.rint(parts / hpa).sum(axis=1).astype(np.int64)
    )
    assert (nat["return_migrants"].iloc[1:] <= nat["moves"].iloc[1:] * 16).all()


def _plain_migrant_counts(world: World) -> np.ndarray:
    """The migrant stocks, counted household by household in Python."""
    hh = world.households
    _, prov = np.unique(world.places.province_code, return_inverse=True)
    out = np.zeros((len(world.places), M.N_M), dtype=np.int64)
    for i in range(len(hh)):
        p, j, o = int(hh.persons[i]), int(hh.place[i]), int(hh.hukou_place[i])
        if p == 0 or j == o:
            continue
        out[j, M.M_OTHER_PROVINCE if prov[o] != prov[j] else M.M_OTHER_COUNTY] += p
        out[j, M.M_HEAD_AGE0 + int(hh.age_group()[i])] += p
        if hh.years_here[i] < 3:
            out[j, M.M_RECENT] += p
        # The survey's respondents: one per household, aged 15-59 (the head here).
        if 15 <= int(hh.head_age[i]) <= 59:
            out[j, M.M_SURVEY_HEADS] += 1
            out[j, M.M_SURVEY_HEAD_AGES] += int(hh.head_age[i])
        # Every person by age: the adults at the head's, the children at their bits'.
        kid_ages = [a for a in range(32) if int(hh.kids[i]) >> a & 1]
        ages = [int(hh.head_age[i])] * (p - len(kid_ages)) + kid_ages
        out[j, M.M_CHILDREN] += sum(a < 18 for a in ages)
        if hh.left_behind[i] == 1:
            out[j, M.M_CHILDREN_LEFT_BEHIND] += sum(6 <= a <= 14 for a in kid_ages)
        if hh.hukou_type[i] == 0:
            workers = sum(16 <= a <= 64 for a in ages)
            out[j, M.M_WORKERS] += workers
            if prov[o] != prov[j]:
                out[j, M.M_WORKERS_OTHER_PROVINCE] += workers
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_migrant_stocks_match_a_plain_count(tiny_world: Callable[..., World], seed: int) -> None:
    world = tiny_world(n_places=9, n_households=600, seed=seed, dissolved_share=0.05)
    _, prov = np.unique(world.places.province_code, return_inverse=True)
    got = M.count_migrants(world.households.as_dict(), prov, len(world.places))
    np.testing.assert_array_equal(got, _plain_migrant_counts(world))
    # Both scopes occur, and scopes and age bands each add up to the floating residents.
    counts = A.count_households(world.households.as_dict(), len(world.places), 1).counts
    floating = counts[:, A.A_FLOATING]
    assert got[:, M.M_OTHER_PROVINCE].sum() > 0 and got[:, M.M_OTHER_COUNTY].sum() > 0
    np.testing.assert_array_equal(got[:, :2].sum(axis=1), floating)
    bands = got[:, M.M_HEAD_AGE0 : M.M_HEAD_AGE0 + len(M.HEAD_AGE_BANDS)]
    np.testing.assert_array_equal(bands.sum(axis=1), floating)
    # Workers: some, never more than the floating persons; those from other provinces some,
    # never more than the workers or the persons from other provinces.
    assert 0 < got[:, M.M_WORKERS].sum() and (got[:, M.M_WORKERS] <= floating).all()
    far = got[:, M.M_WORKERS_OTHER_PROVINCE]
    assert 0 < far.sum() and (far <= got[:, M.M_WORKERS]).all()
    assert (far <= got[:, M.M_OTHER_PROVINCE]).all()
    # Recent arrivals: some, and some floating persons who are not.
    recent = got[:, M.M_RECENT]
    assert 0 < recent.sum() < floating.sum() and (recent <= floating).all()
    # Children: some, fewer than the floating persons; some of them left behind.
    children, left = got[:, M.M_CHILDREN], got[:, M.M_CHILDREN_LEFT_BEHIND]
    assert 0 < children.sum() < floating.sum() and (children <= floating).all()
    assert 0 < left.sum() < children.sum() and (left <= children).all()


def test_survey_heads_are_the_floating_heads_aged_15_to_59(
    tiny_world: Callable[..., World],
) -> None:
    world = tiny_world(n_places=6, n_households=200, seed=5)
    hh = world.households.as_dict()
    floating = np.flatnonzero((hh["persons"] > 0) & (hh["place"] != hh["hukou_place"]))
    # The floating heads at the ages on either side of both limits, in turn.
    ages = np.array([14, 15, 59, 60])
    hh["head_age"][floating] = ages[np.arange(floating.size) % 4]
    got = M.count_migrants(hh, np.zeros(6, dtype=np.int64), 6)
    inside = np.isin(hh["head_age"][floating], (15, 59))
    assert got[:, M.M_SURVEY_HEADS].sum() == inside.sum() > 0
    assert got[:, M.M_SURVEY_HEAD_AGES].sum() == hh["head_age"][floating][inside].sum()


def test_floating_head_mean_age_by_hand() -> None:
    migrants = np.zeros((3, M.N_M), dtype=np.int64)
    migrants[0, [M.M_SURVEY_HEADS, M.M_SURVEY_HEAD_AGES]] = (2, 20 + 40)
    migrants[2, [M.M_SURVEY_HEADS, M.M_SURVEY_HEAD_AGES]] = (1, 59)
    # Persons do not weigh: one head per household.
    migrants[0, M.M_OTHER_PROVINCE] = 9
    assert indicators.floating_head_mean_age(migrants) == pytest.approx((20 + 40 + 59) / 3)
    assert np.isnan(indicators.floating_head_mean_age(np.zeros((3, M.N_M), dtype=np.int64)))


@pytest.mark.parametrize(
    ("persons", "head_age", "kid_ages", "expected"),
    [
        (5, 40, (3, 17, 20), 4),  # two adults of 40 and the children of 17 and 20
        (3, 65, (30,), 1),  # adults past 64 do not count, their child of 30 does
        (1, 16, (), 1),  # the first working age
        (1, 15, (), 0),  # a head under 16 (heading the household after its adults died)
        (2, 64, (), 2),  # the last working age
        (4, 70, (15, 16), 1),  # only the child of 16
    ],
)
def test_working_age_persons_by_hand(
    persons: int, head_age: int, kid_ages: tuple[int, ...], expected: int
) -> None:
    kids = sum(1 << a for a in kid_ages)
    assert M.working_age_persons(persons, head_age, kids) == expected


@pytest.mark.parametrize(
    ("persons", "head_age", "kid_ages", "expected"),
    [
        (5, 40, (0, 17, 18), 2),  # the children of 0 and 17; 18 is no longer a child
        (3, 17, (2,), 3),  # a head of 17 (after the adults died): every person a child
        (1, 18, (), 0),
        (4, 70, (5, 9), 2),
    ],
)
def test_child_persons_by_hand(
    persons: int, head_age: int, kid_ages: tuple[int, ...], expected: int
) -> None:
    kids = sum(1 << a for a in kid_ages)
    assert M.child_persons(persons, head_age, kids) == expected


def test_migrant_count_rejects_a_wrong_province_array(tiny_world: Callable[..., World]) -> None:
    world = tiny_world(n_places=6, n_households=50, seed=4)
    with pytest.raises(ValueError, match="one index per place"):
        M.count_migrants(world.households.as_dict(), np.zeros(5, dtype=np.int64), 6)


def test_flows_table_matches_the_counters(small_scenario: Callable[..., LoadedScenario]) -> None:
    loaded = small_scenario(end_year=2013, **MOVING)
    model = UrbanizationModel(loaded)
    off_diagonal, persons_moved = [], []
    while model.year < model.end_year:
        before = model.households.copy()
        model.step()
        flows = model.flows
        diag = np.trace(flows[:, :, L.F_HOUSEHOLDS])
        between = flows[:, :, L.F_HOUSEHOLDS].sum() - diag
        off_diagonal.append(between == model.counters[L.C_PROVINCE_MOVES])
        # Persons of the households whose place changed, by province of origin and destination.
        hh = model.households  # the households formed this year come after the old rows
        n_old = len(before)
        moved = np.zeros(len(hh), dtype=bool)
        moved[:n_old] = before.place != hh.place[:n_old]
        prov = model.province_of_place
        expected = np.zeros_like(flows[:, :, L.F_PERSONS])
        origin = before.place[moved[:n_old]]
        np.add.at(expected, (prov[origin], prov[hh.place[moved]]), hh.persons[moved])
        persons_moved.append(np.array_equal(expected, flows[:, :, L.F_PERSONS]))
    assert all(off_diagonal) and all(persons_moved)
    table = model.flows_table()
    n_prov = len(model.province_codes)
    assert list(table.columns) == columns.names(columns.FLOWS)
    assert len(table) == n_prov * n_prov * (model.end_year - model.start_year)
    for col in columns.FLOWS:
        assert str(table[col.name].dtype) == col.dtype, col.name
    interprovince = table[table.origin_province_code != table.destination_province_code]
    nat = model.national_table().set_index("year")
    np.testing.assert_allclose(
        interprovince.groupby("year")["households"].sum(), nat["province_moves"].iloc[1:]
    )


@pytest.mark.slow
def test_census_world_migrant_stocks_follow_the_census_in_2010() -> None:
    """The places' in-migrant stocks of the start year against the census's 2010 columns:
    in-migrants from other provinces and from other counties of the province are placed by
    construction (agent rounding aside): the census world is a county-level world, whose
    floating population is the census's county-level part."""
    from urbsim import load_scenario
    from urbsim.api import scenario_path
    from urbsim.world.census_file import packaged_world_path, read_world_file

    model = UrbanizationModel(load_scenario(scenario_path("china_census")))
    places = model.places_table()
    census, _ = read_world_file(packaged_world_path())
    other_province = places["inmigrants_other_province"].to_numpy()
    expected = census["inmig_other_province"].to_numpy(dtype=np.float64)
    assert np.abs(other_province - expected).sum() / expected.sum() < 0.05
    other_county = places["inmigrants_other_county"].to_numpy()
    census_county = census["inmig_other_county"].to_numpy(dtype=np.float64)
    assert np.abs(other_county - census_county).sum() / census_county.sum() < 0.05
    nat = model.national_table().iloc[0]
    assert nat["interprovince_floating_population"] == pytest.approx(other_province.sum())
