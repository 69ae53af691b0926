"""The household step: one year of household behaviour, as Numba kernels over arrays.

Every household decides on the state at the start of the year (its own fields, the place values
in ``pf``/``pi``, and the start-of-year snapshot ``place0``), then its own fields are written. No
household reads another's updated fields, so the order of visits and the split into chunks cannot
change a result. The one coupled decision, points-based settlement under an annual quota, is
marked here (``flag``) and settled afterwards by :func:`settle_points`.

Order of a household's year (each step documented in ``docs/ODD.md``):

1. births and deaths, ageing of the head and succession;
2. employment draw and whether the household considers moving;
3. for those who consider it: a logit choice over staying, returning to the hukou place, the
   urban zone of the current place and sampled candidates;
4. for those who stay: in-situ reclassification of rural land and requisition conversions,
   residence permit, application for local hukou.

The reference engine (:mod:`urbsim.engines.mesa_engine`) implements the same rules as Mesa
agents, with the same arithmetic in the same order, and tests hold the two to identical results.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from urbsim.config import JIT, JIT_INLINE, JIT_PARALLEL, N_CHUNKS
from urbsim.kernels import layout as L
from urbsim.kernels.checks import check_households
from urbsim.rng import uniform, uniform_pair

_RURAL = 0
_URBAN = 1
_AGRI = 0
_NONAGRI = 1
_EARTH_KM = 6371.0
_MAX_PERSONS = 15
_MAX_YEARS = 255


@njit(**JIT)
def distance_km(lat1: float, lon1: float, coslat1: float, lat2: float, lon2: float) -> float:
    """Distance between two points given in radians, on the equirectangular projection at the
    first point's latitude: within about 1% of the great circle below 1,000 km and a few
    percent across China, which a distance-deterrence term does not notice, at a fraction of
    the cost of the haversine (no trigonometry per pair)."""
    dy = lat2 - lat1
    dx = (lon2 - lon1) * coslat1
    return _EARTH_KM * math.sqrt(dy * dy + dx * dx)


@njit(**JIT_INLINE)
def _access(
    at: int, home: int, cur: int, permit: int, years: int, access: np.ndarray, base: float
) -> float:
    """Share of public services a household would be entitled to at place ``at``."""
    if at == home:
        return 1.0
    if at == cur and permit == 1:
        k = years if years < access.shape[0] else access.shape[0] - 1
        return access[k]
    return base


@njit(**JIT_INLINE)
def _utility(
    j: int,
    zj: int,
    cur: int,
    z: int,
    home: int,
    acc: float,
    child_factor: float,
    pf: np.ndarray,
    pi: np.ndarray,
    par: np.ndarray,
    net: np.ndarray,
) -> float:
    """Systematic utility of living in zone ``zj`` of place ``j``; see docs/ODD.md."""
    if zj == _URBAN:
        v = par[L.P_BETA_INCOME] * pf[j, L.PF_LOGINC_URBAN]
        v -= par[L.P_BETA_HOUSING] * pf[j, L.PF_LOGCOST_URBAN]
        v += par[L.P_BETA_AMENITY] * pf[j, L.PF_AMENITY]
    else:
        v = par[L.P_BETA_INCOME] * pf[j, L.PF_LOGINC_RURAL]
        v -= par[L.P_BETA_HOUSING] * pf[j, L.PF_LOGCOST_RURAL]
    v += par[L.P_BETA_SERVICE] * acc * pf[j, L.PF_QUALITY] * child_factor
    if j != cur:
        d = distance_km(
            pf[cur, L.PF_LAT],
            pf[cur, L.PF_LON],
            pf[cur, L.PF_COSLAT],
            pf[j, L.PF_LAT],
            pf[j, L.PF_LON],
        )
        v -= par[L.P_BETA_DISTANCE] * math.log1p(d / par[L.P_D0])
        if pi[j, L.PI_PROVINCE] != pi[cur, L.PI_PROVINCE]:
            v -= par[L.P_BETA_PROVINCE]
    if j != cur or zj != z:
        v -= par[L.P_MOVING_COST]
    nk = net[home, j]
    if nk > 0:
        v += par[L.P_BETA_NETWORK] * math.log1p(nk * par[L.P_HPA])
    if j == home:
        v += par[L.P_HOME_PREFERENCE]
    return v


@njit(**JIT)
def _sample_gravity(row: np.ndarray, u: float) -> int:
    """Index of the first entry of the cumulative weights ``row`` above ``u * row[-1]``."""
    target = u * row[row.shape[0] - 1]
    lo = 0
    hi = row.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if row[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(**JIT_INLINE)
def _choose(
    i: int,
    key: np.uint64,
    cur: int,
    z: int,
    home: int,
    ht: int,
    has_land: int,
    permit: int,
    years: int,
    children: int,
    pf: np.ndarray,
    pi: np.ndarray,
    par: np.ndarray,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    place0: np.ndarray,
    net: np.ndarray,
    n_candidates: int,
    alt_place: np.ndarray,
    alt_zone: np.ndarray,
    alt_v: np.ndarray,
) -> int:
    """Logit choice of a place and zone; returns the index into ``alt_place``/``alt_zone``."""
    h = np.uint64(i)
    base = par[L.P_BASE_ACCESS]
    child_factor = 1.0 + par[L.P_CHILD_WEIGHT] * children
    n_alt = 0
    # Fixed alternatives: stay, return to the hukou place, the urban zone of the current place.
    alt_place[0] = cur
    alt_zone[0] = z
    n_alt = 1
    zh = _RURAL if (ht == _AGRI and has_land == 1) else _URBAN
    if home != cur or zh != z:
        alt_place[n_alt] = home
        alt_zone[n_alt] = zh
        n_alt += 1
    if z == _RURAL and not (home == cur and zh == _URBAN):
        alt_place[n_alt] = cur
        alt_zone[n_alt] = _URBAN
        n_alt += 1
    prov = pi[cur, L.PI_PROVINCE]
    s = origin_start[home]
    e = origin_start[home + 1]
    for k in range(n_candidates):
        u_src, u_pick = uniform_pair(key, h, np.uint64(L.DRAW_CANDIDATE0 + k))
        if u_src < par[L.P_NETWORK_SHARE] and e > s:
            j = place0[origin_members[s + int(u_pick * (e - s))]]
        else:
            j = _sample_gravity(grav_cdf[prov], u_pick)
        dup = False
        for a in range(n_alt):
            if alt_place[a] == j and alt_zone[a] == _URBAN:
                dup = True
                break
        if not dup:
            alt_place[n_alt] = j
            alt_zone[n_alt] = _URBAN
            n_alt += 1
    vmax = -np.inf
    for a in range(n_alt):
        j = alt_place[a]
        acc = _access(j, home, cur, permit, years, access, base)
        v = _utility(j, alt_zone[a], cur, z, home, acc, child_factor, pf, pi, par, net)
        alt_v[a] = v
        if v > vmax:
            vmax = v
    total = 0.0
    for a in range(n_alt):
        w = math.exp(alt_v[a] - vmax)
        alt_v[a] = w
        total += w
    target = uniform(key, h, np.uint64(L.DRAW_CHOICE)) * total
    cum = 0.0
    for a in range(n_alt):
        cum += alt_v[a]
        if target < cum:
            return a
    return n_alt - 1


@njit(**JIT_INLINE)
def _household_year(
    i: int,
    key: np.uint64,
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    age_group: np.ndarray,
    education: np.ndarray,
    children: np.ndarray,
    land: np.ndarray,
    persons: np.ndarray,
    place0: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    par: np.ndarray,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    n_candidates: int,
    propensity: np.ndarray,
    flag: np.ndarray,
    counts: np.ndarray,
    alt_place: np.ndarray,
    alt_zone: np.ndarray,
    alt_v: np.ndarray,
) -> None:
    """One household's year; writes its own fields and adds to ``counts``."""
    p = np.int64(persons[i])
    if p == 0:
        return
    h = np.uint64(i)
    cur = np.int64(place[i])
    z = np.int64(zone[i])
    home = np.int64(hukou_place[i])
    ht = np.int64(hukou_type[i])
    yrs = np.int64(years_here[i])
    age = np.int64(age_group[i])
    has_land = np.int64(land[i])
    perm = np.int64(permit[i])
    kids = np.int64(children[i])

    # 1. Births and deaths: one draw, two disjoint intervals; ageing of the head.
    u_demo, u_age = uniform_pair(key, h, np.uint64(L.DRAW_DEMOGRAPHY))
    pb = pf[cur, L.PF_BIRTH_URBAN] if z == _URBAN else pf[cur, L.PF_BIRTH_RURAL]
    if u_demo < pb * p and p < _MAX_PERSONS:
        persons[i] = p + 1
        counts[L.C_BIRTHS] += 1
    elif u_demo >= 1.0 - pf[cur, L.PF_DEATH] * p:
        persons[i] = p - 1
        counts[L.C_DEATHS] += 1
        if p == 1:
            counts[L.C_DISSOLVED] += 1
            flag[i] = 0
            return
    if u_age < par[L.P_AGEING]:
        # Heads age by group; a 60+ head is succeeded by the next generation (household
        # formation is not modelled, so succession keeps the age structure from drifting).
        age_group[i] = age + 1 if age < 3 else 0

    # 2. Employment and whether to consider moving.
    u_emp, u_move = uniform_pair(key, h, np.uint64(L.DRAW_MOVE))
    employed = True
    if z == _URBAN:
        employed = u_emp < pf[cur, L.PF_EMPLOY]
    pm = propensity[age, yrs]
    if not employed:
        pm = pm * par[L.P_MOVE_UNEMPLOYED]

    # 3. The destination choice.
    if u_move < pm:
        counts[L.C_CONSIDERED] += 1
        a = _choose(
            i,
            key,
            cur,
            z,
            home,
            ht,
            has_land,
            perm,
            yrs,
            kids,
            pf,
            pi,
            par,
            access,
            grav_cdf,
            origin_start,
            origin_members,
            place0,
            net,
            n_candidates,
            alt_place,
            alt_zone,
            alt_v,
        )
        j = alt_place[a]
        zj = alt_zone[a]
        if j != cur or zj != z:
            place[i] = j
            zone[i] = zj
            years_here[i] = 0
            permit[i] = 0
            flag[i] = 0
            counts[L.C_MOVES] += 1
            if pi[j, L.PI_PROVINCE] != pi[cur, L.PI_PROVINCE]:
                counts[L.C_PROVINCE_MOVES] += 1
            if j == home:
                counts[L.C_RETURNS] += 1
            return

    # 4. Stayers: in-situ urbanization (rural zone), then permit and hukou (urban zone, hukou
    # elsewhere or agricultural). Draws are keyed, so drawing only where needed changes nothing
    # for other households or other draws.
    years_here[i] = yrs + 1 if yrs < _MAX_YEARS else _MAX_YEARS
    flag[i] = 0
    if z == _RURAL:
        u_ins, u_req = uniform_pair(key, h, np.uint64(L.DRAW_INSITU))
        if u_ins < pf[cur, L.PF_INSITU]:
            zone[i] = _URBAN
            counts[L.C_INSITU] += persons[i]
            if ht == _AGRI and home == cur and u_req < par[L.P_REQUISITION]:
                hukou_type[i] = _NONAGRI
                land[i] = 0
                counts[L.C_REQUISITION] += persons[i]
        return
    if home == cur and ht == _NONAGRI:
        return
    u_perm, u_huk = uniform_pair(key, h, np.uint64(L.DRAW_SETTLE))
    if (
        par[L.P_PERMIT_ON] > 0.0
        and home != cur
        and perm == 0
        and 12 * yrs + 6 >= par[L.P_PERMIT_MONTHS]
        and u_perm < par[L.P_PERMIT_TAKEUP]
    ):
        permit[i] = 1
        counts[L.C_PERMITS] += persons[i]
    if u_huk < par[L.P_HUKOU_APPLY]:
        rule = pi[cur, L.PI_RULE]
        if rule != L.RULE_CLOSED and (rule == L.RULE_OPEN or yrs >= pi[cur, L.PI_MIN_YEARS]):
            acc = _access(cur, home, cur, perm, yrs, access, par[L.P_BASE_ACCESS])
            gain = (
                par[L.P_BETA_SERVICE]
                * (1.0 - acc)
                * pf[cur, L.PF_QUALITY]
                * (1.0 + par[L.P_CHILD_WEIGHT] * kids)
                + par[L.P_HUKOU_PREMIUM]
            )
            cost = par[L.P_LAND_VALUE] * has_land if ht == _AGRI else 0.0
            if gain > cost:
                if rule == L.RULE_POINTS:
                    flag[i] = 1
                else:
                    hukou_place[i] = cur
                    hukou_type[i] = _NONAGRI
                    land[i] = 0
                    permit[i] = 0
                    counts[L.C_CONVERSIONS] += persons[i]


