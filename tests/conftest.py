"""Shared fixtures: a tiny hand-built world, kernel inputs for it, and small scenarios.

The fixtures return builder functions (session scope, so they are also usable from
``hypothesis`` tests): ``tiny_world(n_places=..., n_households=..., seed=...)``,
``kernel_inputs(world, seed=...)`` and ``small_scenario(**overrides)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from urbsim.constants_cache import ENV_VAR as CONSTANTS_CACHE_ENV
from urbsim.dynamics.demography import VitalRates
from urbsim.households import FIELDS, Households
from urbsim.inputs import PARAM_FIELDS, PlaceInputs, params_from
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.kernels.gravity import distance_decay, gravity_rows
from urbsim.scenario import LoadedScenario, validate
from urbsim.world import PlaceTable, World
from urbsim.world.ages import school_children


def pytest_configure(config: pytest.Config) -> None:
    """Runs (and the subprocesses and sweep workers they start) keep no destination constants
    on disk during the tests: a test that replaces the fit must see it called. The tests of
    the cache (tests/test_constants_cache.py) give it a folder of their own."""
    os.environ[CONSTANTS_CACHE_ENV] = "off"


#: Real households per agent of the tiny world.
TINY_HPA = 1000.0
#: Households per agent of the small synthetic-world scenarios (about 10,000 agents).
SMALL_HPA = 40000.0

#: (province code, region index, capital lon, capital lat) of the tiny world's provinces.
_PROVINCES: tuple[tuple[int, int, float, float], ...] = (
    (11, 0, 116.4, 39.9),  # east
    (42, 1, 114.3, 30.6),  # central
    (51, 2, 104.1, 30.7),  # west
)


def build_tiny_world(
    n_places: int = 12,
    n_households: int = 400,
    seed: int = 0,
    *,
    hpa: float = TINY_HPA,
    floating_share: float = 0.3,
    dissolved_share: float = 0.0,
) -> World:
    """A small world built by hand: up to three provinces, each with one or two prefectures
    whose first unit is an urban district and whose other units are counties or county-level
    cities, and random households with valid fields.

    Parameters
    ----------
    n_places
        Number of places (at least 1).
    n_households
        Number of household agents (0 allowed).
    seed
        Seed of the numpy generator of the layout and households.
    hpa
        Real households per agent.
    floating_share
        Share of households whose hukou place differs from where they live (needs 2+ places).
    dissolved_share
        Share of households with no persons left (they must be skipped everywhere).
    """
    if n_places < 1:
        raise ValueError("a tiny world needs at least one place")
    rng = np.random.default_rng(seed)
    n_prov = min(len(_PROVINCES), n_places)
    prov_of = np.arange(n_places) * n_prov // n_places  # contiguous blocks per province

    code, pref, kind, lon, lat, region, pcode, capital, names = ([] for _ in range(9))
    for p in range(n_prov):
        prov_code, reg, lon0, lat0 = _PROVINCES[p]
        members = np.flatnonzero(prov_of == p)
        n_pref = 2 if members.size >= 4 else 1
        pref_of = np.arange(members.size) * n_pref // members.size
        for k in range(n_pref):
            units = members[pref_of == k]
            pref_code = prov_code * 10000 + (k + 1) * 100
            for j, _ in enumerate(units):
                code.append(pref_code + j + 1)
                pref.append(pref_code)
                kind.append(0 if j == 0 else 1 + j % 2)
                lon.append(lon0 + 1.5 * k + rng.uniform(-0.5, 0.5))
                lat.append(lat0 + 1.0 * k + rng.uniform(-0.5, 0.5))
                region.append(reg)
                pcode.append(prov_code)
                capital.append(k == 0)
                names.append(f"T{prov_code} P{k + 1:02d} U{j + 1:02d}")

    n = n_households
    place = rng.integers(0, n_places, n)
    zone = (rng.random(n) < np.where(np.asarray(kind)[place] == 0, 0.8, 0.35)).astype(np.uint8)
    hukou_place = place.copy()
    if n_places > 1:
        floating = rng.random(n) < floating_share
        other = (place + rng.integers(1, n_places, n)) % n_places
        hukou_place = np.where(floating, other, place)
    is_floating = hukou_place != place
    hukou_type = (rng.random(n) < np.where(zone == 1, 0.5, 0.08)).astype(np.uint8)
    land = ((hukou_type == 0) & (rng.random(n) < 0.9)).astype(np.uint8)
    persons = rng.integers(1, 9, n)
    persons[rng.random(n) < dissolved_share] = 0
    head_age = rng.integers(15, 90, n)
    # Up to persons - 1 children of distinct ages below the head's age minus 15.
    kids = np.zeros(n, dtype=np.uint32)
    n_kids = np.minimum(rng.integers(0, 5, n), np.maximum(persons - 1, 0))
    for i in np.flatnonzero(n_kids):
        window = min(L.KID_AGES, int(head_age[i]) - 14)
        for a in rng.choice(window, size=min(int(n_kids[i]), window), replace=False):
            kids[i] |= np.uint32(1 << int(a))
    children = school_children(kids)
    years = np.where(is_floating, rng.integers(0, 12, n), rng.integers(0, 41, n))
    permit = (is_floating & (rng.random(n) < 0.3)).astype(np.uint8)
    # Drawn after every other field, so that adding them changed none of the others.
    years_away = np.where(is_floating, np.minimum(years + rng.integers(0, 3, n), 255), 0)
    left_behind = (is_floating & (children > 0) & (rng.random(n) < 0.5)).astype(np.uint8)
    # Drawn after those, so that adding it changed none of the others.
    match = np.where(is_floating, rng.integers(-40, 41, n), 0)
    households = Households(
        place=place,
        zone=zone,
        hukou_place=hukou_place,
        hukou_type=hukou_type,
        years_here=years,
        permit=permit,
        head_age=head_age,
        education=rng.integers(0, 4, n),
        kids=kids,
        children=children,
        land=land,
        persons=persons,
        years_away=years_away,
        left_behind=left_behind,
        match=match,
    )

    weight = persons.astype(np.float64) * hpa  # real persons
    residents = np.bincount(place, weights=weight, minlength=n_places)
    urban = np.bincount(place, weights=weight * (zone == 1), minlength=n_places)
    table = PlaceTable(
        code=np.asarray(code),
        name=np.asarray(names, dtype=object),
        province_code=np.asarray(pcode),
        prefecture_code=np.asarray(pref),
        region=np.asarray(region),
        kind=np.asarray(kind),
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        is_capital=np.asarray(capital),
        residents=residents,
        urban_residents=urban,
    )
    return World("tiny", table, households, hpa, {"source": "tests/conftest.py"})


def make_kernel_inputs(
    world: World, seed: int = 0, *, candidates: int = 4, **par_overrides: Any
) -> dict[str, Any]:
    """Random but valid inputs of :func:`urbsim.kernels.household_step.household_step` for
    ``world``: place values (``places``), a settlement rule per place, behavioural parameters
    (``par``), the access schedule, gravity weights, the origin index and the network.

    ``par_overrides`` set fields of ``par`` by name (``move_base=1.0``).
    """
    rng = np.random.default_rng(seed)
    t = world.places
    n = len(t)
    hh = world.households.as_dict()
    _, prov_idx = np.unique(t.province_code, return_inverse=True)
    _, gov_idx = np.unique(t.prefecture_code, return_inverse=True)
    lat = np.radians(t.lat)
    income = rng.normal(10.5, 0.3, n)
    cost = rng.normal(6.0, 0.3, n)
    places = PlaceInputs(
        log_income_urban=income,
        log_income_rural=income + math.log(0.33),
        log_cost_urban=cost,
        log_cost_rural=cost - 1.0,
        quality=rng.uniform(0.2, 1.0, n),
        amenity=rng.uniform(0.0, 1.0, n),
        log_size=rng.uniform(8.0, 14.0, n),
        employment=rng.uniform(0.7, 1.0, n),
        fertility_factor=rng.uniform(0.5, 1.5, n),
        insitu=rng.uniform(0.0, 0.3, n),
        school_access=np.where(rng.uniform(0.0, 1.0, n) < 0.5, 1.0, rng.uniform(0.0, 1.0, n)),
        lat=lat,
        lon=np.radians(t.lon),
        coslat=np.cos(lat),
        province=prov_idx.astype(np.int64),
        rule=rng.integers(0, 4, n).astype(np.int64),
        min_years=rng.integers(0, 6, n).astype(np.int64),
        gov=gov_idx.astype(np.int64),
        surrender=(rng.random(n) < 0.5).astype(np.int64),
        # Permits issued at some places, after their own months (issue 13: rules by place).
        permit_on=(rng.random(n) < 0.5).astype(np.int64),
        permit_months=rng.integers(0, 25, n).astype(np.int64),
        hukou_benefit=rng.uniform(0.0, 0.5, n),
        hukou_benefit_child=rng.uniform(0.0, 0.5, n),
        land_median=rng.uniform(0.0, 3.0, n),
        entry_within=rng.normal(0.0, 1.0, n),
        entry_across=rng.normal(0.0, 1.0, n),
    )
    values: dict[str, Any] = {name: 0.0 for name in PARAM_FIELDS}
    values.update(
        move_base=rng.uniform(0.0, 1.0),
        move_age=rng.uniform(0.0, 2.0, 4),
        move_tenure_decay=rng.uniform(0.0, 0.2),
        move_unemployed=rng.uniform(1.0, 3.0),
        network_sampling_share=rng.uniform(0.0, 1.0),
        distance_floor_km=rng.uniform(5.0, 50.0),
        size_reference=rng.uniform(1e4, 1e6),
        candidates=candidates,
    )
    for name, hi in (
        ("beta_income", 3.0),
        ("beta_housing", 1.0),
        ("beta_service", 2.0),
        ("child_service_weight", 1.0),
        ("beta_distance", 3.0),
        ("beta_province", 2.0),
        ("moving_cost", 2.0),
        ("beta_network", 0.5),
        ("beta_network_province", 0.5),
        ("beta_size", 1.5),
        ("beta_amenity", 1.0),
        ("home_preference", 2.0),
        ("land_value", 3.0),
        ("hukou_premium", 1.0),
    ):
        values[name] = rng.uniform(0.0, hi)
    values.update(
        permit_takeup=rng.uniform(0.0, 1.0),
        hukou_apply_rate=rng.uniform(0.0, 1.0),
        households_per_agent=world.households_per_agent,
        requisition_share=rng.uniform(0.0, 1.0),
        service_base_access=rng.uniform(0.0, 1.0),
        points_education=rng.uniform(0.0, 20.0),
        points_years=rng.uniform(0.0, 5.0),
        hukou_logit_scale=rng.uniform(0.05, 2.0),
        land_value_dispersion=rng.uniform(0.0, 0.9),
        land_region=rng.uniform(0.5, 2.0, 4),
        seed=int(rng.integers(0, 2**63)),
    )
    # Drawn after everything else above, so that adding them changed none of the others.
    values.update(
        home_age=rng.uniform(0.0, 0.1),
        return_years_away=rng.uniform(0.0, 1.0),
        return_unemployed=rng.uniform(0.0, 2.0),
        return_left_behind=rng.uniform(0.0, 2.0),
        left_behind_agricultural=rng.uniform(0.0, 1.0),
        left_behind_nonagricultural=rng.uniform(0.0, 1.0),
    )
    # Drawn after the parameters above, which it leaves unchanged (it moves the draws below).
    values.update(stay_age=rng.uniform(0.0, 0.1))
    # Drawn last for the same reason.
    values.update(
        return_rate=rng.uniform(0.0, 0.3),
        return_hazard_age=rng.uniform(0.0, 0.1),
        return_hazard_years_away=rng.uniform(0.0, 2.0),
        return_hazard_unemployed=rng.uniform(0.0, 3.0),
        return_hazard_left_behind=rng.uniform(0.0, 3.0),
    )
    # Drawn after every parameter above, which they leave unchanged (they move the draws below).
    values.update(move_nonagricultural=rng.uniform(0.3, 1.5))
    values.update(move_away=rng.uniform(0.3, 3.0))
    # Drawn after every parameter above, which it leaves unchanged.
    values.update(beta_outside_province=rng.uniform(0.0, 2.0))
    # Drawn after every parameter above, which it leaves unchanged.
    values.update(move_away_tenure_decay=rng.uniform(0.0, 2.0))
    # Drawn after every parameter above, which it leaves unchanged.
    values.update(moving_cost_away_share=rng.uniform(0.0, 1.0))
    # Drawn after every parameter above, which it leaves unchanged.
    values.update(place_match_sd=rng.uniform(0.0, 2.0))
    # Drawn after every parameter above, which it leaves unchanged (it moves the draws below).
    values.update(job_separation=rng.uniform(0.0, 0.6))
    values.update(par_overrides)

    # A schedule per place (rows of one length, as the model pads them), rising with years.
    access = np.sort(rng.uniform(0.3, 1.0, (n, int(rng.integers(1, 6)))), axis=1)
    size = rng.uniform(0.5, 5.0, n)
    grav = gravity_rows(
        distance_decay(lat, np.radians(t.lon), rng.uniform(5.0, 50.0), rng.uniform(0.5, 2.0)),
        size,
    )
    _, _, _, net = A.aggregate(hh, n, access.shape[1])
    start, members = A.origin_index(hh, n)
    return {
        "places": places,
        "par": params_from(values),
        "access": access,
        "grav_cdf": grav,
        "origin_start": start,
        "origin_members": members,
        "net": net,
        "gov_of_place": gov_idx.astype(np.int64),
        "n_gov": int(gov_idx.max()) + 1,
        "vital": make_vital(rng),
    }


def make_vital(rng: np.random.Generator) -> VitalRates:
    """Random but valid yearly schedules: fertility up to 0.15 at ages 15-49, mortality up to
    0.05 (rising to one at the oldest age), leaving home from a random age (certain at 31)."""
    ages = np.arange(L.MAX_AGE + 1)
    fertile = (ages >= 15) & (ages <= 49)
    fertility = np.where(fertile, rng.uniform(0.0, 0.15, (2, ages.shape[0])), 0.0)
    mortality = rng.uniform(0.0, 0.05, (2, ages.shape[0]))
    mortality[:, -1] = 1.0
    leaving = np.where(np.arange(L.KID_AGES) >= rng.integers(14, 25), rng.uniform(0.0, 0.5), 0.0)
    leaving[-1] = 1.0
    return VitalRates(fertility, mortality, leaving)


def make_small_scenario(**overrides: Any) -> LoadedScenario:
    """A validated scenario on the synthetic world at small scale (about 10k agents) and a
    short run (2010-2016). Keyword arguments are merged into the scenario table: nested tables
    merge key by key (``world={"households_per_agent": 1e5}`` keeps the other world keys)."""
    data: dict[str, Any] = {
        "name": "small",
        "world": {"households_per_agent": SMALL_HPA},
        "end_year": 2016,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return validate(data)


def household_dtypes(households: Households) -> dict[str, np.dtype]:
    """The dtype of every household field."""
    return {name: getattr(households, name).dtype for name in FIELDS}


@pytest.fixture(scope="session")
def tiny_world() -> Callable[..., World]:
    """Builder of tiny worlds: ``tiny_world(n_places=12, n_households=400, seed=0)``."""
    return build_tiny_world


@pytest.fixture(scope="session")
def kernel_inputs() -> Callable[..., dict[str, Any]]:
    """Builder of household-step inputs for a world: ``kernel_inputs(world, seed=0)``."""
    return make_kernel_inputs


@pytest.fixture(scope="session")
def small_scenario() -> Callable[..., LoadedScenario]:
    """Builder of small validated scenarios: ``small_scenario(seed=3, end_year=2012)``."""
    return make_small_scenario


# --- the census world, built once per session from the shared census files -------------------
#: The census files beside the checkout (../shared/data/census), as the README describes.
CENSUS_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/census"
CENSUS_FILES = (
    CENSUS_DATA / "census_county_2010_v1.xlsx",
    CENSUS_DATA / "prefecture_centroids.csv",
    CENSUS_DATA / "provinces_2010.csv",
)
CENSUS_MISSING = f"census data not found in {CENSUS_DATA} (see README 'Census world')"


def census_data_present() -> bool:
    """Whether the shared census files are there."""
    return all(p.is_file() for p in CENSUS_FILES)


@pytest.fixture(scope="session")
def built() -> tuple[Any, dict]:
    """The census county file converted to the world table, and the build report."""
    from urbsim.world.census import build_census_world_table

    if not census_data_present():
        pytest.skip(CENSUS_MISSING)
    return build_census_world_table(CENSUS_FILES[0], CENSUS_FILES[1])


@pytest.fixture(scope="session")
def world_file(built: tuple[Any, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted census world written as a world file."""
    from urbsim.world.census import write_world_file

    df, report = built
    return write_world_file(df, tmp_path_factory.mktemp("world") / "census.parquet", report)
