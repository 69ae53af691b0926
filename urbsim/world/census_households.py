"""Household agents of the census world, synthesized per place from the world table.

The world is built in chunks of whole places (:data:`CHUNK_AGENTS` agents at most, unless one
place has more), each step vectorized over the chunk's agents. Every draw is keyed by (seed,
agent, draw number) (:mod:`urbsim.world.keyed`): the world does not depend on the chunking or on
the threads that build chunks side by side, and the build holds the final household arrays plus
one chunk's temporaries per thread, whatever the scale.
Targets per place, in persons (real persons / households per agent), and how they are met:

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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numba
import numpy as np
import pandas as pd

from urbsim.households import FIELDS, NON_AGRICULTURAL, URBAN, Households
from urbsim.kernels.layout import KID_AGES
from urbsim.state import GROWTH
from urbsim.world.ages import (
    head_ages_from,
    kid_masks_keyed,
    school_children,
    young_children,
    young_weights_grouped,
)
from urbsim.world.away import initial_away
from urbsim.world.base import (
    AGE_LOCAL,
    AGE_MIGRANT,
    FLOATING_TARGET,
    MAX_PERSONS,
    MIGRANT_YEARS_CAP,
    NONAGRI_TARGET,
    P_LAND_AGRI,
    P_MIGRANT_YEARS,
    P_NONAGRI_MIGRANT,
    P_NONAGRI_RURAL_LOCAL,
    MigrantStock,
)
from urbsim.world.census_origins import (
    deterrence,
    distance_km,
    inter_province_weights,
    out_migrants,
)
from urbsim.world.keyed import KeyedDraws, geometric_from_uniform, poisson_from_uniform
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
#: Agents per chunk of whole places: the steps' temporaries (about 100 bytes per agent) stay
#: near 200 MB whatever the world's size.
CHUNK_AGENTS: Final[int] = 1 << 21
#: Rounds of :func:`_adjust_persons`.
ADJUST_ROUNDS: Final[int] = 50
#: Draw numbers of the steps (keyed draws): each step its own, so that a step's draws do not
#: depend on the others.
D_PERSONS: Final[int] = 0
D_ADJUST: Final[int] = 1  # one per round: D_ADJUST .. D_ADJUST + ADJUST_ROUNDS - 1
D_ZONE: Final[int] = 60
D_SCOPE: Final[int] = 61
D_ORIGIN: Final[int] = 62
D_HUKOU: Final[int] = 63
D_LAND: Final[int] = 64
D_AGE_GROUP: Final[int] = 65
D_HEAD_AGE: Final[int] = 66
D_EDUCATION: Final[int] = 67
D_YEARS_HERE: Final[int] = 68
D_MIGRANT_YEARS: Final[int] = 69
D_AWAY: Final[int] = 70
D_YEARS_AWAY: Final[int] = 71
D_KIDS: Final[int] = 100  # one per age of a child: D_KIDS .. D_KIDS + KID_AGES - 1


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


def draw_ranges() -> dict[str, range]:
    """The draw numbers of each step of the synthesis (keyed draws): disjoint and below
    :data:`urbsim.rng.MAX_DRAWS` (``tests/world/test_keyed.py`` holds them to it)."""
    single = {
        name: range(value, value + 1)
        for name, value in globals().items()
        if name.startswith("D_") and name not in ("D_ADJUST", "D_KIDS")
    }
    return {
        **single,
        "D_ADJUST": range(D_ADJUST, D_ADJUST + ADJUST_ROUNDS),
        "D_KIDS": range(D_KIDS, D_KIDS + KID_AGES),
    }


# ==================================================================================================
# grouped helpers (agents sorted by place)
# ==================================================================================================


def _group_order(
    exponential: np.ndarray, group: np.ndarray, weights: np.ndarray, offset: int = 0
) -> np.ndarray:
    """Agents sorted by group, within a group in a weighted random order (Efraimidis-Spirakis
    keys: standard exponentials over the weights); ``offset`` as in :func:`_sort_within`."""
    return _sort_within(group, exponential / weights, offset)


def _sort_within(group: np.ndarray, keys: np.ndarray, offset: int = 0) -> np.ndarray:
    """Indices sorted by ``group``, then by non-negative ``keys`` (``inf`` last).

    ``key / (1 + key)`` maps keys monotonically into [0, 1], so one float sort of
    ``group + key / (1 + key)`` replaces a two-key lexsort (several times faster). The float's
    resolution depends on the group number, so groups that are a chunk's places are sorted
    as the world's places (``group + offset``): the order of near ties then does not depend on
    where the chunk starts.
    """
    with np.errstate(invalid="ignore"):
        unit = np.where(np.isinf(keys), 1.0, keys / (1.0 + keys))
    return np.argsort((group + offset) + np.minimum(unit, 1.0 - 1e-9), kind="stable")


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
    uniforms: Callable[[int], np.ndarray],
    place: np.ndarray,
    persons: np.ndarray,
    target: np.ndarray,
    offset: int = 0,
) -> None:
    """Add or remove one person in random agents until each place's persons equal ``target``.

    ``persons`` is changed in place; agents stay within 1..MAX_PERSONS. Places whose target is
    out of reach (every agent at the bound) keep the closest reachable sum. ``uniforms(r)``
    gives round ``r``'s uniform per agent; ``offset`` is the first place's index in the world
    (:func:`_sort_within`).
    """
    n_places = target.shape[0]
    for r in range(ADJUST_ROUNDS):
        diff = target - np.bincount(place, weights=persons, minlength=n_places).astype(np.int64)
        if not diff.any():
            return
        need = diff[place]
        ok = ((need > 0) & (persons < MAX_PERSONS)) | ((need < 0) & (persons > 1))
        if not ok.any():
            return
        keys = np.where(ok, uniforms(r), np.inf)
        order = _sort_within(place, keys, offset)
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


@dataclass(frozen=True)
class _Plan:
    """Agents and persons of every place, fixed before any draw (no randomness): family
    agents, their persons and one-person agents of collective quarters per place, and where
    each place's agents start in the world (family agents first, then collective ones)."""

    fam_agents: np.ndarray
    fam_persons: np.ndarray
    col_agents: np.ndarray
    start: np.ndarray

    @classmethod
    def of(cls, df: pd.DataFrame, prov: np.ndarray, hpa: float) -> _Plan:
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
        start = np.concatenate([[0], np.cumsum(fam_agents + col_agents)]).astype(np.int64)
        return cls(fam_agents, fam_persons, col_agents, start)

    @property
    def agents(self) -> int:
        """Agents of the world."""
        return int(self.start[-1])

    @property
    def persons(self) -> np.ndarray:
        """Agent persons of every place (family persons as planned, one per collective agent;
        a place whose family persons cannot be met keeps the closest reachable sum, so the
        synthesis recounts them)."""
        return self.fam_persons + self.col_agents

    def chunks(self, size: int) -> Iterator[tuple[int, int]]:
        """Ranges ``[p0, p1)`` of consecutive places with at most ``size`` agents each (a
        place with more is a chunk of its own)."""
        n, p0 = self.start.shape[0] - 1, 0
        while p0 < n:
            p1 = int(np.searchsorted(self.start, self.start[p0] + size, side="right")) - 1
            p1 = min(max(p1, p0 + 1), n)
            yield p0, p1
            p0 = p1


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