@njit(**JIT_PARALLEL)
def _step(
    key: np.uint64,
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    age_group: np.ndarray,
    education: np.ndarray,
    children: np.ndarray,
    land: np.ndarray,
    persons: np.ndarray,
    place0: np.ndarray,
    pf: np.ndarray,
    pi: np.ndarray,
    par: np.ndarray,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    n_candidates: int,
    propensity: np.ndarray,
    flag: np.ndarray,
    n_chunks: int,
) -> np.ndarray:
    n = place.shape[0]
    counts = np.zeros((n_chunks, L.N_COUNT), dtype=np.int64)
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        alt_place = np.empty(n_candidates + 3, dtype=np.int64)
        alt_zone = np.empty(n_candidates + 3, dtype=np.int64)
        alt_v = np.empty(n_candidates + 3, dtype=np.float64)
        row = counts[c]
        for i in range(lo, hi):
            _household_year(
                i,
                key,
                place,
                zone,
                hukou_place,
                hukou_type,
                years_here,
                permit,
                age_group,
                education,
                children,
                land,
                persons,
                place0,
                pf,
                pi,
                par,
                access,
                grav_cdf,
                origin_start,
                origin_members,
                net,
                n_candidates,
                propensity,
                flag,
                row,
                alt_place,
                alt_zone,
                alt_v,
            )
    return counts.sum(axis=0)


