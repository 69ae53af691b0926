"""The embedded default world ``china-synthetic``: synthetic places and households of 2010.

No data file beyond the embedded province table (:func:`urbsim.world.provinces.load_provinces`)
is needed. The generator has two halves:

* **Places** (fixed geometry). Each province's county-level units are split into prefectures and
  kinds (urban district, county, county-level city) so that the national counts of 2010 come out
  (2,857 units, 853 districts, 370 county-level cities, 1,634 counties, 333 prefecture-level units
  plus the four municipalities). Prefectures are scattered around the provincial capital, and
  urban residents follow a rank-size (Zipf) rule, scaled so that every province's residents and
  urban residents equal the census table. The layout uses its own fixed random stream, so it is
  identical for every ``seed``.
* **Households** (depend on ``seed``). Agents are apportioned to provinces by census households,
  to places by residents and to zones by the urban share, all by largest remainder so totals are
  exact. Persons, floating residents (inter- and intra-province), hukou type, land rights and the
  head's characteristics are then drawn with vectorised numpy code.
"""

from __future__ import annotations

import math
import time
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN, Households
from urbsim.world.ages import household_ages, young_share
from urbsim.world.away import initial_away
from urbsim.world.base import (
    AGE_LOCAL,
    AGE_MIGRANT,
    CHINA_BBOX,
    DISTRICT,
    FLOATING_TARGET,
    KINDS,
    MAX_PERSONS,
    MIGRANT_YEARS_CAP,
    NONAGRI_TARGET,
    P_LAND_AGRI,
    P_MIGRANT_YEARS,
    P_NONAGRI_MIGRANT,
    P_NONAGRI_RURAL_LOCAL,
    REGIONS,
    SHARE_0_14_2010,
    SIZE_CLASSES,
    PlaceTable,
    World,
    check_scale_and_seed,
    prefecture_city_size,
    size_class_of,
)
from urbsim.world.provinces import MUNICIPALITIES, load_provinces
from urbsim.world.sampling import apportion as _apportion
from urbsim.world.sampling import draw_categorical as _draw_categorical
from urbsim.world.sampling import draw_weighted as _draw_weighted
from urbsim.world.sampling import nonagri_probabilities
from urbsim.world.sampling import take_persons as _take_persons
from urbsim.world.sampling import weighted_order as _weighted_order

WORLD_NAME: Final[str] = "china-synthetic"

# --- National administrative counts at the end of 2010 ------------------------------------------
N_PREFECTURES: Final[int] = 333  # prefecture-level units, not counting the four municipalities
N_DISTRICTS: Final[int] = 853
N_COUNTY_CITIES: Final[int] = 370
N_COUNTIES: Final[int] = 1634
#: Urban districts of the municipalities in 2010 (their other units are counties). Fixed from the
#: administrative division list because the generic allocation below would not know that the
#: municipalities are almost all districts.
MUNICIPALITY_DISTRICTS: Final[dict[int, int]] = {11: 16, 12: 13, 31: 17, 50: 19}

# --- Layout ---------------------------------------------------------------------------------------
#: Seed of the layout stream: the geometry must not depend on the household seed.
LAYOUT_SEED: Final[int] = 2010
_BBOX_MARGIN: Final[float] = 0.2

# The 2010 targets (NONAGRI_TARGET, FLOATING_TARGET), the shares of the household draws and
# CHINA_BBOX are shared with the census world: they live in urbsim.world.base.

# --- Behavioural shares of the household draws of this world only -------------------------------
#: Education of the head by (zone, hukou) group; the mix gives about 0.35/0.42/0.15/0.08.
EDU_RURAL_AGRI: Final[tuple[float, ...]] = (0.50, 0.43, 0.06, 0.01)
EDU_URBAN_AGRI: Final[tuple[float, ...]] = (0.30, 0.50, 0.15, 0.05)
EDU_NONAGRI: Final[tuple[float, ...]] = (0.16, 0.36, 0.28, 0.20)

# ==================================================================================================
# helpers
# ==================================================================================================