#: Smallest share of a place's out-migrants taken to live in other provinces in the stock the
#: destination constants match (:func:`migrant_stock`).
MIN_ACROSS_SHARE: Final[float] = 0.01


def migrant_stock(df: pd.DataFrame, prov: np.ndarray) -> MigrantStock:
    """The census world's 2010 migrant stock by place, with in- and out-migrants that add up.

    In-migrants are the county file's: from other counties of the province
    (``inmig_other_county``) and from other provinces (``inmig_other_province``). Its
    out-migrants (:func:`urbsim.world.census_origins.out_migrants`) do not match them: they
    total 176.1 million against 170.6, and in Beijing and Tianjin the in-migrants from the
    province's other units outnumber the province's out-migrants. As the synthesis does
    (:func:`_origin_split`), each province's in-migrants from its other units come from its
    places in proportion to their out-migrants to the province, and the in-migrants from other
    provinces from every place in proportion to its out-migrants to other provinces; the
    out-migrants here are what each place so sends. Every place sends at least
    :data:`MIN_ACROSS_SHARE` of its out-migrants to other provinces: where the synthesis's rule
    keeps all of a province's out-migrants in it (Beijing, Tianjin), no constants could make
    the logit, which gives every destination a positive probability, send none of them out.
    """
    m = df[["inmig_other_county", "inmig_other_province"]].to_numpy(dtype=np.float64).T.copy()
    out = out_migrants(df)
    _, o_inter = _origin_split(df, prov)
    o_inter = np.maximum(o_inter, MIN_ACROSS_SHARE * out)
    o_prov = out - o_inter
    total = np.bincount(prov, weights=o_prov)
    within = (
        o_prov
        * np.divide(
            np.bincount(prov, weights=m[0]), total, out=np.zeros_like(total), where=total > 0
        )[prov]
    )
    across = o_inter * (m[1].sum() / o_inter.sum())
    return MigrantStock(in_migrants=m, out_migrants=within + across)