def move_propensity(par: np.ndarray) -> np.ndarray:
    """Probability of considering a move by age group and completed years at the place.

    ``move_base * move_age[age] * exp(-tenure_decay * years)``, evaluated with Python's
    ``math.exp`` in this order, exactly as the reference engine evaluates it per household.
    """
    table = np.empty((4, _MAX_YEARS + 1))
    for age in range(4):
        for years in range(_MAX_YEARS + 1):
            table[age, years] = (
                par[L.P_MOVE_BASE]
                * par[L.P_MOVE_AGE0 + age]
                * math.exp(-par[L.P_TENURE_DECAY] * years)
            )
    return table


_PROPENSITY_CACHE: dict[bytes, np.ndarray] = {}


def _cached_propensity(par: np.ndarray) -> np.ndarray:
    # The table depends on six parameters that are fixed within a run; rebuilding it in Python
    # every year would cost more than the kernel at small scales.
    key = par[L.P_MOVE_BASE : L.P_TENURE_DECAY + 1].tobytes()
    table = _PROPENSITY_CACHE.get(key)
    if table is None:
        if len(_PROPENSITY_CACHE) > 64:
            _PROPENSITY_CACHE.clear()
        table = _PROPENSITY_CACHE[key] = move_propensity(par)
    return table


def household_step(
    key: np.uint64,
    households: dict[str, np.ndarray],
    pf: np.ndarray,
    pi: np.ndarray,
    par: np.ndarray,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    n_candidates: int,
    flag: np.ndarray,
    n_chunks: int = N_CHUNKS,
) -> np.ndarray:
    """Advance every household by one year, in place.

    Parameters
    ----------
    key
        The (seed, year) key from :func:`urbsim.rng.make_year_key`.
    households
        Household arrays by field name (:data:`urbsim.households.FIELDS`); updated in place.
    pf, pi
        Per-place float and int values, columns named in :mod:`urbsim.kernels.layout`.
    par
        Behavioural parameters, entries named in :mod:`urbsim.kernels.layout`.
    access
        Service access of a permit holder by completed years of residence.
    grav_cdf
        Cumulative gravity sampling weights, one row per province of origin.
    origin_start, origin_members
        Floating households grouped by hukou place: members of place ``o`` are
        ``origin_members[origin_start[o]:origin_start[o + 1]]``.
    net
        Floating agent households by (hukou place, current place).
    n_candidates
        Destinations sampled per mover.
    flag
        Output, one per household: 1 for a points-scheme applicant this year.
    n_chunks
        Chunks of the parallel loop; results do not depend on it.

    Returns
    -------
    numpy.ndarray
        Counters of the year, indexed by the ``C_*`` constants of the layout.
    """
    n_places = pf.shape[0]
    n = check_households(households, n_places)
    if pf.shape != (n_places, L.N_PF) or pi.shape != (n_places, L.N_PI):
        raise ValueError(f"pf/pi must be ({n_places}, {L.N_PF}) / ({n_places}, {L.N_PI})")
    if par.shape != (L.N_PAR,):
        raise ValueError(f"par must have {L.N_PAR} entries")
    if net.shape != (n_places, n_places) or origin_start.shape != (n_places + 1,):
        raise ValueError("net must be (n_places, n_places) and origin_start n_places + 1")
    if flag.shape != (n,) or access.ndim != 1 or access.shape[0] < 1:
        raise ValueError("flag must have one entry per household and access at least one")
    if grav_cdf.ndim != 2 or grav_cdf.shape[1] != n_places:
        raise ValueError("grav_cdf must be 2-D with one column per place")
    prov = pi[:, L.PI_PROVINCE]
    if n_places and (prov.min() < 0 or prov.max() >= grav_cdf.shape[0]):
        raise ValueError("province indices in pi must index rows of grav_cdf")
    if origin_start[-1] != origin_members.shape[0] or (
        origin_members.size and (origin_members.min() < 0 or origin_members.max() >= n)
    ):
        raise ValueError("origin_members must index households and match origin_start")
    if n_chunks < 1 or n_candidates < 1:
        raise ValueError("n_chunks and n_candidates must be positive")
    place0 = households["place"].copy()
    propensity = _cached_propensity(par)
    return _step(
        key,
        households["place"],
        households["zone"],
        households["hukou_place"],
        households["hukou_type"],
        households["years_here"],
        households["permit"],
        households["age_group"],
        households["education"],
        households["children"],
        households["land"],
        households["persons"],
        place0,
        pf,
        pi,
        par,
        access,
        grav_cdf,
        origin_start,
        origin_members,
        net,
        n_candidates,
        propensity,
        flag,
        n_chunks,
    )