def _in_bbox(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon_min, lon_max, lat_min, lat_max = CHINA_BBOX
    return (
        np.clip(lon, lon_min + _BBOX_MARGIN, lon_max - _BBOX_MARGIN),
        np.clip(lat, lat_min + _BBOX_MARGIN, lat_max - _BBOX_MARGIN),
    )


def _scatter(
    rng: np.random.Generator, lon0: float, lat0: float, radius: float, n: int, inner: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniformly in the ring ``inner*radius..radius`` degrees around a centre.

    Longitude offsets are stretched by 1/cos(lat) so the spread is roughly isotropic in km.
    """
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    r = radius * np.sqrt(rng.uniform(inner * inner, 1.0, n))
    stretch = 1.0 / max(math.cos(math.radians(lat0)), 0.3)
    return _in_bbox(lon0 + r * np.cos(theta) * stretch, lat0 + r * np.sin(theta))


# ==================================================================================================
# places
# ==================================================================================================


def _allocate_kinds(prov: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prefectures, districts, county-level cities and counties per province.

    National totals are hit exactly: 333 prefectures, 853 districts, 370 county-level cities and
    1,634 counties. Every prefecture has at least one district (its city proper); extra districts
    go to urbanised provinces (weight: non-prefecture units x urban share squared), county-level
    cities in proportion to the non-district units x urban share (few in Tibet, many in the
    east).
    """
    codes = prov["code"].to_numpy()
    units = prov["county_units"].to_numpy(dtype=np.int64)
    urb = (prov["urban_2010"] / prov["residents_2010"]).to_numpy()
    muni = np.isin(codes, list(MUNICIPALITIES))
    other = ~muni

    n_pref = np.ones(len(prov), dtype=np.int64)
    n_pref[other] = _apportion(N_PREFECTURES, units[other], minimum=1)

    n_dist = np.zeros(len(prov), dtype=np.int64)
    for i in np.flatnonzero(muni):
        n_dist[i] = MUNICIPALITY_DISTRICTS[int(codes[i])]
    free = N_DISTRICTS - int(n_dist[muni].sum()) - int(n_pref[other].sum())
    n_dist[other] = n_pref[other] + _apportion(free, (units - n_pref)[other] * urb[other] ** 2)

    n_cities = np.zeros(len(prov), dtype=np.int64)  # municipalities have no county-level cities
    n_cities[other] = _apportion(N_COUNTY_CITIES, ((units - n_dist) * urb)[other])
    n_counties = units - n_dist - n_cities
    if (n_counties < 0).any():  # pragma: no cover - guarded by the embedded table
        raise ValueError("kind allocation failed: negative county count")
    return n_pref, n_dist, n_cities, n_counties


#: Columns of the place table in the order :func:`_build_places` collects them.
_PLACE_FIELDS: Final[tuple[str, ...]] = (
    "code",
    "name",
    "province_code",
    "prefecture_code",
    "region",
    "kind",
    "lon",
    "lat",
    "is_capital",
    "residents",
    "urban_residents",
)


def _build_places(prov: pd.DataFrame) -> tuple[PlaceTable, np.ndarray]:
    """The fixed place table and, per place, the row of its province in ``prov``."""
    rng = np.random.default_rng(LAYOUT_SEED)
    n_pref, n_dist, n_cities, _ = _allocate_kinds(prov)
    region_of = {name: i for i, name in enumerate(REGIONS)}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (*_PLACE_FIELDS, "prov_row")}
    # Provinces in table order, one after the other: they share the layout stream ``rng``.
    for row in prov.itertuples(index=True):
        p = int(row.Index)
        part = _province_places(rng, row, int(n_pref[p]), int(n_dist[p]), int(n_cities[p]))
        part["region"] = np.full(part["code"].shape[0], region_of[row.region])
        part["prov_row"] = np.full(part["code"].shape[0], p)
        for k, v in part.items():
            cols[k].append(v)
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    prov_row = arrays.pop("prov_row").astype(np.int64)
    return PlaceTable(**arrays), prov_row


def _province_places(
    rng: np.random.Generator, row: Any, n_k: int, n_dist: int, n_cities: int
) -> dict[str, np.ndarray]:
    """Place columns (all but ``region``) of one province with ``n_k`` prefectures.

    The units per prefecture: one district each plus Zipf-weighted extra districts (the capital
    and big cities have several), non-district units spread with gamma noise; which of them are
    county-level cities is a random subset of the province's. The capital prefecture sits at the
    capital, the others are scattered with a spread that grows with the size of the province
    (sqrt of its number of units).
    """
    units = int(row.county_units)
    rank = np.arange(1, n_k + 1, dtype=np.float64)  # prefecture 01 (capital) is rank 1
    if n_k == 1:
        dist_k = np.array([n_dist])
        nond_k = np.array([units - n_dist])
    else:
        dist_k = 1 + _apportion(n_dist - n_k, 1.0 / rank)
        nond_k = _apportion(units - n_dist, rng.gamma(4.0, size=n_k))
    is_city = np.zeros(units - n_dist, dtype=bool)
    is_city[rng.choice(is_city.shape[0], n_cities, replace=False)] = True
    spread = float(np.clip(0.45 * math.sqrt(units), 1.5, 6.0))
    c_lon, c_lat = _scatter(rng, row.capital_lon, row.capital_lat, spread, n_k, inner=0.25)
    c_lon[0], c_lat[0] = row.capital_lon, row.capital_lat

    # Urban residents: districts of the rank-r prefecture take U_D / (r * H_K) (Zipf, 1) where
    # U_D is the districts' part of the province's urban residents; the part grows with the
    # share of districts (sqrt), so municipalities are almost all district-urban.
    urban_total = float(row.urban_2010)
    urban_d = urban_total * math.sqrt(n_dist / units)
    zipf = (1.0 / rank) / (1.0 / rank).sum()
    pieces: list[dict[str, Any]] = []
    city_pos = 0
    for k in range(n_k):
        nd, nn = int(dist_k[k]), int(nond_k[k])
        cities_here = is_city[city_pos : city_pos + nn]
        city_pos += nn
        centre = (c_lon[k], c_lat[k])
        pieces.append(_prefecture_units(rng, row, k, nd, cities_here, centre, urban_d * zipf[k]))
    part = {k: np.concatenate([pc[k] for pc in pieces]) for k in pieces[0] if k != "name"}
    urban, rural = _province_residents(
        part.pop("kind_urban"), part.pop("rural_w"), part.pop("urban_w"), part["kind"], row, urban_d
    )
    pcode = int(row.code)
    n = part["kind"].shape[0]
    lon, lat = _in_bbox(part["lon"], part["lat"])
    return {
        "code": part["code"],
        "name": np.array([nm for pc in pieces for nm in pc["name"]], dtype=object),
        "province_code": np.full(n, pcode),
        "prefecture_code": part["prefecture_code"],
        "kind": part["kind"],
        "lon": lon,
        "lat": lat,
        "is_capital": part["prefecture_code"] == pcode * 10000 + 100,
        "residents": urban + rural,
        "urban_residents": urban,
    }


def _prefecture_units(
    rng: np.random.Generator,
    row: Any,
    k: int,
    nd: int,
    cities_here: np.ndarray,
    centre: tuple[float, float],
    urban_d_k: float,
) -> dict[str, Any]:
    """Units of the rank-``k + 1`` prefecture: ``nd`` districts, then its non-district units.

    ``urban_d_k`` is the urban residents of its districts. Returns per unit the kind, code,
    prefecture code, name, coordinates, the districts' urban residents (``kind_urban``, NaN for
    the other units) and the weights of rural (``rural_w``) and urban (``urban_w``) residents
    that :func:`_province_residents` scales to the province.
    """
    nn = cities_here.shape[0]
    n_l = int(cities_here.sum())
    kinds = np.concatenate([np.zeros(nd), np.full(n_l, 2), np.ones(nn - n_l)]).astype(np.uint8)
    pref_code = int(row.code) * 10000 + (k + 1) * 100
    # Readable names: per-kind running number inside the prefecture.
    names = [f"{row.province} P{k + 1:02d} D{j + 1:02d}" for j in range(nd)]
    names += [f"{row.province} P{k + 1:02d} L{j + 1:02d}" for j in range(n_l)]
    names += [f"{row.province} P{k + 1:02d} C{j + 1:02d}" for j in range(nn - n_l)]
    if nd + nn > 99:  # pragma: no cover - the embedded table has at most 40 per prefecture
        raise ValueError("more than 99 units in a prefecture")
    c_lon, c_lat = centre
    d_lon, d_lat = _scatter(rng, c_lon, c_lat, 0.3, nd)
    d_lon[0], d_lat[0] = c_lon, c_lat  # the core district sits on the centre
    n_lon, n_lat = _scatter(rng, c_lon, c_lat, 1.0, nn, inner=0.3)
    # Districts of the city: the core district is the largest; they are mostly urban, the
    # capital's more so.
    dist_w = np.sort(rng.gamma(3.0, size=nd))[::-1]
    d_urban = urban_d_k * dist_w / dist_w.sum()
    lo, hi = (0.80, 0.98) if k == 0 else (0.70, 0.95)
    share = rng.uniform(lo, hi, nd)
    d_rural = d_urban * (1.0 - share) / share
    # Counties and county-level cities: size and urban propensity (county towns; cities twice
    # as urban as counties) with noise; scaled to the province by _province_residents.
    size = rng.gamma(4.0, size=nn) / 4.0
    prop = np.where(kinds[nd:] == 2, 2.0, 1.0) * rng.lognormal(0.0, 0.3, nn)
    return {
        "kind": kinds,
        "code": pref_code + np.arange(1, nd + nn + 1),
        "prefecture_code": np.full(nd + nn, pref_code),
        "name": names,
        "lon": np.concatenate([d_lon, n_lon]),
        "lat": np.concatenate([d_lat, n_lat]),
        "kind_urban": np.concatenate([d_urban, np.full(nn, np.nan)]),
        "rural_w": np.concatenate([d_rural, size]),
        "urban_w": np.concatenate([np.zeros(nd), size * prop]),
    }


def _province_residents(
    urban: np.ndarray,
    rurw: np.ndarray,
    urbw: np.ndarray,
    kind: np.ndarray,
    row: Any,
    urban_d: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Urban and rural residents of a province's places, summing to its census figures.

    ``urban`` holds the districts' urban residents (NaN elsewhere), ``rurw`` the districts' rural
    residents and the other units' rural weights, ``urbw`` the other units' urban weights; the
    districts' part of the urban residents is ``urban_d``.
    """
    urban_total = float(row.urban_2010)
    rural_total = float(row.residents_2010) - urban_total
    urban_n = urban_total - urban_d
    is_d = kind == DISTRICT
    # Rural residents of districts are capped at half the province's rural residents (this
    # binds only in Shanghai/Beijing-like provinces and makes their districts more urban).
    d_rural = rurw[is_d]
    d_rural *= min(1.0, 0.5 * rural_total / d_rural.sum())
    rural_n = rural_total - d_rural.sum()
    rural = np.empty_like(urban)
    rural[is_d] = d_rural
    rural[~is_d] = rural_n * rurw[~is_d] / rurw[~is_d].sum()
    urban[~is_d] = urban_n * urbw[~is_d] / urbw[~is_d].sum()
    # Remove floating-point drift so the province sums equal the table to < 1 person.
    urban *= urban_total / urban.sum()
    rural *= rural_total / rural.sum()
    return urban, rural


def prefecture_city_sizes(places: PlaceTable) -> pd.Series:
    """Urban residents of each prefecture's urban districts (the prefecture city proper).

    Parameters
    ----------
    places : PlaceTable
        Places of a world.

    Returns
    -------
    pandas.Series
        Indexed by ``prefecture_code``; prefectures without districts have 0.
    """
    df = pd.DataFrame(
        {
            "pref": places.prefecture_code,
            "urban": np.where(places.kind == 0, places.urban_residents, 0.0),
        }
    )
    return df.groupby("pref")["urban"].sum()


def size_class_counts(places: PlaceTable) -> np.ndarray:
    """Number of prefecture cities per size class of the 2014 standard.

    Parameters
    ----------
    places : PlaceTable
        Places of a world.

    Returns
    -------
    numpy.ndarray
        ``int64`` counts indexed like :data:`urbsim.world.base.SIZE_CLASSES` (super-large first),
        classifying each prefecture by the model's rule (:func:`urbsim.world.base.size_class_of`
        of :func:`urbsim.world.base.prefecture_city_size`: a prefecture without districts is
        classed by the urban residents of all its places).
    """
    _, pref = np.unique(places.prefecture_code, return_inverse=True)
    n_pref = int(pref.max()) + 1 if pref.shape[0] else 0
    city = prefecture_city_size(places.kind, places.urban_residents, pref, n_pref)
    return np.bincount(size_class_of(city), minlength=len(SIZE_CLASSES))


# ==================================================================================================
# households
# ==================================================================================================


def _nonagri_probabilities(totals: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Probability of non-agricultural hukou per (hukou province, group); see
    :func:`urbsim.world.sampling.nonagri_probabilities` (fixed low shares for rural-zone locals
    and migrants, urban-zone locals take the rest)."""
    base = np.array([0.0, P_NONAGRI_RURAL_LOCAL, P_NONAGRI_MIGRANT])
    return nonagri_probabilities(totals, target, base)


def _build_households(
    places: PlaceTable,
    prov: pd.DataFrame,
    prov_row: np.ndarray,
    households_per_agent: float,
    rng: np.random.Generator,
) -> tuple[Households, dict[str, float]]:
    """The 2010 household agents of ``places`` and the achieved national figures.

    ``prov_row`` maps places to rows of ``prov``; all randomness comes from ``rng``, drawn in
    the order of the steps below (agents, persons, floating residents, hukou type, land, head).
    """
    hpa = households_per_agent
    places_of = [np.flatnonzero(prov_row == p) for p in range(len(prov))]
    agents_p, place, zone = _agents_by_zone(places, prov, places_of, hpa)
    aprov = prov_row[place]
    persons = _draw_persons(rng, aprov, agents_p, prov, hpa)
    # Agents of each province: order_by_prov[bounds[p] : bounds[p + 1]].
    order_by_prov = np.argsort(aprov, kind="stable")
    bounds = np.searchsorted(aprov[order_by_prov], np.arange(len(prov) + 1))
    _correct_persons(rng, persons, order_by_prov, bounds, prov, hpa)
    members = [order_by_prov[bounds[p] : bounds[p + 1]] for p in range(len(prov))]
    hukou_place, migrant_kind = _floating(
        rng, places, prov, prov_row, places_of, members, place, zone, persons, hpa
    )
    migrant = migrant_kind > 0
    hukou_type, factor = _hukou_types(rng, prov, prov_row, hukou_place, zone, persons, migrant)
    nonagri = hukou_type == NON_AGRICULTURAL
    land = (~nonagri & (rng.random(place.shape[0]) < P_LAND_AGRI)).astype(np.uint8)
    group, edu, years = _heads(rng, migrant, nonagri, zone)
    n = place.shape[0]
    young = np.bincount(place, weights=persons, minlength=len(places)) * SHARE_0_14_2010
    head_age, kids, children = household_ages(rng, place, persons, group, young)
    # Drawn after every other field (urbsim.world.away).
    u_left = rng.random(n)
    u_years = rng.random(n)
    years_away, left_behind = initial_away(
        u_left, u_years, place, hukou_place, hukou_type, years, head_age, children
    )
    hh = Households(
        place=place.astype(FIELDS["place"].dtype),
        zone=zone,
        hukou_place=hukou_place.astype(FIELDS["hukou_place"].dtype),
        hukou_type=hukou_type,
        years_here=np.minimum(years, 255),
        permit=np.zeros(n, dtype=np.uint8),  # residence permits start in 2016
        head_age=head_age,
        education=edu,
        kids=kids,
        children=children,
        land=land,
        persons=persons,
        years_away=years_away,
        left_behind=left_behind,
        # Drawn by the model at the start of the run (urbsim.kernels.start_match).
        match=np.zeros(n, dtype=np.int8),
    )
    weight = persons * hpa
    stats = {
        "agents": float(n),
        "residents": float(weight.sum()),
        "urbanization": float(weight[zone == URBAN].sum() / weight.sum()),
        "nonagri_share": float(weight[nonagri].sum() / weight.sum()),
        "floating": float(weight[migrant].sum()),
        "floating_inter": float(weight[migrant_kind == 2].sum()),
        "nonagri_factor": float(factor),
        "share_0_14": young_share(persons, kids),
    }
    return hh, stats


def _agents_by_zone(
    places: PlaceTable, prov: pd.DataFrame, places_of: list[np.ndarray], hpa: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agents per province, and the place and zone of every agent (ordered by place, rural
    first).

    Agents are apportioned to provinces by households, to places by residents and to zones by
    the urban share, all by largest remainder so totals are exact.
    """
    n_places = len(places)
    agents_p = np.maximum(1, np.floor(prov["households_2010"].to_numpy() / hpa + 0.5)).astype(
        np.int64
    )
    per_place = np.zeros(n_places, dtype=np.int64)
    for p, idx in enumerate(places_of):
        # One agent at least in every place when the province has enough agents for that.
        minimum = 1 if agents_p[p] >= idx.shape[0] else 0
        per_place[idx] = _apportion(int(agents_p[p]), places.residents[idx], minimum)
    urban_share = places.urban_residents / places.residents
    n_urban = np.clip(np.floor(per_place * urban_share + 0.5), 0, per_place).astype(np.int64)
    counts = np.stack([per_place - n_urban, n_urban], axis=1).ravel()
    place = np.repeat(np.repeat(np.arange(n_places), 2), counts)
    zone = np.repeat(np.tile(np.array([0, URBAN], dtype=np.uint8), n_places), counts)
    return agents_p, place, zone


def _draw_persons(
    rng: np.random.Generator,
    aprov: np.ndarray,
    agents_p: np.ndarray,
    prov: pd.DataFrame,
    hpa: float,
) -> np.ndarray:
    """Persons per agent: 1 + Poisson(mean - 1), the mean such that the province expects its
    residents."""
    residents_p = prov["residents_2010"].to_numpy(dtype=np.float64)
    mean_p = residents_p / (agents_p * hpa)
    persons = 1 + rng.poisson(np.maximum(mean_p - 1.0, 0.0)[aprov])
    return np.minimum(persons, MAX_PERSONS).astype(np.int64)


def _correct_persons(
    rng: np.random.Generator,
    persons: np.ndarray,
    order_by_prov: np.ndarray,
    bounds: np.ndarray,
    prov: pd.DataFrame,
    hpa: float,
) -> None:
    """Correct the sampling error of the persons (in place): add or remove one person in
    randomly chosen households until the province's persons * hpa is within hpa/2 of its
    residents."""
    residents_p = prov["residents_2010"].to_numpy(dtype=np.float64)
    for p in range(len(prov)):
        members = order_by_prov[bounds[p] : bounds[p + 1]]
        diff = int(np.floor(residents_p[p] / hpa - persons[members].sum() + 0.5))
        while diff != 0:
            step = 1 if diff > 0 else -1
            ok = members[(persons[members] < MAX_PERSONS) if step > 0 else (persons[members] > 1)]
            if ok.shape[0] == 0:
                break
            pick = rng.choice(ok, min(abs(diff), ok.shape[0]), replace=False)
            persons[pick] += step
            diff -= step * pick.shape[0]


def _floating(
    rng: np.random.Generator,
    places: PlaceTable,
    prov: pd.DataFrame,
    prov_row: np.ndarray,
    places_of: list[np.ndarray],
    members: list[np.ndarray],
    place: np.ndarray,
    zone: np.ndarray,
    persons: np.ndarray,
    hpa: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Hukou place and migrant kind (0 local, 1 intra-, 2 inter-province) of every agent.

    Inter-province migrants are urban-zone agents of the receiving province, weighted to big
    cities (prefecture city size^0.7, districts x1.5); intra-province migrants likewise with a
    flatter weight. Intra-province floating = 221M - inter, split by provinces' urban locals.
    Origins of inter-province migrants follow the provinces' out-migration and within a province
    its places' rural residents.
    """
    n_prov = len(prov)
    residents_p = prov["residents_2010"].to_numpy(dtype=np.float64)
    urban_p = prov["urban_2010"].to_numpy(dtype=np.float64)
    inmig_p = prov["inmigrants_other_province_2010"].to_numpy(dtype=np.float64)
    hukou_p = prov["hukou_2010"].to_numpy(dtype=np.float64)
    city = prefecture_city_sizes(places)
    city_size = city.reindex(places.prefecture_code).to_numpy() / 1e6 + 0.05
    is_district = places.kind == DISTRICT
    w_inter = city_size**0.7 * np.where(is_district, 1.5, 1.0)
    w_intra = city_size**0.35 * np.where(is_district, 1.3, 1.0)
    intra_total = max(FLOATING_TARGET - inmig_p.sum(), 0.0)
    local_urban = np.maximum(urban_p - inmig_p, 0.0)
    intra_p = intra_total * local_urban / local_urban.sum()
    # Origin of inter-province migrants: province out-migration O_q, within it rural residents.
    out_p = np.maximum(0.0, hukou_p - (residents_p - inmig_p))
    rural = places.residents - places.urban_residents
    rural_prov = np.bincount(prov_row, weights=rural, minlength=n_prov)
    origin_w = out_p[prov_row] * rural / rural_prov[prov_row]

    hukou_place = place.copy()
    migrant_kind = np.zeros(place.shape[0], dtype=np.uint8)
    for p in range(n_prov):
        cand = members[p][zone[members[p]] == URBAN]
        order = cand[_weighted_order(rng, w_inter[place[cand]])]
        k = _take_persons(order, persons, inmig_p[p] / hpa)
        inter = order[:k]
        rest = order[k:]
        rest = rest[_weighted_order(rng, w_intra[place[rest]])]
        intra = rest[: _take_persons(rest, persons, intra_p[p] / hpa)]
        # hukou places of inter-province migrants: any place outside p
        w = origin_w.copy()
        w[places_of[p]] = 0.0
        if w.sum() <= 0.0:  # pragma: no cover - the table has many sending provinces
            w = np.where(prov_row == p, 0.0, rural)
        hukou_place[inter] = _draw_weighted(rng, w, inter.shape[0])
        migrant_kind[inter] = 2
        hukou_place[intra] = _intra_origins(rng, places_of[p], rural, place[intra])
        migrant_kind[intra] = 1
    return hukou_place, migrant_kind


def _intra_origins(
    rng: np.random.Generator, idx: np.ndarray, rural: np.ndarray, here: np.ndarray
) -> np.ndarray:
    """Hukou places of intra-province migrants living in ``here``: another place of the province
    (places ``idx``), drawn by rural residents (redrawn while it is the place they live in)."""
    hukou = np.empty_like(here)
    todo = np.arange(here.shape[0])
    for _ in range(100):
        hp = idx[_draw_weighted(rng, rural[idx], todo.shape[0])]
        hukou[todo] = hp
        todo = todo[hp == here[todo]]
        if todo.shape[0] == 0:
            break
    else:  # pragma: no cover - practically unreachable: shift to the next place
        pos = np.searchsorted(idx, here[todo])
        hukou[todo] = idx[(pos + 1) % idx.shape[0]]
    return hukou


def _hukou_types(
    rng: np.random.Generator,
    prov: pd.DataFrame,
    prov_row: np.ndarray,
    hukou_place: np.ndarray,
    zone: np.ndarray,
    persons: np.ndarray,
    migrant: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Hukou type of every agent and the national factor on the census shares.

    One national factor scales the provinces' census shares to :data:`NONAGRI_TARGET`; within a
    hukou province urban locals, rural locals and migrants then get their probabilities.
    """
    n_prov = len(prov)
    hprov = prov_row[hukou_place]
    group = np.where(migrant, 2, np.where(zone == URBAN, 0, 1))
    totals = np.bincount(hprov * 3 + group, weights=persons, minlength=n_prov * 3)
    totals = totals.reshape(n_prov, 3)
    registered = totals.sum(axis=1)
    share_p = prov["nonagri_hukou_pct_2010"].to_numpy() / 100.0
    factor = NONAGRI_TARGET * registered.sum() / (share_p * registered).sum()
    target = np.minimum(factor * share_p, 1.0) * registered
    p_nonagri = _nonagri_probabilities(totals, target)
    hukou_type = (rng.random(hukou_place.shape[0]) < p_nonagri[hprov, group]).astype(np.uint8)
    return hukou_type, float(factor)


def _heads(
    rng: np.random.Generator,
    migrant: np.ndarray,
    nonagri: np.ndarray,
    zone: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Age group and education of the head, and years here, per agent."""
    n = migrant.shape[0]
    age = np.empty(n, dtype=np.int64)
    age[~migrant] = _draw_categorical(rng, AGE_LOCAL, int((~migrant).sum()))
    age[migrant] = _draw_categorical(rng, AGE_MIGRANT, int(migrant.sum()))
    edu = np.empty(n, dtype=np.int64)
    edu_groups = (
        (~nonagri & (zone != URBAN), EDU_RURAL_AGRI),
        (~nonagri & (zone == URBAN), EDU_URBAN_AGRI),
        (nonagri, EDU_NONAGRI),
    )
    for mask, probs in edu_groups:
        edu[mask] = _draw_categorical(rng, probs, int(mask.sum()))
    years = rng.integers(5, 41, n)
    stay = rng.geometric(P_MIGRANT_YEARS, int(migrant.sum())) - 1
    years[migrant] = np.minimum(stay, MIGRANT_YEARS_CAP)
    return age, edu, years


# ==================================================================================================
# public
# ==================================================================================================


def synthetic_place_table() -> PlaceTable:
    """The places of ``china-synthetic`` alone (they do not depend on the scale or the seed):
    what a scenario's place addresses are checked against without drawing households."""
    return _build_places(load_provinces())[0]


def build_synthetic_world(households_per_agent: float = 400.0, seed: int = 0) -> World:
    """Build the embedded default world ``china-synthetic`` for 2010.

    Parameters
    ----------
    households_per_agent : float, default 400.0
        Real households each agent stands for (must be positive and finite). Province agents are
        ``max(1, round(households_2010 / households_per_agent))``; each place gets at least one
        agent when its province has at least as many agents as places.
    seed : int, default 0
        Non-negative seed of the household draws. The places do not depend on it.

    Returns
    -------
    World
        2,857 places whose province residents and urban residents equal the census table, and the
        household agents of 2010 with their hukou, migration status and head characteristics.
        ``notes`` documents sources, definitions and the achieved national figures.

    Raises
    ------
    urbsim.errors.InputError
        If ``households_per_agent`` is not a positive finite number or ``seed`` is not a
        non-negative integer (a ``ValueError`` too).
    """
    hpa, seed = check_scale_and_seed(households_per_agent, seed)

    t0 = time.perf_counter()
    prov = load_provinces()
    places, prov_row = _build_places(prov)
    households, stats = _build_households(
        places, prov, prov_row, hpa, np.random.default_rng(int(seed))
    )
    notes = _synthetic_notes(places, prov, stats, hpa, t0)
    return World(
        name=WORLD_NAME,
        places=places,
        households=households,
        households_per_agent=hpa,
        notes=notes,
    )


def _synthetic_notes(
    places: PlaceTable, prov: pd.DataFrame, stats: dict[str, float], hpa: float, t0: float
) -> dict[str, str]:
    """Sources, definitions and achieved national figures of a synthetic world (its notes)."""
    classes = size_class_counts(places)
    kinds = np.bincount(places.kind, minlength=len(KINDS))
    kind_counts = dict(zip(KINDS, kinds.tolist(), strict=True))

    residents = prov["residents_2010"].sum()
    return {
        "source": (
            "Province totals of the 6th national population census 2010 (residents, urban "
            "residents, registered hukou population and its non-agricultural share, family "
            "households, in-migrants from other provinces, county-level units); capital "
            "coordinates are centroids of the capital prefectures. Places and households are "
            "synthetic (urbsim/data/README.md)."
        ),
        "urban_definition": (
            f"Urban residents are the census's urban (cheng zhen) residents of the 31 province "
            f"rows: {residents / 1e6:,.1f} million residents, "
            f"{prov['urban_2010'].sum() / residents:.1%} urban. The census's national 49.68% of "
            "1,339.7 million also counts residents not assigned to a province (e.g. active "
            "military); we use the province rows."
        ),
        "places": (
            f"{len(places)} county-level units (kinds {kind_counts}) in "
            f"{np.unique(places.prefecture_code).shape[0]} prefectures (333 prefecture-level "
            "units plus the 4 municipalities); geometry and sizes use the fixed layout seed "
            f"{LAYOUT_SEED}; prefecture cities by size class "
            f"(super-large..small): {classes.tolist()}."
        ),
        "nonagri_hukou": (
            "Each province's census non-agricultural hukou share is multiplied by one national "
            f"factor {stats['nonagri_factor']:.4f} so that the national non-agricultural share "
            f"of the registered population (persons by hukou province) is {NONAGRI_TARGET:.2%} "
            "(the census's own shares give about 28.4%). Achieved: "
            f"{stats['nonagri_share']:.2%}."
        ),
        "floating_population": (
            f"Floating residents (hukou_place != place) target {FLOATING_TARGET / 1e6:.0f} "
            f"million persons, of which in-migrants from other provinces "
            f"{prov['inmigrants_other_province_2010'].sum() / 1e6:.1f} million (table). "
            f"Achieved: {stats['floating'] / 1e6:.1f} million, inter-province "
            f"{stats['floating_inter'] / 1e6:.1f} million."
        ),
        "achieved": (
            f"{int(stats['agents'])} agents x {hpa:g} households; agent-implied residents "
            f"{stats['residents'] / 1e6:,.1f} million, urbanization "
            f"{stats['urbanization']:.2%}, non-agricultural hukou {stats['nonagri_share']:.2%}; "
            f"built in {time.perf_counter() - t0:.2f} s."
        ),
    }