def synthesize_households(
    df: pd.DataFrame,
    hpa: float,
    seed: int,
    chunk_agents: int = CHUNK_AGENTS,
    threads: int | None = None,
) -> Synthesis:
    """Synthesize the 2010 household agents of a census world table.

    Parameters
    ----------
    df : pandas.DataFrame
        World table (:data:`urbsim.world.census.WORLD_COLUMNS`), one row per place.
    hpa : float
        Real households per agent.
    seed : int
        The world's seed: every draw is keyed by it, the agent and the draw's number.
    chunk_agents : int
        Agents built at once (whole places): the peak memory, not the world, depends on it.
    threads : int, optional
        Chunks built at once, each on a thread of its own; None: Numba's thread count
        (``numba.get_num_threads()``, the run's ``--threads``). The world does not depend on
        it; the peak memory holds that many chunks' temporaries.

    Returns
    -------
    Synthesis
        Households, migrant scope and collective flag per agent, and national statistics.
    """
    if chunk_agents < 1:
        raise ValueError(f"chunk_agents must be positive, got {chunk_agents}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be positive, got {threads}")
    _, prov = np.unique(df["province_code"].to_numpy(), return_inverse=True)
    plan = _Plan.of(df, prov, hpa)
    world = _WorldArrays(plan.agents)
    shared = _Shared.of(df, prov, plan)
    totals = np.zeros(len(_TOTALS))
    for chunk_totals in _chunks_built(df, prov, plan, shared, seed, world, chunk_agents, threads):
        totals += chunk_totals
    hh = Households.in_buffers(world.fields, plan.agents)
    t = dict(zip(_TOTALS, totals, strict=True))
    residents = df["residents"].to_numpy(dtype=np.float64)
    stats = {
        "agents": float(plan.agents),
        "residents": t["persons"] * hpa,
        "urbanization": t["urban"] / t["persons"],
        "nonagri_share": t["nonagri"] / t["persons"],
        "nonagri_target": NONAGRI_TARGET,
        "census_nonagri_share": float((shared.share * residents).sum() / residents.sum()),
        "nonagri_factor": float(shared.factor),
        "floating": t["floating"] * hpa,
        "floating_inter": t["floating_inter"] * hpa,
        "floating_within_county": FLOATING_TARGET - t["floating"] * hpa,
        "census_inmig_other_province": float(df["inmig_other_province"].sum()),
        "census_inmig_other_county": float(df["inmig_other_county"].sum()),
        "share_0_14": t["young"] / max(t["persons"], 1.0),
        "census_share_0_14": t["young_target"] / t["persons"],
    }
    return Synthesis(households=hh, scope=world.scope, collective=world.collective, stats=stats)


#: Sums over the chunks behind the statistics of a world (agent persons).
_TOTALS: Final[tuple[str, ...]] = (
    "persons", "urban", "nonagri", "floating", "floating_inter", "young", "young_target"
)  # fmt: skip


class _WorldArrays:
    """The world's household arrays, made once at their final size and filled chunk by
    chunk, with the scope and collective flag of every agent. The household fields have
    :data:`urbsim.state.GROWTH` times the rows, the spare ones for the households a run forms
    (never written until then, so not resident)."""

    def __init__(self, n: int) -> None:
        cap = int(GROWTH * n)
        self.fields = {name: np.empty(cap, dtype=f.dtype) for name, f in FIELDS.items()}
        # The model draws the matches at the start of the run (urbsim.kernels.start_match): 0
        # here, and zeros of the operating system's, resident only once written.
        self.fields["match"] = np.zeros(cap, dtype=FIELDS["match"].dtype)
        self.scope = np.empty(n, dtype=np.int8)
        self.collective = np.empty(n, dtype=bool)

    def put(self, first: int, values: dict[str, np.ndarray]) -> None:
        """Write a chunk's arrays from agent ``first`` on."""
        for name, arr in values.items():
            target = self.fields[name] if name in self.fields else getattr(self, name)
            target[first : first + arr.shape[0]] = arr


