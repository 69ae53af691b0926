"""Household agents of the census world, synthesized per place from the world table.

Every step is vectorized over all agents (per-province loops only where a place-by-place matrix is
needed); all randomness comes from one ``numpy.random.Generator``. Targets per place, in persons
(real persons / households per agent), and how they are met:

* **Agents and persons.** Family households: ``households / hpa`` agents per place (largest
  remainder within the province, at least one per place when the province has enough agents),
  with 1 + Poisson(size - 1) persons, corrected so each place's persons equal its family-household
  persons. Residents outside family households (collective quarters: dormitories, barracks,
  schools) become one-person agents. Residents per place are thus met to one person per agent.
* **Zones.** A random prefix of each place's agents (persons closest to the urban residents) is
  urban, the rest rural.
* **In-migrants by origin scope.** A weighted random order of each place's agents (urban agents
  :data:`W_URBAN` times, collective ones :data:`W_COLLECTIVE` times as likely to come first) is
  cut into consecutive segments whose persons are closest to the census's in-migrants from other
  provinces, from other counties of the province and from the same county.
* **County level only.** The floating residents are the in-migrants from other counties and
  other provinces (170.6 million), the part of the census's 221 million floating population a
  county-level world can see and the county-level floating population of the calibration targets
  (:mod:`urbsim.analysis.targets`). Persons living away from their hukou township inside their own
  county (about 50 million) are same-county in-migrants here: residents with local hukou. The
  remainder is reported in the statistics (``floating_within_county``), not simulated.
* **Hukou places.** Each place's out-migrants (hukou residents minus registered residents living
  at home) are split into the two scopes (province, other provinces) and balanced against the
  in-migrants by a doubly constrained gravity model (:mod:`urbsim.world.census_origins`: within
  a province by iterative proportional fitting of out-migrants x in-migrants x distance
  deterrence, across provinces with province factors); each in-migrant's hukou place is drawn
  from its destination's column. Hukou residents per place so follow the census up to the
  flows' imbalance.
* **Hukou type.** The census's non-agricultural share of each place's residents x one national
  factor (capped at 1), spread over the place's urban locals, rural locals and migrants as in the
  synthetic world.
* **Head characteristics.** Age group of the head tilted by the place's 65+ share, then the
  head's age in years and the children's ages (:mod:`urbsim.world.ages`: the children's ages
  weighted so that each place's expected 0-14 share is the census's); education of the head
  from an ordered logit whose level is solved per place so that mean years of schooling equal
  the census's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN, Households
from urbsim.world.ages import household_ages, young_share
from urbsim.world.away import initial_away
from urbsim.world.base import (
    AGE_LOCAL,
    AGE_MIGRANT,
    FLOATING_TARGET,
    MAX_PERSONS,
    NONAGRI_TARGET,
    P_LAND_AGRI,
    P_MIGRANT_YEARS,
    P_NONAGRI_MIGRANT,
    P_NONAGRI_RURAL_LOCAL,
)
from urbsim.world.census_origins import (
    deterrence,
    distance_km,
    inter_province_weights,
    out_migrants,
)
from urbsim.world.sampling import apportion, nonagri_probabilities

#: Migrant scopes of an agent (returned with the households; not a household field).
LOCAL: Final[int] = 0
SAME_COUNTY: Final[int] = 1  # in-migrant from the same county, hukou here
OTHER_COUNTY: Final[int] = 2  # from another county of the province
OTHER_PROVINCE: Final[int] = 3

#: Relative chance of being an in-migrant: urban-zone agents, agents in collective quarters.
#: Agents per block of the steps whose temporaries hold several values per agent (about 100 MB
#: of temporaries a block, whatever the world's size).
BLOCK: Final[int] = 1 << 20
W_URBAN: Final[float] = 4.0
W_COLLECTIVE: Final[float] = 3.0
#: Years of schooling of the head's education levels (primary or less, junior, senior, tertiary).
EDU_YEARS: Final[tuple[float, ...]] = (4.5, 9.0, 12.0, 15.5)
#: Ordered-logit cut points: at level 0 the shares are 0.35 / 0.42 / 0.15 / 0.08 (the synthetic
#: world's national mix); P(level >= k) = logistic(a - cut_k).
EDU_CUTS: Final[tuple[float, ...]] = (
    float(-np.log(0.65 / 0.35)),
    float(-np.log(0.23 / 0.77)),
    float(-np.log(0.08 / 0.92)),
)
#: Shift of the logit level by hukou and zone (non-agricultural heads are better educated).
EDU_SHIFT_NONAGRI: Final[float] = 1.0
EDU_SHIFT_RURAL_AGRI: Final[float] = -0.5
#: Iterations of iterative proportional fitting of the migration matrices.
IPF_ITERATIONS: Final[int] = 60


@dataclass(frozen=True)
class Synthesis:
    """Result of :func:`synthesize_households`.

    Attributes
    ----------
    households : Households
        The agents, ordered by place.
    scope : numpy.ndarray
        ``int8`` migrant scope per agent (:data:`LOCAL` ... :data:`OTHER_PROVINCE`).
    collective : numpy.ndarray
        ``bool``: one-person agent of collective quarters.
    stats : dict[str, float]
        Achieved national figures and the factors used.
    """

    households: Households
    scope: np.ndarray
    collective: np.ndarray
    stats: dict[str, float]


# ==================================================================================================
# grouped helpers (agents sorted by place)
# ==================================================================================================


def _group_order(rng: np.random.Generator, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Agents sorted by group, within a group in a weighted random order (Efraimidis-Spirakis)."""
    keys = rng.exponential(size=group.shape[0]) / weights
    return _sort_within(group, keys)