def settle_points(
    key: np.uint64,
    households: dict[str, np.ndarray],
    flag: np.ndarray,
    gov_of_place: np.ndarray,
    quota_left: np.ndarray,
    hpa: float,
    points_education: float,
    points_years: float,
) -> int:
    """Grant local hukou to points-scheme applicants in rank order, within each city's quota.

    Applicants of one local government are ranked by points (education and years of
    residence), ties broken by a keyed draw, then by household index. They are granted in rank
    order while the quota (real persons) covers the household; the first that does not fit ends
    that city's granting for the year. ``quota_left`` is reduced in place.

    Returns
    -------
    int
        Persons in the households granted.
    """
    idx = np.flatnonzero(flag)
    if idx.size == 0:
        return 0
    place = households["place"]
    gov = gov_of_place[place[idx]]
    score = points_education * households["education"][idx].astype(
        np.float64
    ) + points_years * households["years_here"][idx].astype(np.float64)
    tie = _tie_draws(key, idx.astype(np.uint64))
    order = np.lexsort((idx, tie, -score, gov))
    granted = 0
    closed = np.zeros(quota_left.shape[0], dtype=np.bool_)
    for o in order:
        i = idx[o]
        g = gov[o]
        if closed[g]:
            continue
        need = float(households["persons"][i]) * hpa
        if quota_left[g] >= need:
            quota_left[g] -= need
            households["hukou_place"][i] = place[i]
            households["hukou_type"][i] = _NONAGRI
            households["land"][i] = 0
            households["permit"][i] = 0
            granted += int(households["persons"][i])
        else:
            closed[g] = True
    flag[idx] = 0
    return granted


@njit(**JIT)
def _tie_draws(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    out = np.empty(idx.shape[0], dtype=np.float64)
    for k in range(idx.shape[0]):
        out[k] = uniform(key, idx[k], np.uint64(L.DRAW_POINTS))
    return out