@dataclass(frozen=True)
class _Shared:
    """What every chunk reads that depends on the whole world: the origin tables, the national
    factor of the non-agricultural shares, the tilt of the old-age group per place."""

    tables: _OriginTables
    share: np.ndarray
    factor: float
    tilt: np.ndarray

    @classmethod
    def of(cls, df: pd.DataFrame, prov: np.ndarray, plan: _Plan) -> _Shared:
        share = df["nonagri_hukou_pct"].to_numpy(dtype=np.float64) / 100.0
        # The planned persons: the factor then does not depend on the chunks (a place whose
        # family persons are out of reach is off by a few agent persons).
        factor = _common_factor(share, plan.persons.astype(np.float64), NONAGRI_TARGET)
        n = len(df)
        residents = df["residents"].to_numpy(dtype=np.float64)
        adults = df["age_15_64_pct"].to_numpy() + df["age_65_plus_pct"].to_numpy()
        old = np.divide(df["age_65_plus_pct"].to_numpy(), adults, out=np.zeros(n), where=adults > 0)
        tilt = old / float(np.average(old, weights=residents))
        return cls(_origin_tables(df, prov), share, factor, tilt)


def _chunks_built(
    df: pd.DataFrame,
    prov: np.ndarray,
    plan: _Plan,
    shared: _Shared,
    seed: int,
    world: _WorldArrays,
    chunk_agents: int,
    threads: int | None,
) -> Iterator[np.ndarray]:
    """Build every chunk into ``world`` and yield their totals in the chunks' order (so that
    the statistics sum them in one order whatever the threads).

    The chunks are independent (keyed draws, disjoint rows of ``world``), and their steps
    are NumPy operations and serial Numba kernels that release the GIL, so threads build
    them side by side: the world build was the largest part of a full-scale run's wall
    (11 minutes at one household per agent, on one core). At most ``threads`` chunks are in
    flight, each holding its temporaries."""
    ranges = list(plan.chunks(chunk_agents))
    n = min(numba.get_num_threads() if threads is None else threads, len(ranges))
    if n <= 1:
        for p0, p1 in ranges:
            yield _chunk(df, prov, plan, shared, p0, p1, seed, world)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="urbsim-world") as pool:
        # Submitted a window at a time: a chunk waiting in the queue holds nothing, but its
        # result would wait for the earlier ones, so the window bounds what is held.
        pending: deque[Future[np.ndarray]] = deque()
        for p0, p1 in ranges:
            pending.append(pool.submit(_chunk, df, prov, plan, shared, p0, p1, seed, world))
            if len(pending) >= n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _chunk(
    df: pd.DataFrame,
    prov: np.ndarray,
    plan: _Plan,
    shared: _Shared,
    p0: int,
    p1: int,
    seed: int,
    world: _WorldArrays,
) -> np.ndarray:
    """Synthesize the agents of places ``p0 .. p1 - 1`` into ``world``; returns their sums of
    :data:`_TOTALS`. Places are indexed from ``p0`` (local) inside, the world's otherwise."""
    first = int(plan.start[p0])
    n_agents = int(plan.start[p1]) - first
    draws = KeyedDraws(seed, first, n_agents)
    local = df.iloc[p0:p1]
    k = p1 - p0
    fam, col = plan.fam_agents[p0:p1], plan.col_agents[p0:p1]
    place = np.repeat(np.arange(k), fam + col)
    rank = np.arange(n_agents) - (plan.start[p0:p1] - first)[place]
    collective = rank >= fam[place]
    persons = _persons(draws, place, collective, fam, plan.fam_persons[p0:p1], p0)
    agent_persons = np.bincount(place, weights=persons, minlength=k)
    residents = local["residents"].to_numpy(dtype=np.float64)
    zone = _zones(draws.exponential(D_ZONE), local, place, persons, agent_persons, p0)
    scale = agent_persons / residents
    scope = _scopes(draws.exponential(D_SCOPE), local, place, persons, zone, collective, scale, p0)
    hukou_place = _hukou_places(draws.uniform(D_ORIGIN), shared.tables, prov, place + p0, scope)
    migrant = hukou_place != place + p0
    hukou_type = _hukou_types(
        draws.uniform(D_HUKOU), shared.share[p0:p1], shared.factor, place, persons, zone, migrant
    )
    nonagri = hukou_type == NON_AGRICULTURAL
    land = (~nonagri & (draws.uniform(D_LAND) < P_LAND_AGRI)).astype(np.uint8)
    group = _age_groups(draws.uniform(D_AGE_GROUP), shared.tilt[p0:p1], place, scope, collective)
    young = local["age_0_14_pct"].to_numpy() / 100.0 * agent_persons
    head_age = head_ages_from(draws.uniform(D_HEAD_AGE), group, persons)
    del group
    n_kids = np.where(persons >= 2, persons - 2, 0)
    weight = young_weights_grouped(place, n_kids, head_age, young)
    kids = kid_masks_keyed(draws.key, first, head_age, n_kids, weight[place], D_KIDS)
    children = school_children(kids)
    edu = _education(draws.uniform(D_EDUCATION), local, place, zone, nonagri)
    years_here = 5 + np.floor(draws.uniform(D_YEARS_HERE) * 36).astype(np.int64)
    moved = scope != LOCAL
    stay = geometric_from_uniform(P_MIGRANT_YEARS, draws.uniform(D_MIGRANT_YEARS)) - 1
    years_here = np.where(moved, np.minimum(stay, MIGRANT_YEARS_CAP), years_here)
    years_away, left_behind = initial_away(
        draws.uniform(D_AWAY),
        draws.uniform(D_YEARS_AWAY),
        place,
        hukou_place - p0,
        hukou_type,
        years_here,
        head_age,
        children,
    )
    world.put(
        first,
        {
            "place": place + p0,
            "zone": zone,
            "hukou_place": hukou_place,
            "hukou_type": hukou_type,
            "years_here": np.minimum(years_here, 255),
            "permit": np.zeros(n_agents, dtype=np.uint8),  # residence permits start in 2016
            "head_age": head_age,
            "education": edu,
            "kids": kids,
            "children": children,
            "land": land,
            "persons": persons,
            "years_away": years_away,
            "left_behind": left_behind,
            "scope": scope,
            "collective": collective,
        },
    )
    return _chunk_totals(persons, zone, nonagri, migrant, scope, kids, young)


