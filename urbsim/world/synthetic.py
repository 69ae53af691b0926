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
import numbers
import time
from typing import Final

import numpy as np
import pandas as pd

from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN, Households
from urbsim.world.base import KINDS, REGIONS, SIZE_CLASS_BOUNDS, PlaceTable, World
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
#: Rough bounding box of China (lon min, lon max, lat min, lat max).
CHINA_BBOX: Final[tuple[float, float, float, float]] = (73.0, 135.0, 18.0, 54.0)
_BBOX_MARGIN: Final[float] = 0.2

# --- Targets of the 2010 census -------------------------------------------------------------------
#: National non-agricultural hukou share of the registered population we calibrate to.
NONAGRI_TARGET: Final[float] = 0.3417
#: Floating population (living outside the township of hukou for 6+ months, excluding moves
#: within a city's districts), 6th census.
FLOATING_TARGET: Final[float] = 221.0e6

# --- Behavioural shares of the household draws ----------------------------------------------------
#: Probability of non-agricultural hukou for rural-zone locals and for migrants (by hukou
#: province); urban-zone locals take the rest of the province's target.
P_NONAGRI_RURAL_LOCAL: Final[float] = 0.03
P_NONAGRI_MIGRANT: Final[float] = 0.17
#: Probability that an agricultural-hukou household holds land-contract rights.
P_LAND_AGRI: Final[float] = 0.95
#: Age group of the head (15-29, 30-44, 45-59, 60+).
AGE_LOCAL: Final[tuple[float, ...]] = (0.20, 0.33, 0.28, 0.19)
AGE_MIGRANT: Final[tuple[float, ...]] = (0.40, 0.40, 0.15, 0.05)
#: Education of the head by (zone, hukou) group; the mix gives about 0.35/0.42/0.15/0.08.
EDU_RURAL_AGRI: Final[tuple[float, ...]] = (0.50, 0.43, 0.06, 0.01)
EDU_URBAN_AGRI: Final[tuple[float, ...]] = (0.30, 0.50, 0.15, 0.05)
EDU_NONAGRI: Final[tuple[float, ...]] = (0.16, 0.36, 0.28, 0.20)
#: School-age children (0..3) by age group of the head: most in 30-44.
CHILDREN_BY_AGE: Final[tuple[tuple[float, ...], ...]] = (
    (0.60, 0.35, 0.05, 0.00),
    (0.25, 0.50, 0.20, 0.05),
    (0.60, 0.30, 0.08, 0.02),
    (0.90, 0.08, 0.02, 0.00),
)
#: Years here of migrants: geometric, capped at 10 (mean about 3.9).
P_MIGRANT_YEARS: Final[float] = 0.18
MAX_PERSONS: Final[int] = 10


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


