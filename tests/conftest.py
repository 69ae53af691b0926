"""Shared fixtures: a tiny hand-built world, kernel inputs for it, and small scenarios.

The fixtures return builder functions (session scope, so they are also usable from
``hypothesis`` tests): ``tiny_world(n_places=..., n_households=..., seed=...)``,
``kernel_inputs(world, seed=...)`` and ``small_scenario(**overrides)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from urbsim.households import FIELDS, Households
from urbsim.kernels import aggregate as A
from urbsim.kernels import layout as L
from urbsim.scenario import LoadedScenario, validate
from urbsim.world import PlaceTable, World

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
    children = np.minimum(rng.integers(0, 4, n), np.maximum(persons - 1, 0))
    years = np.where(is_floating, rng.integers(0, 12, n), rng.integers(0, 41, n))
    permit = (is_floating & (rng.random(n) < 0.3)).astype(np.uint8)
    households = Households(
        place=place,
        zone=zone,
        hukou_place=hukou_place,
        hukou_type=hukou_type,
        years_here=years,
        permit=permit,
        age_group=rng.integers(0, 4, n),
        education=rng.integers(0, 4, n),
        children=children,
        land=land,
        persons=persons,
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
    world: World, seed: int = 0, *, n_candidates: int = 4, **par_overrides: float
) -> dict[str, Any]:
    """Random but valid inputs of :func:`urbsim.kernels.household_step.household_step` for
    ``world``: place values, a settlement rule per place, behavioural parameters, the access
    schedule, gravity weights, the origin index and the network.

    ``par_overrides`` set entries of ``par`` by the name of their ``P_*`` layout constant
    without the prefix, in lower case (``move_base=1.0``).
    """
    rng = np.random.default_rng(seed)
    t = world.places
    n = len(t)
    hh = world.households.as_dict()
    provs, prov_idx = np.unique(t.province_code, return_inverse=True)
    _, gov_idx = np.unique(t.prefecture_code, return_inverse=True)
    lat = np.radians(t.lat)

    pf = np.zeros((n, L.N_PF))
    pf[:, L.PF_LOGINC_URBAN] = rng.normal(10.5, 0.3, n)
    pf[:, L.PF_LOGINC_RURAL] = pf[:, L.PF_LOGINC_URBAN] + math.log(0.33)
    pf[:, L.PF_LOGCOST_URBAN] = rng.normal(6.0, 0.3, n)
    pf[:, L.PF_LOGCOST_RURAL] = pf[:, L.PF_LOGCOST_URBAN] - 1.0
    pf[:, L.PF_QUALITY] = rng.uniform(0.2, 1.0, n)
    pf[:, L.PF_AMENITY] = rng.uniform(0.0, 1.0, n)
    pf[:, L.PF_EMPLOY] = rng.uniform(0.7, 1.0, n)
    pf[:, L.PF_BIRTH_URBAN] = rng.uniform(0.0, 0.03, n)
    pf[:, L.PF_BIRTH_RURAL] = rng.uniform(0.0, 0.03, n)
    pf[:, L.PF_DEATH] = rng.uniform(0.0, 0.03, n)
    pf[:, L.PF_INSITU] = rng.uniform(0.0, 0.3, n)
    pf[:, L.PF_LAT] = lat
    pf[:, L.PF_LON] = np.radians(t.lon)
    pf[:, L.PF_COSLAT] = np.cos(lat)

    pi = np.zeros((n, L.N_PI), dtype=np.int64)
    pi[:, L.PI_PROVINCE] = prov_idx
    pi[:, L.PI_RULE] = rng.integers(0, 4, n)
    pi[:, L.PI_MIN_YEARS] = rng.integers(0, 6, n)
    pi[:, L.PI_GOV] = gov_idx

    par = np.zeros(L.N_PAR)
    par[L.P_MOVE_BASE] = rng.uniform(0.0, 1.0)
    par[L.P_MOVE_AGE0 : L.P_MOVE_AGE0 + 4] = rng.uniform(0.0, 2.0, 4)
    par[L.P_TENURE_DECAY] = rng.uniform(0.0, 0.2)
    par[L.P_MOVE_UNEMPLOYED] = rng.uniform(1.0, 3.0)
    par[L.P_NETWORK_SHARE] = rng.uniform(0.0, 1.0)
    par[L.P_D0] = rng.uniform(10.0, 100.0)
    for col, hi in (
        (L.P_BETA_INCOME, 3.0),
        (L.P_BETA_HOUSING, 1.0),
        (L.P_BETA_SERVICE, 2.0),
        (L.P_CHILD_WEIGHT, 1.0),
        (L.P_BETA_DISTANCE, 3.0),
        (L.P_BETA_PROVINCE, 2.0),
        (L.P_MOVING_COST, 2.0),
        (L.P_BETA_NETWORK, 0.5),
        (L.P_BETA_AMENITY, 1.0),
        (L.P_HOME_PREFERENCE, 2.0),
        (L.P_LAND_VALUE, 3.0),
        (L.P_HUKOU_PREMIUM, 1.0),
    ):
        par[col] = rng.uniform(0.0, hi)
    par[L.P_PERMIT_TAKEUP] = rng.uniform(0.0, 1.0)
    par[L.P_HUKOU_APPLY] = rng.uniform(0.0, 1.0)
    par[L.P_HPA] = world.households_per_agent
    par[L.P_AGEING] = rng.uniform(0.0, 0.2)
    par[L.P_REQUISITION] = rng.uniform(0.0, 1.0)
    par[L.P_PERMIT_ON] = float(rng.random() < 0.5)
    par[L.P_PERMIT_MONTHS] = float(rng.integers(0, 25))
    par[L.P_BASE_ACCESS] = rng.uniform(0.0, 1.0)
    par[L.P_POINTS_EDUCATION] = rng.uniform(0.0, 20.0)
    par[L.P_POINTS_YEARS] = rng.uniform(0.0, 5.0)
    for name, value in par_overrides.items():
        par[getattr(L, "P_" + name.upper())] = value

    access = np.sort(rng.uniform(0.3, 1.0, int(rng.integers(1, 6))))
    size = rng.uniform(0.5, 5.0, n)
    grav = np.cumsum(
        np.tile(size, (len(provs), 1)) * rng.uniform(0.5, 1.5, (len(provs), n)), axis=1
    )
    _, _, _, net = A.aggregate(hh, n, access.shape[0])
    start, members = A.origin_index(hh, n)
    return {
        "pf": pf,
        "pi": pi,
        "par": par,
        "access": access,
        "grav_cdf": grav,
        "origin_start": start,
        "origin_members": members,
        "net": net,
        "n_candidates": n_candidates,
        "gov_of_place": gov_idx.astype(np.int64),
        "n_gov": int(gov_idx.max()) + 1,
    }


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