def _chunk_totals(
    persons: np.ndarray,
    zone: np.ndarray,
    nonagri: np.ndarray,
    migrant: np.ndarray,
    scope: np.ndarray,
    kids: np.ndarray,
    young_target: np.ndarray,
) -> np.ndarray:
    """A chunk's sums of :data:`_TOTALS` (agent persons)."""
    return np.array(
        [
            persons.sum(),
            persons[zone == URBAN].sum(),
            persons[nonagri].sum(),
            persons[migrant].sum(),
            persons[scope == OTHER_PROVINCE].sum(),
            young_children(kids).sum(),
            young_target.sum(),
        ],
        dtype=np.float64,
    )


def _persons(
    draws: KeyedDraws,
    place: np.ndarray,
    collective: np.ndarray,
    fam_agents: np.ndarray,
    fam_persons: np.ndarray,
    offset: int,
) -> np.ndarray:
    """Persons of every agent: family agents 1 + Poisson(size - 1), adjusted so that each
    place's family persons are the plan's; collective agents one person. ``offset`` is the
    chunk's first place in the world (:func:`_sort_within`)."""
    size = np.divide(
        fam_persons, fam_agents, out=np.ones(fam_agents.shape[0]), where=fam_agents > 0
    )
    lam = np.maximum(size - 1.0, 0.0)[place]
    persons = 1 + poisson_from_uniform(lam, draws.uniform(D_PERSONS), MAX_PERSONS - 1)
    persons[collective] = 1
    family = np.flatnonzero(~collective)
    fam_part = persons[family]
    _adjust_persons(
        lambda r: draws.uniform(D_ADJUST + r)[family], place[family], fam_part, fam_persons, offset
    )
    persons[family] = fam_part
    return persons


def _zones(
    exponential: np.ndarray,
    df: pd.DataFrame,
    place: np.ndarray,
    persons: np.ndarray,
    agent_persons: np.ndarray,
    offset: int = 0,
) -> np.ndarray:
    """Zone of every agent: a random prefix of each place, persons closest to the urban
    residents (``offset``: the first place's index in the world, :func:`_sort_within`)."""
    n = len(df)
    residents = df["residents"].to_numpy(dtype=np.float64)
    urban_target = agent_persons * df["urban_residents"].to_numpy() / residents
    order = _group_order(exponential, place, np.ones(place.shape[0]), offset)
    mid = _within_group_midpoints(order, place, persons, n)
    zone = np.zeros(place.shape[0], dtype=np.uint8)
    zone[order[mid < urban_target[place[order]]]] = URBAN
    return zone