def _build_places(prov: pd.DataFrame) -> tuple[PlaceTable, np.ndarray]:
    """The fixed place table and, per place, the row of its province in ``prov``."""
    rng = np.random.default_rng(LAYOUT_SEED)
    n_pref, n_dist, n_cities, _ = _allocate_kinds(prov)
    region_of = {name: i for i, name in enumerate(REGIONS)}

    cols: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
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
            "prov_row",
        )
    }

    for row in prov.itertuples(index=True):
        p = int(row.Index)
        pcode = int(row.code)
        units = int(row.county_units)
        n_k = int(n_pref[p])
        rank = np.arange(1, n_k + 1, dtype=np.float64)  # prefecture 01 (capital) is rank 1

        # -- units per prefecture: one district each plus Zipf-weighted extra districts (the
        # capital and big cities have several), non-district units spread with gamma noise.
        if n_k == 1:
            dist_k = np.array([n_dist[p]])
            nond_k = np.array([units - n_dist[p]])
        else:
            dist_k = 1 + _apportion(int(n_dist[p]) - n_k, 1.0 / rank)
            nond_k = _apportion(units - int(n_dist[p]), rng.gamma(4.0, size=n_k))
        # Which non-district units are county-level cities: a random subset of the province's.
        is_city = np.zeros(units - int(n_dist[p]), dtype=bool)
        is_city[rng.choice(is_city.shape[0], int(n_cities[p]), replace=False)] = True

        # -- geometry: capital prefecture at the capital, others scattered with a spread that
        # grows with the size of the province (sqrt of its number of units).
        spread = float(np.clip(0.45 * math.sqrt(units), 1.5, 6.0))
        c_lon, c_lat = _scatter(rng, row.capital_lon, row.capital_lat, spread, n_k, inner=0.25)
        c_lon[0], c_lat[0] = row.capital_lon, row.capital_lat

        # -- urban residents: districts of the rank-r prefecture take U_D / (r * H_K) (Zipf, 1)
        # where U_D is the districts' part of the province's urban residents; the part grows with
        # the share of districts (sqrt), so municipalities are almost all district-urban.
        urban_total = float(row.urban_2010)
        rural_total = float(row.residents_2010) - urban_total
        frac_d = n_dist[p] / units
        urban_d = urban_total * math.sqrt(frac_d)
        urban_n = urban_total - urban_d
        zipf = (1.0 / rank) / (1.0 / rank).sum()

        kind_l, pref_l, lon_l, lat_l, urb_l, rurw_l, urbw_l, name_l, code_l = ([] for _ in range(9))
        city_pos = 0
        for k in range(n_k):
            nd, nn = int(dist_k[k]), int(nond_k[k])
            cities_here = is_city[city_pos : city_pos + nn]
            city_pos += nn
            n_l = int(cities_here.sum())
            kinds = np.concatenate([np.zeros(nd), np.full(n_l, 2), np.ones(nn - n_l)]).astype(
                np.uint8
            )
            pref_code = pcode * 10000 + (k + 1) * 100
            # Readable names: per-kind running number inside the prefecture.
            names = [f"{row.province} P{k + 1:02d} D{j + 1:02d}" for j in range(nd)]
            names += [f"{row.province} P{k + 1:02d} L{j + 1:02d}" for j in range(n_l)]
            names += [f"{row.province} P{k + 1:02d} C{j + 1:02d}" for j in range(nn - n_l)]
            if nd + nn > 99:  # pragma: no cover - the embedded table has at most 40 per prefecture
                raise ValueError("more than 99 units in a prefecture")

            d_lon, d_lat = _scatter(rng, c_lon[k], c_lat[k], 0.3, nd)
            d_lon[0], d_lat[0] = c_lon[k], c_lat[k]  # the core district sits on the centre
            n_lon, n_lat = _scatter(rng, c_lon[k], c_lat[k], 1.0, nn, inner=0.3)

            # Districts of the city: the core district is the largest.
            dist_w = np.sort(rng.gamma(3.0, size=nd))[::-1]
            d_urban = urban_d * zipf[k] * dist_w / dist_w.sum()
            # Districts are mostly urban; the capital's more so.
            lo, hi = (0.80, 0.98) if k == 0 else (0.70, 0.95)
            share = rng.uniform(lo, hi, nd)
            d_rural = d_urban * (1.0 - share) / share
            # Counties and county-level cities: size and urban propensity (county towns; cities
            # twice as urban as counties) with noise; scaled to the province below.
            size = rng.gamma(4.0, size=nn) / 4.0
            prop = np.where(kinds[nd:] == 2, 2.0, 1.0) * rng.lognormal(0.0, 0.3, nn)

            kind_l.append(kinds)
            pref_l.append(np.full(nd + nn, pref_code))
            lon_l.append(np.concatenate([d_lon, n_lon]))
            lat_l.append(np.concatenate([d_lat, n_lat]))
            urb_l.append(np.concatenate([d_urban, np.full(nn, np.nan)]))
            rurw_l.append(np.concatenate([d_rural, size]))
            urbw_l.append(np.concatenate([np.zeros(nd), size * prop]))
            name_l.extend(names)
            code_l.append(pref_code + np.arange(1, nd + nn + 1))

        kind = np.concatenate(kind_l)
        is_d = kind == 0
        urban = np.concatenate(urb_l)
        rurw = np.concatenate(rurw_l)
        urbw = np.concatenate(urbw_l)
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

        n = kind.shape[0]
        pref = np.concatenate(pref_l)
        cols["code"].append(np.concatenate(code_l))
        cols["name"].append(np.array(name_l, dtype=object))
        cols["province_code"].append(np.full(n, pcode))
        cols["prefecture_code"].append(pref)
        cols["region"].append(np.full(n, region_of[row.region]))
        cols["kind"].append(kind)
        lon, lat = _in_bbox(np.concatenate(lon_l), np.concatenate(lat_l))
        cols["lon"].append(lon)
        cols["lat"].append(lat)
        cols["is_capital"].append(pref == pcode * 10000 + 100)
        cols["residents"].append(urban + rural)
        cols["urban_residents"].append(urban)
        cols["prov_row"].append(np.full(n, p))

    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    prov_row = arrays.pop("prov_row").astype(np.int64)
    return PlaceTable(**arrays), prov_row


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
        classifying each prefecture by :func:`prefecture_city_sizes`.
    """
    sizes = prefecture_city_sizes(places).to_numpy()
    bounds = np.asarray(SIZE_CLASS_BOUNDS)
    cls = (sizes[:, None] < bounds[None, :]).sum(axis=1)  # 0 = super-large ... 5 = small
    return np.bincount(cls, minlength=len(bounds))


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

    ``prov_row`` maps places to rows of ``prov``; all randomness comes from ``rng``.
    """
    hpa = households_per_agent
    n_places = len(places)
    n_prov = len(prov)
    residents_p = prov["residents_2010"].to_numpy(dtype=np.float64)
    urban_p = prov["urban_2010"].to_numpy(dtype=np.float64)
    inmig_p = prov["inmigrants_other_province_2010"].to_numpy(dtype=np.float64)
    hukou_p = prov["hukou_2010"].to_numpy(dtype=np.float64)
    places_of = [np.flatnonzero(prov_row == p) for p in range(n_prov)]

    # -- agents per province, place and zone (largest remainder: totals are exact) ---------------
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
    n = place.shape[0]
    aprov = prov_row[place]

    # -- persons: 1 + Poisson(mean - 1), mean such that the province expects its residents ------
    mean_p = residents_p / (agents_p * hpa)
    persons = 1 + rng.poisson(np.maximum(mean_p - 1.0, 0.0)[aprov])
    persons = np.minimum(persons, MAX_PERSONS).astype(np.int64)
    # Correct the sampling error: add/remove one person in randomly chosen households until the
    # province's persons * hpa is within hpa/2 of its residents.
    order_by_prov = np.argsort(aprov, kind="stable")
    bounds = np.searchsorted(aprov[order_by_prov], np.arange(n_prov + 1))
    for p in range(n_prov):
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

    # -- floating residents -----------------------------------------------------------------------
    # Inter-province migrants go to urban zones of the receiving province, weighted to big cities
    # (prefecture city size^0.7, districts x1.5); intra-province migrants likewise but with a
    # flatter weight. Intra-province floating = 221M - inter, split by provinces' urban locals.
    city = prefecture_city_sizes(places)
    city_size = city.reindex(places.prefecture_code).to_numpy() / 1e6 + 0.05
    is_district = places.kind == 0
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
    migrant_kind = np.zeros(n, dtype=np.uint8)  # 0 local, 1 intra-province, 2 inter-province
    for p in range(n_prov):
        members = order_by_prov[bounds[p] : bounds[p + 1]]
        cand = members[zone[members] == URBAN]
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

        # hukou places of intra-province migrants: another place of p, by rural residents
        idx = places_of[p]
        todo = intra
        for _ in range(100):
            hp = idx[_draw_weighted(rng, rural[idx], todo.shape[0])]
            hukou_place[todo] = hp
            todo = todo[hp == place[todo]]
            if todo.shape[0] == 0:
                break
        else:  # pragma: no cover - practically unreachable: shift to the next place
            pos = np.searchsorted(idx, place[todo])
            hukou_place[todo] = idx[(pos + 1) % idx.shape[0]]
        migrant_kind[intra] = 1
    migrant = migrant_kind > 0

    # -- hukou type: one national factor on the census shares, then groups within province ------
    hprov = prov_row[hukou_place]
    group = np.where(migrant, 2, np.where(zone == URBAN, 0, 1))
    totals = np.bincount(hprov * 3 + group, weights=persons, minlength=n_prov * 3)
    totals = totals.reshape(n_prov, 3)
    registered = totals.sum(axis=1)
    share_p = prov["nonagri_hukou_pct_2010"].to_numpy() / 100.0
    factor = NONAGRI_TARGET * registered.sum() / (share_p * registered).sum()
    target = np.minimum(factor * share_p, 1.0) * registered
    p_nonagri = _nonagri_probabilities(totals, target)
    hukou_type = (rng.random(n) < p_nonagri[hprov, group]).astype(np.uint8)
    nonagri = hukou_type == NON_AGRICULTURAL

    land = (~nonagri & (rng.random(n) < P_LAND_AGRI)).astype(np.uint8)

    # -- head characteristics -------------------------------------------------------------------
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

    children = np.empty(n, dtype=np.int64)
    for a, probs in enumerate(CHILDREN_BY_AGE):
        mask = age == a
        children[mask] = _draw_categorical(rng, probs, int(mask.sum()))
    children = np.minimum(children, persons - 1)  # a one-person household has no children

    years = rng.integers(5, 41, n)
    n_mig = int(migrant.sum())
    years[migrant] = np.minimum(rng.geometric(P_MIGRANT_YEARS, n_mig) - 1, 10)

    hh = Households(
        place=place.astype(FIELDS["place"].dtype),
        zone=zone,
        hukou_place=hukou_place.astype(FIELDS["hukou_place"].dtype),
        hukou_type=hukou_type,
        years_here=np.minimum(years, 255),
        permit=np.zeros(n, dtype=np.uint8),  # residence permits start in 2016
        age_group=age,
        education=edu,
        children=children,
        land=land,
        persons=persons,
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
    }
    return hh, stats


# ==================================================================================================
# public
# ==================================================================================================


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
    ValueError
        If ``households_per_agent`` is not a positive finite number or ``seed`` is not a
        non-negative integer.
    """
    if isinstance(households_per_agent, bool) or not isinstance(households_per_agent, numbers.Real):
        raise ValueError(f"households_per_agent must be a number, got {households_per_agent!r}")
    hpa = float(households_per_agent)
    if not (math.isfinite(hpa) and hpa > 0.0):
        raise ValueError(f"households_per_agent must be positive and finite, got {hpa!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")

    t0 = time.perf_counter()
    prov = load_provinces()
    places, prov_row = _build_places(prov)
    households, stats = _build_households(
        places, prov, prov_row, hpa, np.random.default_rng(int(seed))
    )
    classes = size_class_counts(places)
    kinds = np.bincount(places.kind, minlength=len(KINDS))
    kind_counts = dict(zip(KINDS, kinds.tolist(), strict=True))

    residents = prov["residents_2010"].sum()
    notes = {
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
    return World(
        name=WORLD_NAME,
        places=places,
        households=households,
        households_per_agent=hpa,
        notes=notes,
    )