def _sort_within(group: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Indices sorted by ``group``, then by non-negative ``keys`` (``inf`` last).

    ``key / (1 + key)`` maps keys monotonically into [0, 1], so one float sort of
    ``group + key / (1 + key)`` replaces a two-key lexsort (several times faster).
    """
    with np.errstate(invalid="ignore"):
        unit = np.where(np.isinf(keys), 1.0, keys / (1.0 + keys))
    return np.argsort(group + np.minimum(unit, 1.0 - 1e-9), kind="stable")


def _within_group_midpoints(
    order: np.ndarray, group: np.ndarray, persons: np.ndarray, n_groups: int
) -> np.ndarray:
    """Per agent (in ``order``): persons of the agents before it in its group plus half its own.

    A prefix of a group whose midpoints are below ``T`` is the prefix whose persons sum is
    closest to ``T`` (ties to the shorter prefix).
    """
    p = persons[order].astype(np.float64)
    cs = np.cumsum(p)
    start = np.concatenate([[0.0], cs[:-1]])  # persons before, over all groups
    g = group[order]
    first = np.searchsorted(g, np.arange(n_groups), side="left")
    base = np.where(first < g.shape[0], start[np.minimum(first, g.shape[0] - 1)], 0.0)
    return start - base[g] + 0.5 * p


def _adjust_persons(
    rng: np.random.Generator, place: np.ndarray, persons: np.ndarray, target: np.ndarray
) -> None:
    """Add or remove one person in random agents until each place's persons equal ``target``.

    ``persons`` is changed in place; agents stay within 1..MAX_PERSONS. Places whose target is
    out of reach (every agent at the bound) keep the closest reachable sum.
    """
    n_places = target.shape[0]
    for _ in range(50):
        diff = target - np.bincount(place, weights=persons, minlength=n_places).astype(np.int64)
        if not diff.any():
            return
        need = diff[place]
        ok = ((need > 0) & (persons < MAX_PERSONS)) | ((need < 0) & (persons > 1))
        if not ok.any():
            return
        keys = np.where(ok, rng.random(place.shape[0]), np.inf)
        order = _sort_within(place, keys)
        sp = place[order]
        rank = np.arange(order.shape[0]) - np.searchsorted(sp, sp, side="left")
        pick = order[(rank < np.abs(diff[sp])) & ok[order]]
        persons[pick] += np.sign(diff[place[pick]])


def _ipf(weights: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Scale ``weights`` (origins x destinations) toward row sums ``rows`` and column sums
    ``cols`` (iterative proportional fitting); ends with a column step, so columns hold exactly
    where they have any positive weight."""
    f = weights.astype(np.float64).copy()
    rows = rows * (cols.sum() / rows.sum()) if rows.sum() > 0 else rows
    for _ in range(IPF_ITERATIONS):
        rs = f.sum(axis=1)
        f *= np.divide(rows, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = f.sum(axis=0)
        f *= np.divide(cols, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
    return f


@dataclass(frozen=True)
class _ColumnDraws:
    """Draws of an origin row for each destination column, in proportion to a weight matrix
    (origins x destinations): the columns' cumulative distributions laid end to end, offset by
    the column index, so one ``searchsorted`` serves all draws. Every column drawn from must
    have a positive weight."""

    flat: np.ndarray
    n_origins: int
    #: The last row with a positive weight in each column (the clip of a draw at 1.0).
    last: np.ndarray

    @classmethod
    def of(cls, weights: np.ndarray) -> _ColumnDraws:
        n_o, n_d = weights.shape
        colsum = weights.sum(axis=0)
        cdf = np.cumsum(weights, axis=0) / np.where(colsum > 0, colsum, 1.0)[None, :]
        flat = (cdf + np.arange(n_d)[None, :]).T.ravel()
        last = n_o - 1 - np.argmax((weights > 0)[::-1, :], axis=0)
        return cls(flat, n_o, last)

    def draw(self, u: np.ndarray, dest: np.ndarray) -> np.ndarray:
        """The origin row of each ``dest[i]`` for uniforms ``u[i]``."""
        pos = np.searchsorted(self.flat, dest + u, side="right")
        return np.clip(pos - dest * self.n_origins, 0, self.last[dest])


def _draw_from_columns(
    rng: np.random.Generator, weights: np.ndarray, dest: np.ndarray
) -> np.ndarray:
    """For each ``dest[i]``, an origin row drawn in proportion to ``weights[:, dest[i]]``
    (:class:`_ColumnDraws`, one uniform per draw)."""
    return _ColumnDraws.of(weights).draw(rng.random(dest.shape[0]), dest)


class _OriginTables:
    """The origin distributions of a census world's in-migrants: to every place from other
    provinces, and within each province from its other counties (gravity stock models,
    :mod:`urbsim.world.census_origins`, fitted by IPF). They depend on the world table only,
    not on the seed or the scale, and take most of a small world's build (about 1 s of CPU for
    the 2,857 places, against 0.3 s for the rest at 4,000 households per agent): made once per
    world table and process (:func:`_origin_tables`), each part when first needed."""

    def __init__(self, df: pd.DataFrame, prov: np.ndarray) -> None:
        # Copies of what the parts read: the table may change after its hash was taken.
        self.prov = np.array(prov, dtype=np.int64)
        self.m2 = df["inmig_other_county"].to_numpy(dtype=np.float64, copy=True)
        self.m3 = df["inmig_other_province"].to_numpy(dtype=np.float64, copy=True)
        self.rural = (df["residents"] - df["urban_residents"]).to_numpy(dtype=np.float64)
        self.o_prov, self.o_inter = _origin_split(df, prov)
        self.deter = deterrence(distance_km(df["lat"].to_numpy(), df["lon"].to_numpy()))
        self._inter: _ColumnDraws | None = None
        self._within: dict[int, tuple[np.ndarray, np.ndarray, _ColumnDraws]] = {}

    def inter(self) -> _ColumnDraws:
        """Origins of in-migrants from other provinces, by destination place."""
        if self._inter is None:
            weights = inter_province_weights(
                self.prov, self.o_inter, self.m3, self.deter, self.rural + 1.0
            )
            self._inter = _ColumnDraws.of(weights)
        return self._inter

    def within(self, q: int) -> tuple[np.ndarray, np.ndarray, _ColumnDraws]:
        """Province ``q``'s places, their index within it (-1 elsewhere), and the origins of
        its other-county in-migrants by destination (in that index)."""
        if q not in self._within:
            idx = np.flatnonzero(self.prov == q)
            local = np.full(self.prov.shape[0], -1)
            local[idx] = np.arange(idx.shape[0])
            rows, cols, rural = self.o_prov[idx], self.m2[idx], self.rural[idx]
            mask = (1.0 - np.eye(idx.shape[0])) * self.deter[np.ix_(idx, idx)]
            base = np.outer(rows + 1e-6 * rural + 1e-9, np.maximum(cols, 1e-9)) * mask
            flows = _ipf(base, rows, cols)
            fallback = mask * (rural + 1.0)[:, None]
            flows = np.where(flows.sum(axis=0) > 0, flows, fallback)
            self._within[q] = (idx, local, _ColumnDraws.of(flows))
        return self._within[q]


#: The origin tables of the world tables built in this process, by a hash of the table: a
#: sweep's worker builds the same census world for every run (two entries: a second world,
#: such as a test's, does not evict the first).
_ORIGIN_TABLES: dict[bytes, _OriginTables] = {}
_ORIGIN_TABLES_KEPT = 2


def _origin_tables(df: pd.DataFrame, prov: np.ndarray) -> _OriginTables:
    """The :class:`_OriginTables` of a world table, made once per table and process."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(prov, dtype=np.int64).tobytes())
    key = digest.digest()
    if key not in _ORIGIN_TABLES:
        while len(_ORIGIN_TABLES) >= _ORIGIN_TABLES_KEPT:
            _ORIGIN_TABLES.pop(next(iter(_ORIGIN_TABLES)))
        _ORIGIN_TABLES[key] = _OriginTables(df, prov)
    return _ORIGIN_TABLES[key]


def _common_factor(share: np.ndarray, weight: np.ndarray, target: float) -> float:
    """The factor ``f`` with ``sum(min(f * share, 1) * weight) = target * sum(weight)``.

    Solved by bisection (the left side increases with ``f``); shares capped at 1 are why a
    plain ratio does not do.
    """
    goal = target * weight.sum()
    lo, hi = 0.0, 1.0 / max(float(share[share > 0].min()), 1e-6)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if (np.minimum(mid * share, 1.0) * weight).sum() < goal:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _categorical_from(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (rows need not be normalized) for uniforms ``u``."""
    cum = np.cumsum(probs, axis=1)
    return np.minimum(((u * cum[:, -1])[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _blocks(n: int) -> Iterator[slice]:
    """Consecutive slices of at most :data:`BLOCK` agents covering ``0..n``: the per-agent
    temporaries of a step (several values per agent) are made one block at a time, so the
    build's peak memory does not grow with them; the draws are made for all agents first,
    in the same order as without blocks."""
    return (slice(start, min(start + BLOCK, n)) for start in range(0, n, BLOCK))


# ==================================================================================================
# synthesis
# ==================================================================================================


def _agents(
    df: pd.DataFrame, prov: np.ndarray, hpa: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place, persons and collective flag of every agent, ordered by place."""
    n = len(df)
    households = df["households"].to_numpy(dtype=np.float64)
    family = df["family_persons"].to_numpy(dtype=np.float64)
    collective = df["residents"].to_numpy(dtype=np.float64) - family
    fam_agents = np.zeros(n, dtype=np.int64)
    fam_persons = np.zeros(n, dtype=np.int64)
    col_agents = np.zeros(n, dtype=np.int64)
    for p in range(int(prov.max()) + 1):
        idx = np.flatnonzero(prov == p)
        total = max(1, int(np.floor(households[idx].sum() / hpa + 0.5)))
        minimum = 1 if total >= idx.shape[0] else 0
        fam_agents[idx] = apportion(total, households[idx], minimum)
        fam_persons[idx] = apportion(int(np.floor(family[idx].sum() / hpa + 0.5)), family[idx])
        col_agents[idx] = apportion(
            int(np.floor(collective[idx].sum() / hpa + 0.5)), collective[idx]
        )
    fam_persons = np.clip(fam_persons, fam_agents, MAX_PERSONS * fam_agents)

    place_f = np.repeat(np.arange(n), fam_agents)
    size = np.divide(fam_persons, fam_agents, out=np.ones(n), where=fam_agents > 0)
    persons_f = 1 + rng.poisson(np.maximum(size - 1.0, 0.0)[place_f])
    persons_f = np.minimum(persons_f, MAX_PERSONS).astype(np.int64)
    _adjust_persons(rng, place_f, persons_f, fam_persons)

    place_c = np.repeat(np.arange(n), col_agents)
    place = np.concatenate([place_f, place_c])
    persons = np.concatenate([persons_f, np.ones(place_c.shape[0], dtype=np.int64)])
    is_col = np.concatenate([np.zeros(place_f.shape[0], bool), np.ones(place_c.shape[0], bool)])
    order = np.argsort(place, kind="stable")
    return place[order], persons[order], is_col[order]


def _origin_split(df: pd.DataFrame, prov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Out-migrants of each place (persons) to other counties of its province and to other
    provinces.

    Out-migrants are hukou residents minus those living at home (residents less in-migrants
    registered elsewhere). They are given first to the province's in-flow (other-county
    in-migrants), in proportion within the province, the rest to other provinces.
    """
    out = out_migrants(df)
    m2 = df["inmig_other_county"].to_numpy(dtype=np.float64)
    out_q = np.bincount(prov, weights=out)
    share_q = np.minimum(
        1.0,
        np.divide(np.bincount(prov, weights=m2), out_q, out=np.zeros_like(out_q), where=out_q > 0),
    )
    o_prov = out * share_q[prov]
    return o_prov, out - o_prov


def synthesize_households(df: pd.DataFrame, hpa: float, rng: np.random.Generator) -> Synthesis:
    """Synthesize the 2010 household agents of a census world table.

    Parameters
    ----------
    df : pandas.DataFrame
        World table (:data:`urbsim.world.census.WORLD_COLUMNS`), one row per place.
    hpa : float
        Real households per agent.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    Synthesis
        Households, migrant scope and collective flag per agent, and national statistics.
    """
    n = len(df)
    _, prov = np.unique(df["province_code"].to_numpy(), return_inverse=True)
    residents = df["residents"].to_numpy(dtype=np.float64)
    # The steps draw from ``rng`` in this order; changing it changes every world.
    place, persons, collective = _agents(df, prov, hpa, rng)
    agent_persons = np.bincount(place, weights=persons, minlength=n)
    # Census persons -> agent persons of the place.
    scale = agent_persons / residents
    zone = _zones(rng, df, place, persons, agent_persons)
    scope = _scopes(rng, df, place, persons, zone, collective, scale)
    hukou_place = _hukou_places(rng, df, prov, place, scope)
    migrant = hukou_place != place
    hukou_type, factor, share = _hukou_types(rng, df, place, persons, zone, migrant)
    nonagri = hukou_type == NON_AGRICULTURAL
    land = (~nonagri & (rng.random(place.shape[0]) < P_LAND_AGRI)).astype(np.uint8)
    group = _age_groups(rng, df, place, scope, collective)
    young = df["age_0_14_pct"].to_numpy() / 100.0 * agent_persons
    head_age, kids, children = household_ages(rng, place, persons, group, young)
    del group  # large arrays are let go once the last step that reads them is done
    edu = _education(rng, df, place, zone, nonagri)
    years_here = rng.integers(5, 41, place.shape[0])
    moved = scope != LOCAL
    years_here[moved] = np.minimum(rng.geometric(P_MIGRANT_YEARS, int(moved.sum())) - 1, 10)
    # Drawn after every other field (urbsim.world.away).
    years_away, left_behind = initial_away(
        rng, place, hukou_place, hukou_type, years_here, children
    )
    hh = Households(
        place=place.astype(FIELDS["place"].dtype),
        zone=zone,
        hukou_place=hukou_place.astype(FIELDS["hukou_place"].dtype),
        hukou_type=hukou_type,
        years_here=np.minimum(years_here, 255),
        permit=np.zeros(place.shape[0], dtype=np.uint8),  # residence permits start in 2016
        head_age=head_age,
        education=edu,
        kids=kids,
        children=children,
        land=land,
        persons=persons,
        years_away=years_away,
        left_behind=left_behind,
    )
    weight = persons * hpa
    stats = {
        "agents": float(place.shape[0]),
        "residents": float(weight.sum()),
        "urbanization": float(weight[zone == URBAN].sum() / weight.sum()),
        "nonagri_share": float(weight[nonagri].sum() / weight.sum()),
        "nonagri_target": NONAGRI_TARGET,
        "census_nonagri_share": float((share * residents).sum() / residents.sum()),
        "nonagri_factor": float(factor),
        "floating": float(weight[migrant].sum()),
        "floating_inter": float(weight[scope == OTHER_PROVINCE].sum()),
        "floating_within_county": FLOATING_TARGET - float(weight[migrant].sum()),
        "census_inmig_other_province": float(df["inmig_other_province"].sum()),
        "census_inmig_other_county": float(df["inmig_other_county"].sum()),
        "share_0_14": young_share(persons, kids),
        "census_share_0_14": float(young.sum() / agent_persons.sum()),
    }
    return Synthesis(households=hh, scope=scope, collective=collective, stats=stats)


def _zones(
    rng: np.random.Generator,
    df: pd.DataFrame,
    place: np.ndarray,
    persons: np.ndarray,
    agent_persons: np.ndarray,
) -> np.ndarray:
    """Zone of every agent: a random prefix of each place, persons closest to the urban
    residents."""
    n = len(df)
    residents = df["residents"].to_numpy(dtype=np.float64)
    urban_target = agent_persons * df["urban_residents"].to_numpy() / residents
    order = _group_order(rng, place, np.ones(place.shape[0]))
    mid = _within_group_midpoints(order, place, persons, n)
    zone = np.zeros(place.shape[0], dtype=np.uint8)
    zone[order[mid < urban_target[place[order]]]] = URBAN
    return zone


def _scopes(
    rng: np.random.Generator,
    df: pd.DataFrame,
    place: np.ndarray,
    persons: np.ndarray,
    zone: np.ndarray,
    collective: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray:
    """Migrant scope of every agent: consecutive segments of a weighted order of each place
    whose persons are closest to the census's in-migrants from other provinces, other counties
    of the province and the same county."""
    n = len(df)
    m1 = df["inmig_same_county"].to_numpy(dtype=np.float64)
    m2 = df["inmig_other_county"].to_numpy(dtype=np.float64)
    m3 = df["inmig_other_province"].to_numpy(dtype=np.float64)
    w = np.where(zone == URBAN, W_URBAN, 1.0) * np.where(collective, W_COLLECTIVE, 1.0)
    order = _group_order(rng, place, w)
    del w
    mid = np.empty(place.shape[0])
    mid[order] = _within_group_midpoints(order, place, persons, n)
    del order
    # The place's thresholds: persons from other provinces, then other counties, then the same.
    t3 = m3 * scale
    t2 = t3 + m2 * scale
    t1 = t2 + m1 * scale
    scope = np.empty(place.shape[0], dtype=np.int8)
    for b in _blocks(place.shape[0]):
        p, m = place[b], mid[b]
        scope[b] = np.select(
            [m < t3[p], m < t2[p], m < t1[p]], [OTHER_PROVINCE, OTHER_COUNTY, SAME_COUNTY], LOCAL
        )
    return scope


def _hukou_places(
    rng: np.random.Generator,
    df: pd.DataFrame,
    prov: np.ndarray,
    place: np.ndarray,
    scope: np.ndarray,
) -> np.ndarray:
    """Hukou place of every agent: in-migrants' origins from the places' out-migration, by the
    gravity model of the stock (:mod:`urbsim.world.census_origins`; the tables made once per
    world table, :func:`_origin_tables`)."""
    tables = _origin_tables(df, prov)
    hukou_place = place.copy()
    inter = np.flatnonzero(scope == OTHER_PROVINCE)
    if inter.shape[0]:
        hukou_place[inter] = tables.inter().draw(rng.random(inter.shape[0]), place[inter])
    for q in range(int(prov.max()) + 1):
        movers = np.flatnonzero((scope == OTHER_COUNTY) & (prov[place] == q))
        if movers.shape[0] == 0:
            continue
        idx, local, origins = tables.within(q)
        hukou_place[movers] = idx[origins.draw(rng.random(movers.shape[0]), local[place[movers]])]
    return hukou_place


def _hukou_types(
    rng: np.random.Generator,
    df: pd.DataFrame,
    place: np.ndarray,
    persons: np.ndarray,
    zone: np.ndarray,
    migrant: np.ndarray,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Hukou type of every agent: census shares x one national factor, per place of residence.

    The census's non-agricultural share is among a unit's residents (its province rows are the
    resident-weighted means of the units), so targets are set by place of residence. Returns
    the types, the factor and the census shares (fractions).
    """
    n = len(df)
    group = np.where(migrant, 2, np.where(zone == URBAN, 0, 1))
    totals = np.bincount(place * 3 + group, weights=persons, minlength=n * 3).reshape(n, 3)
    living = totals.sum(axis=1)
    share = df["nonagri_hukou_pct"].to_numpy(dtype=np.float64) / 100.0
    factor = _common_factor(share, living, NONAGRI_TARGET)
    base = np.array([0.0, P_NONAGRI_RURAL_LOCAL, P_NONAGRI_MIGRANT])
    p_nonagri = nonagri_probabilities(totals, np.minimum(factor * share, 1.0) * living, base)
    hukou_type = (rng.random(place.shape[0]) < p_nonagri[place, group]).astype(np.uint8)
    return hukou_type, factor, share


def _age_groups(
    rng: np.random.Generator,
    df: pd.DataFrame,
    place: np.ndarray,
    scope: np.ndarray,
    collective: np.ndarray,
) -> np.ndarray:
    """Age group of the head: the synthetic world's mix tilted by the place's 65+ share among
    adults."""
    n = len(df)
    residents = df["residents"].to_numpy(dtype=np.float64)
    adults = df["age_15_64_pct"].to_numpy() + df["age_65_plus_pct"].to_numpy()
    old = np.divide(df["age_65_plus_pct"].to_numpy(), adults, out=np.zeros(n), where=adults > 0)
    old_nat = float(np.average(old, weights=residents))
    tilt = old / old_nat
    mig_like = (scope >= OTHER_COUNTY) | collective
    u = rng.random(place.shape[0])
    group = np.empty(place.shape[0], dtype=np.int64)
    for b in _blocks(place.shape[0]):
        probs = np.where(mig_like[b, None], np.asarray(AGE_MIGRANT)[None, :], np.asarray(AGE_LOCAL))
        probs[:, 3] *= tilt[place[b]]
        group[b] = _categorical_from(u[b], probs)
    return group


def _education(
    rng: np.random.Generator,
    df: pd.DataFrame,
    place: np.ndarray,
    zone: np.ndarray,
    nonagri: np.ndarray,
) -> np.ndarray:
    """Education of the head: ordered logit whose level is solved per place (bisection) so that
    mean years of schooling equal the census's."""
    n = len(df)
    g3 = np.where(nonagri, 0, np.where(zone == URBAN, 1, 2))
    counts = np.bincount(place * 3 + g3, minlength=n * 3).reshape(n, 3).astype(np.float64)
    shifts = np.array([EDU_SHIFT_NONAGRI, 0.0, EDU_SHIFT_RURAL_AGRI])
    years = np.asarray(EDU_YEARS)
    cuts = np.asarray(EDU_CUTS)
    target_years = np.clip(df["schooling_years"].to_numpy(dtype=np.float64), years[0], years[-1])

    def mean_years(level: np.ndarray) -> np.ndarray:
        x = level[:, None, None] + shifts[None, :, None] - cuts[None, None, :]
        ge = 1.0 / (1.0 + np.exp(-x))  # P(level >= k), k = 1..3
        expect = years[0] + (ge * np.diff(years)[None, None, :]).sum(axis=2)
        return (expect * counts).sum(axis=1) / np.maximum(counts.sum(axis=1), 1.0)

    lo_a, hi_a = np.full(n, -20.0), np.full(n, 20.0)
    for _ in range(60):
        mid_a = 0.5 * (lo_a + hi_a)
        below = mean_years(mid_a) < target_years
        lo_a = np.where(below, mid_a, lo_a)
        hi_a = np.where(below, hi_a, mid_a)
    level = 0.5 * (lo_a + hi_a)
    u = rng.random(place.shape[0])
    edu = np.empty(place.shape[0], dtype=FIELDS["education"].dtype)
    for b in _blocks(place.shape[0]):
        x = (level[place[b]] + shifts[g3[b]])[:, None] - cuts[None, :]
        edu[b] = (u[b, None] < 1.0 / (1.0 + np.exp(-x))).sum(axis=1)
    return edu