def _scopes(
    exponential: np.ndarray,
    df: pd.DataFrame,
    place: np.ndarray,
    persons: np.ndarray,
    zone: np.ndarray,
    collective: np.ndarray,
    scale: np.ndarray,
    offset: int = 0,
) -> np.ndarray:
    """Migrant scope of every agent: consecutive segments of a weighted order of each place
    whose persons are closest to the census's in-migrants from other provinces, other counties
    of the province and the same county (``offset``: as in :func:`_zones`)."""
    n = len(df)
    m1 = df["inmig_same_county"].to_numpy(dtype=np.float64)
    m2 = df["inmig_other_county"].to_numpy(dtype=np.float64)
    m3 = df["inmig_other_province"].to_numpy(dtype=np.float64)
    w = np.where(zone == URBAN, W_URBAN, 1.0) * np.where(collective, W_COLLECTIVE, 1.0)
    order = _group_order(exponential, place, w, offset)
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
    u: np.ndarray,
    tables: _OriginTables,
    prov: np.ndarray,
    place: np.ndarray,
    scope: np.ndarray,
) -> np.ndarray:
    """Hukou place of every agent (``place``: the world's place indices): in-migrants' origins
    from the places' out-migration, by the gravity model of the stock
    (:mod:`urbsim.world.census_origins`; the tables made once per world table,
    :func:`_origin_tables`), one uniform ``u`` per agent."""
    hukou_place = place.copy()
    inter = np.flatnonzero(scope == OTHER_PROVINCE)
    if inter.shape[0]:
        hukou_place[inter] = tables.inter().draw(u[inter], place[inter])
    other_county = scope == OTHER_COUNTY
    for q in np.unique(prov[place[other_county]]):
        movers = np.flatnonzero(other_county & (prov[place] == q))
        idx, local, origins = tables.within(int(q))
        hukou_place[movers] = idx[origins.draw(u[movers], local[place[movers]])]
    return hukou_place


def _hukou_types(
    u: np.ndarray,
    share: np.ndarray,
    factor: float,
    place: np.ndarray,
    persons: np.ndarray,
    zone: np.ndarray,
    migrant: np.ndarray,
) -> np.ndarray:
    """Hukou type of every agent: the census share of each place (``share``) x the national
    ``factor``, per place of residence, one uniform ``u`` per agent.

    The census's non-agricultural share is among a unit's residents (its province rows are the
    resident-weighted means of the units), so targets are set by place of residence.
    """
    n = share.shape[0]
    group = np.where(migrant, 2, np.where(zone == URBAN, 0, 1))
    totals = np.bincount(place * 3 + group, weights=persons, minlength=n * 3).reshape(n, 3)
    living = totals.sum(axis=1)
    base = np.array([0.0, P_NONAGRI_RURAL_LOCAL, P_NONAGRI_MIGRANT])
    p_nonagri = nonagri_probabilities(totals, np.minimum(factor * share, 1.0) * living, base)
    return (u < p_nonagri[place, group]).astype(np.uint8)


def _age_groups(
    u: np.ndarray,
    tilt: np.ndarray,
    place: np.ndarray,
    scope: np.ndarray,
    collective: np.ndarray,
) -> np.ndarray:
    """Age group of the head: the synthetic world's mix tilted by the place's 65+ share among
    adults over the national one (``tilt``), one uniform ``u`` per agent."""
    mig_like = (scope >= OTHER_COUNTY) | collective
    group = np.empty(place.shape[0], dtype=np.int64)
    for b in _blocks(place.shape[0]):
        probs = np.where(mig_like[b, None], np.asarray(AGE_MIGRANT)[None, :], np.asarray(AGE_LOCAL))
        probs[:, 3] *= tilt[place[b]]
        group[b] = _categorical_from(u[b], probs)
    return group


def _education(
    u: np.ndarray,
    df: pd.DataFrame,
    place: np.ndarray,
    zone: np.ndarray,
    nonagri: np.ndarray,
) -> np.ndarray:
    """Education of the head: ordered logit whose level is solved per place (bisection) so that
    mean years of schooling equal the census's; one uniform ``u`` per agent."""
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
    edu = np.empty(place.shape[0], dtype=FIELDS["education"].dtype)
    for b in _blocks(place.shape[0]):
        x = (level[place[b]] + shifts[g3[b]])[:, None] - cuts[None, :]
        edu[b] = (u[b, None] < 1.0 / (1.0 + np.exp(-x))).sum(axis=1)
    return edu
