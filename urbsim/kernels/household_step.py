"""The household step: one year of household behaviour, as Numba kernels over arrays.

Every household decides on the state at the start of the year (its own fields, the place values
in ``pl`` (:data:`urbsim.inputs.PlaceInputs`), and the start-of-year places of earlier migrants
from its hukou place), then its own fields are written. No household reads another's updated
fields, so the order of visits and the split into chunks cannot change a result. The one coupled
decision, points-based settlement under an annual quota, is listed here (the applicants) and
settled afterwards by :func:`urbsim.kernels.settlement.settle_points`; the settlement decision
itself lives in :mod:`urbsim.kernels.settlement`. Behavioural parameters arrive as one record
``par`` (:data:`urbsim.inputs.Params`), read by name (``par.land_value``).

Order of a household's year (each step documented in ``docs/ODD.md``):

1. deaths, succession, births, leaving home and ageing (:mod:`urbsim.kernels.demography`);
2. employment draw, the return hazard of a household living away (a move home outside the
   choice, :func:`urbsim.kernels.choice.return_hazard`), and whether the household considers
   moving;
3. for those who consider it: a logit choice over staying, returning to the hukou place (with
   the attachment to it growing with the head's age, for every household, and the return
   terms of years away, job loss and children left behind), the urban zone of
   the current place, the urban zone of the hukou place (away from a rural home) and sampled
   candidates; a move updates the years away and the children left behind;
4. for those who stay: one more year away if away, in-situ reclassification of rural land and
   requisition conversions, residence permit, application for local hukou.

The kernel runs in two passes over fixed chunks of households. Pass 1 does steps 1, 2 and 4 for
every household, with the draws of a block of households hashed in one vectorized loop, and lists
the ~7 % who consider moving; pass 2 runs step 3 (and 4 for those who then stay) for the listed
ones. What the choice reads is prepared once per year: the zone and size part of every place's
utility and its coordinates in one 64-byte row per place
(:func:`urbsim.kernels.choice.choice_table`), the gravity proposal of every place with guide
tables that turn each draw into a lookup plus a short search (:mod:`urbsim.kernels.gravity`),
``log1p`` of every small network size, and the network matrix saturated to one byte (a quarter
of the cache misses). None of this changes a result: tests hold the kernel to a plain search
and to the reference engine. The choice itself (sampled candidates with McFadden's correction)
is in :mod:`urbsim.kernels.choice`.

The reference engine (:mod:`urbsim.engines.mesa_engine`) implements the same rules as Mesa
agents, with the same arithmetic in the same order, and tests hold the two to identical results.
"""

from __future__ import annotations

import math
from typing import Any, Final, NamedTuple

import numba
import numpy as np
from numba import njit, prange

from urbsim.config import JIT, JIT_INLINE, JIT_PARALLEL, N_CHUNKS
from urbsim.dynamics.demography import VitalRates
from urbsim.inputs import Params, ParamsRecord, PlaceRecord, check_place_inputs
from urbsim.kernels import layout as L
from urbsim.kernels.aggregate import NET8_SATURATED, province_network, saturate
from urbsim.kernels.checks import check_households, check_increasing_indices
from urbsim.kernels.choice import (
    T_SCHOOL,
    add_candidate,
    choice_table,
    left_behind_share,
    logit_pick,
    network_log,
    network_term,
    own_network_term,
    proposal_probability,
    return_hazard,
    return_term,
    stay_term,
    utility,
)
from urbsim.kernels.demography import live_demography, quick_bounds
from urbsim.kernels.gravity import gravity_guide, guide_buckets, sample_gravity
from urbsim.kernels.place_match import match_draw, match_term
from urbsim.kernels.settlement import apply_for_hukou
from urbsim.rng import draw_bits, pair_from_bits, uniform

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "f6ce8aa70577ab78"

_RURAL = 0
_URBAN = 1
_AGRI = 0
_NONAGRI = 1
_MAX_PERSONS = 15
#: Most fixed alternatives of a choice set: stay, home, local town, home town.
_MAX_FIXED = 4
_MAX_YEARS = 255
#: Row of :func:`move_propensity`'s table holding the away multiplier by years at the place.
AWAY_ROW: Final = 4


#: Entries of the table of ``log1p(k * households_per_agent)`` for network sizes ``k``; larger
#: networks (rare) are computed on the spot.
_NET_LOG_SIZE = 4096
#: Households whose draws are hashed together in the first pass.
_BLOCK = 256


@njit(**JIT_INLINE)
def service_access(
    at: int, home: int, cur: int, permit: int, years: int, access: np.ndarray, base: float
) -> float:
    """Share of public services a household would be entitled to at place ``at`` (a permit
    holder: the schedule of its current place, ``access[cur]``)."""
    if at == home:
        return 1.0
    if at == cur and permit == 1:
        k = years if years < access.shape[1] else access.shape[1] - 1
        return access[cur, k]
    return base


@njit(**JIT_INLINE)
def job_ends(
    key: np.uint64, i: int, cur: int, z: int, home: int, age: int, par: ParamsRecord
) -> bool:
    """Whether the job of household ``i`` ends this year (``behaviour.job_separation``): only
    away from its hukou place ``home``, in the urban zone, with a head under 60 (``age`` the
    head's age at the decision: after deaths, before ageing); no draw is made when the rate is
    0, so the rule before it is kept to the bit."""
    if par.job_separation == 0.0 or home == cur or z != _URBAN or age >= 60:
        return False
    return uniform(key, np.uint64(i), np.uint64(L.DRAW_JOB_END)) < par.job_separation


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
    left_behind: int,
    level: int,
    ret: float,
    job_ended: bool,
    tab: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    guide: np.ndarray,
    origin_start: np.ndarray,
    origin_places: np.ndarray,
    net: np.ndarray,
    net8: np.ndarray,
    netp: np.ndarray,
    net_log: np.ndarray,
    n_candidates: int,
    scratch: tuple[np.ndarray, ...],
    correct: bool,
) -> int:
    """Logit choice of a place and zone over the fixed alternatives and the sampled candidates
    (:mod:`urbsim.kernels.choice`); ``level`` the household's match with the place it lives
    at (:mod:`urbsim.kernels.place_match`; every other place away from home gets this year's
    draw); ``job_ended`` whether its job ended this year (:func:`job_ends`: staying pays the
    moving cost as a move does); ``ret`` is the household's own term at its hukou place,
    added to every alternative there: the return term
    (:func:`urbsim.kernels.choice.return_term`) when it lives away, the age part of the
    attachment of those who stay (:func:`urbsim.kernels.choice.stay_term`) at home;
    returns the index into the scratch ``alt_place``/``alt_zone``.

    Long on purpose: the choice set, the candidate draws and the logit share the scratch
    arrays of the caller's chunk, and this runs once per mover in the hot loop."""
    # Part of the hot loop: splitting it would pass a dozen scratch arrays per call per mover.
    alt_place, alt_zone, alt_v, alt_net, alt_cnt, alt_q, cand, cand_bits = scratch
    h = np.uint64(i)
    # Fixed alternatives: stay, return to the hukou place, the urban zones of the current place
    # and, away from a rural home, of the hukou place (these two, when present, stand for their
    # zone as a whole, like the candidates).
    alt_place[0] = cur
    alt_zone[0] = z
    n_alt = 1
    zh = _RURAL if (ht == _AGRI and has_land == 1) else _URBAN
    if home != cur or zh != z:
        alt_place[n_alt] = home
        alt_zone[n_alt] = zh
        n_alt += 1
    aggregate_from = n_alt
    if z == _RURAL and not (home == cur and zh == _URBAN):
        alt_place[n_alt] = cur
        alt_zone[n_alt] = _URBAN
        n_alt += 1
    # Away from a rural home, its county town: a return there pays no distance (``utility``),
    # so sampling would rarely find what is often the best alternative.
    if home != cur and zh == _RURAL:
        alt_place[n_alt] = home
        alt_zone[n_alt] = _URBAN
        n_alt += 1
    n_fixed = n_alt
    s = origin_start[home]
    n_origin = origin_start[home + 1] - s
    # Candidates in three loops (draws; places; then the choice set in draw order), so that
    # the draws vectorize and the lookups of different candidates overlap.
    for k in range(n_candidates):
        cand_bits[k] = draw_bits(key, h, np.uint64(L.DRAW_CANDIDATE0 + k))
    share = par.network_sampling_share
    for k in range(n_candidates):
        u_src, u_pick = pair_from_bits(cand_bits[k])
        if u_src < share and n_origin > 0:
            cand[k] = origin_places[s + int(u_pick * n_origin)]
        else:
            cand[k] = sample_gravity(grav_cdf, guide, cur, u_pick)
    for k in range(n_candidates):
        n_alt = add_candidate(cand[k], n_fixed, n_alt, alt_place, alt_zone, alt_cnt)
    # The network sizes of all alternatives first: independent loads that the processor can
    # fetch together rather than one per utility, from the one-byte copy of the matrix (a
    # quarter of the cache lines); a saturated entry is read from the exact matrix.
    for a in range(n_alt):
        nk = np.int64(net8[home, alt_place[a]])
        if nk == NET8_SATURATED:
            nk = np.int64(net[home, alt_place[a]])
        alt_net[a] = nk
    base = par.service_base_access
    child_weight = par.child_service_weight * children
    child_factor = 1.0 + child_weight
    # Children left behind go to school at the hukou place, not where the household lives.
    away_weight = 0.0 if left_behind == 1 else child_weight
    home_prov = pl.province[home]
    with_match = par.place_match_sd != 0.0
    for a in range(n_alt):
        j = alt_place[a]
        acc = service_access(j, home, cur, permit, years, access, base)
        # Children of non-hukou households get the place's school access (1 without a cap:
        # the same bits as child_factor).
        cf = child_factor if j == home else 1.0 + away_weight * tab[j, T_SCHOOL]
        nk = alt_net[a]
        npk = np.int64(netp[home_prov, j])
        if j == cur and cur != home:
            nt = own_network_term(nk, npk, n_origin, par)
        else:
            nt = network_term(nk, npk, net_log, par)
        v = utility(j, alt_zone[a], a >= aggregate_from, cur, z, home, acc, cf, tab, par, nt)
        if j == home:
            v += par.home_preference
            v += ret
        elif with_match:
            v += match_term(level if j == cur else match_draw(key, h, j), par)
        if a == 0 and job_ended:
            # Staying (alternative 0, away from home) costs the search for work and housing.
            v -= par.moving_cost * par.moving_cost_away_share
        alt_v[a] = v
        if a >= n_fixed:
            alt_q[a] = proposal_probability(j, grav_cdf, cur, alt_net[a], n_origin, share)
    u = uniform(key, h, np.uint64(L.DRAW_CHOICE))
    return logit_pick(u, n_fixed, n_alt, n_candidates, alt_v, alt_cnt, alt_q, correct)


@njit(**JIT_INLINE)
def _return_utility(
    key: np.uint64,
    i: int,
    cur: int,
    z: int,
    age: int,
    years_away: int,
    left_behind: int,
    pl: PlaceRecord,
    par: ParamsRecord,
) -> float:
    """The return term of a household living away (:func:`urbsim.kernels.choice.return_term`):
    its head is without a job this year on the same employment draw as the move decision."""
    u_emp, _ = pair_from_bits(draw_bits(key, np.uint64(i), np.uint64(L.DRAW_MOVE)))
    unemployed = z == _URBAN and not u_emp < pl.employment[cur]
    return return_term(np.int64(age), np.int64(years_away), unemployed, left_behind, par)


@njit(**JIT_INLINE)
def _not_away(i: int, years_away: np.ndarray, left_behind: np.ndarray, match: np.ndarray) -> None:
    """At the hukou place (back, or settled where it lives): nothing away, no match."""
    years_away[i] = 0
    left_behind[i] = 0
    match[i] = 0


@njit(**JIT_INLINE)
def _away_after_move(
    key: np.uint64,
    i: int,
    cur: int,
    j: int,
    home: int,
    hukou_type: np.ndarray,
    children: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    match: np.ndarray,
    par: ParamsRecord,
) -> None:
    """Years away, children left behind and the match after a move from place ``cur`` to place
    ``j``: back at the hukou place, nothing is away and there is no match; leaving it, the
    years away restart and the school-age children stay there with
    :func:`urbsim.kernels.choice.left_behind_share` (the second uniform of the household's
    ``DRAW_LEAVE_HOME`` pair); from one place away to another, one more year away and the
    children stay where they are. At a new place away the match is this year's draw for it;
    within the place (the other zone) it is kept."""
    if j == home:
        _not_away(i, years_away, left_behind, match)
        return
    if j != cur:
        match[i] = match_draw(key, np.uint64(i), j)
    if cur == home:
        years_away[i] = 0
        _, u = pair_from_bits(draw_bits(key, np.uint64(i), np.uint64(L.DRAW_LEAVE_HOME)))
        share = left_behind_share(np.int64(hukou_type[i]), par)
        left_behind[i] = 1 if children[i] > 0 and u < share else 0
    else:
        away = np.int64(years_away[i])
        years_away[i] = away + 1 if away < _MAX_YEARS else _MAX_YEARS


@njit(**JIT_INLINE)
def _hazard_return(
    i: int,
    cur: int,
    z: int,
    home: int,
    hukou_type: np.ndarray,
    land: np.ndarray,
    place: np.ndarray,
    zone: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    match: np.ndarray,
    persons: np.ndarray,
    province: np.ndarray,
    row: np.ndarray,
    flows: np.ndarray,
) -> None:
    """A household away that the return hazard (:func:`urbsim.kernels.choice.return_hazard`)
    sends home: to the zone of its home alternative (rural with agricultural hukou and land,
    urban otherwise), a new arrival there with nothing away; counted as a move and a return."""
    zh = _RURAL if (hukou_type[i] == _AGRI and land[i] == 1) else _URBAN
    place[i] = home
    zone[i] = zh
    years_here[i] = 0
    permit[i] = 0
    _not_away(i, years_away, left_behind, match)
    _record_move(row, flows, i, cur, z, home, zh, home, persons, province)
    row[L.C_HAZARD_RETURN_MIGRANTS] += np.int64(persons[i])


@njit(**JIT_INLINE)
def _stay(
    key: np.uint64,
    i: int,
    bits: np.uint64,
    cur: int,
    z: int,
    yrs: int,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    children: np.ndarray,
    land: np.ndarray,
    persons: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    match: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
    counts: np.ndarray,
) -> None:
    """A year at the same place: in-situ urbanization (rural zone), then permit and hukou (urban
    zone, hukou elsewhere or agricultural; points applicants go to the list ``points``). ``bits``
    are those of its ``DRAW_INSITU`` draw in the rural zone, of its ``DRAW_SETTLE`` draw else."""
    years_here[i] = yrs + 1 if yrs < _MAX_YEARS else _MAX_YEARS
    home = np.int64(hukou_place[i])
    ht = np.int64(hukou_type[i])
    if home != cur:
        away = np.int64(years_away[i])
        years_away[i] = away + 1 if away < _MAX_YEARS else _MAX_YEARS
    if z == _RURAL:
        u_ins, u_req = pair_from_bits(bits)
        if u_ins < pl.insitu[cur]:
            zone[i] = _URBAN
            counts[L.C_INSITU] += persons[i]
            if ht == _AGRI and home == cur and u_req < par.requisition_share:
                hukou_type[i] = _NONAGRI
                land[i] = 0
                counts[L.C_REQUISITION] += persons[i]
        return
    if home == cur and ht == _NONAGRI:
        return
    perm = np.int64(permit[i])
    u_perm, u_huk = pair_from_bits(bits)
    if (
        pl.permit_on[cur] == 1
        and home != cur
        and perm == 0
        and 12 * yrs + 6 >= pl.permit_months[cur]
        and u_perm < par.permit_takeup
    ):
        permit[i] = 1
        counts[L.C_PERMITS] += persons[i]
    if u_huk < par.hukou_apply_rate:
        # Entitlement as it stood at the start of the year (a permit issued this year counts
        # from next year).
        acc = service_access(cur, home, cur, perm, yrs, access, par.service_base_access)
        apply_for_hukou(
            key,
            i,
            cur,
            yrs,
            acc,
            hukou_place,
            hukou_type,
            permit,
            children,
            land,
            persons,
            pl,
            par,
            points,
            counts,
        )
        if home != cur and hukou_place[i] == cur:
            # Settled here (open or conditional rule): no longer away from the hukou place.
            _not_away(i, years_away, left_behind, match)


@njit(**JIT_PARALLEL)
def _step(
    key: np.uint64,
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    head_age: np.ndarray,
    kids: np.ndarray,
    children: np.ndarray,
    land: np.ndarray,
    persons: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    match: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    guide: np.ndarray,
    origin_start: np.ndarray,
    origin_places: np.ndarray,
    net: np.ndarray,
    net8: np.ndarray,
    netp: np.ndarray,
    net_log: np.ndarray,
    tab: np.ndarray,
    propensity: np.ndarray,
    fertility: np.ndarray,
    mortality: np.ndarray,
    leaving: np.ndarray,
    leavers: np.ndarray,
    parents: np.ndarray,
    n_chunks: int,
    flows: np.ndarray,
    flows_out: np.ndarray,
    correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    # The hot loop, long on purpose: both passes share the chunk bounds, the per-chunk counters
    # and the movers list, and a split would pass some thirty arrays per call (the helpers it
    # calls per household are inlined for the same reason, see ``JIT_INLINE``). Nor can a pass's
    # body be a serial kernel called once per chunk, although that compiles in half the time:
    # the step then ran 2.1 times slower (2026-12-02), most likely because Numba compiles a
    # parallel loop's body with its arrays marked as not aliasing each other and an ordinary
    # kernel without.
    n = place.shape[0]
    counts, n_movers, n_applied = _chunk_counters(n_chunks)
    # The head's age at the decision of each household listed in ``movers``, at the same
    # position (written only there: a scattered write per mover would touch, and so make
    # resident, the memory of an array of every household).
    mover_age = np.empty(n, dtype=np.uint8)
    # Households that consider moving, listed by pass 1 from their chunk's first index.
    # Allocated here, not by numpy: numpy asks for huge pages for large arrays, and each
    # chunk's first write would then make 2 MB resident where a few movers need a few kB.
    movers = np.empty(n, dtype=np.int64)
    # Points-scheme applicants, listed like the movers from their chunk's first index (a byte
    # per household marking them was resident in full, a few applicants per huge page).
    applied = np.empty(n, dtype=np.int64)
    n_candidates = par.candidates
    unemployed = par.move_unemployed
    nonagricultural = par.move_nonagricultural
    hazard = par.return_rate > 0.0
    draw_demo = np.uint64(L.DRAW_DEMOGRAPHY)
    draw_leave = np.uint64(L.DRAW_LEAVE_HOME)
    draw_move = np.uint64(L.DRAW_MOVE)
    draw_insitu = np.uint64(L.DRAW_INSITU)
    insitu_to_settle = np.uint64(L.DRAW_SETTLE - L.DRAW_INSITU)
    kid_max, leave_mask = quick_bounds(mortality, leaving)
    # Pass 1, every household: deaths, births, leaving home and ageing
    # (:func:`urbsim.kernels.demography.live_demography`), whether it considers moving, and the
    # year of those who do not. Households that consider moving are listed in ``movers`` (within
    # their chunk's own range) for pass 2, which keeps this loop short and free of the choice.
    # The draws of a block of households are hashed first, in a loop the compiler vectorizes
    # (every household needs the first three; the fourth is cheaper to hash for all than to
    # branch on); the uniforms are those of ``uniform_pair``.
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        row = counts[c]
        m = lo
        # The slot of household i in ``leavers``: its position in ``parents`` (sorted), found
        # by a pointer that moves forward with i.
        q = np.searchsorted(parents, lo)
        n_parents = parents.shape[0]
        bits_demo = np.empty(_BLOCK, dtype=np.uint64)
        bits_leave = np.empty(_BLOCK, dtype=np.uint64)
        bits_move = np.empty(_BLOCK, dtype=np.uint64)
        bits_stay = np.empty(_BLOCK, dtype=np.uint64)
        for b0 in range(lo, hi, _BLOCK):
            b1 = min(b0 + _BLOCK, hi)
            for i in range(b0, b1):
                h = np.uint64(i)
                bits_demo[i - b0] = draw_bits(key, h, draw_demo)
                bits_leave[i - b0] = draw_bits(key, h, draw_leave)
                bits_move[i - b0] = draw_bits(key, h, draw_move)
                # In-situ draw in the rural zone, settlement draw in the urban zone.
                bits_stay[i - b0] = draw_bits(key, h, draw_insitu + zone[i] * insitu_to_settle)
            for i in range(b0, b1):
                while q < n_parents and parents[q] < i:
                    q += 1
                slot = q if q < n_parents and parents[q] == i else -1
                p = np.int64(persons[i])
                if p == 0:
                    if slot >= 0:
                        leavers[slot] = 0
                    continue
                cur = np.int64(place[i])
                z = np.int64(zone[i])
                # 1. Deaths, succession, births, leaving home and ageing.
                u_death, u_birth = pair_from_bits(bits_demo[i - b0])
                u_leave, u_return = pair_from_bits(bits_leave[i - b0])
                age = live_demography(
                    i,
                    u_death,
                    u_birth,
                    u_leave,
                    z,
                    pl.fertility_factor[cur],
                    head_age,
                    kids,
                    children,
                    persons,
                    fertility,
                    mortality,
                    leaving,
                    kid_max,
                    leave_mask,
                    leavers,
                    slot,
                    row,
                )
                if age < 0:
                    left_behind[i] = 0  # no child left: none left behind
                    continue
                if children[i] == 0:
                    # Left behind are school-age children: none left (or all aged out).
                    left_behind[i] = 0
                decision_age = age
                # Move propensities are tabled by the four age groups of the head.
                age = (age >= 30) + (age >= 45) + (age >= 60)
                # 2. Employment, the return hazard of a household away, and whether to
                # consider moving (on the age at the start of the year).
                u_emp, u_move = pair_from_bits(bits_move[i - b0])
                jobless = z == _URBAN and not u_emp < pl.employment[cur]
                home = np.int64(hukou_place[i])
                if (
                    hazard
                    and home != cur
                    and u_return
                    < return_hazard(
                        decision_age, np.int64(years_away[i]), jobless, left_behind[i], par
                    )
                ):
                    _hazard_return(
                        i, cur, z, home, hukou_type, land, place, zone, years_here, permit,
                        years_away, left_behind, match, persons, pl.province, row, flows[c],
                    )  # fmt: skip
                    continue
                yrs = np.int64(years_here[i])
                pm = propensity[age, yrs]
                if jobless:
                    pm = pm * unemployed
                # Households with urban hukou leave their county less readily (or more) than
                # rural ones: a separate multiplier, applied after the job-loss one (as in the
                # reference engine); 1, the default, leaves ``pm`` unchanged to the bit.
                if hukou_type[i] == _NONAGRI:
                    pm = pm * nonagricultural
                # Households away from their hukou place move on (or back) more readily than
                # those at home leave (repeat migration), the more so the more recently they
                # arrived: a multiplier by years at the place after the hukou-type one, as in
                # the reference engine; 1, the default, changes nothing.
                if home != cur:
                    pm = pm * propensity[AWAY_ROW, yrs]
                # A household whose job ended weighs a move for certain.
                if job_ends(key, i, cur, z, home, decision_age, par):
                    pm = 1.0
                    row[L.C_JOB_ENDS] += np.int64(persons[i])
                if u_move < pm:
                    row[L.C_CONSIDERED] += 1
                    movers[m] = i
                    mover_age[m] = decision_age
                    m += 1
                    continue
                # 4. Stayers.
                _stay(
                    key,
                    i,
                    bits_stay[i - b0],
                    cur,
                    z,
                    yrs,
                    zone,
                    hukou_place,
                    hukou_type,
                    years_here,
                    permit,
                    children,
                    land,
                    persons,
                    years_away,
                    left_behind,
                    match,
                    pl,
                    par,
                    access,
                    (applied[lo:hi], n_applied[c : c + 1]),
                    row,
                )
        n_movers[c] = m - lo
    # Pass 2, households that consider moving: 3. the destination choice, then the year of
    # those who stay. A household's choice reads only its own fields and the start-of-year
    # places of earlier migrants (``origin_places``), so moves can be written at once.
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        row = counts[c]
        scratch = (
            np.empty(n_candidates + _MAX_FIXED, dtype=np.int64),  # alt_place
            np.empty(n_candidates + _MAX_FIXED, dtype=np.int64),  # alt_zone
            np.empty(n_candidates + _MAX_FIXED, dtype=np.float64),  # alt_v
            np.empty(n_candidates + _MAX_FIXED, dtype=np.int64),  # alt_net
            np.empty(n_candidates + _MAX_FIXED, dtype=np.int64),  # alt_cnt
            np.empty(n_candidates + _MAX_FIXED, dtype=np.float64),  # alt_q
            np.empty(n_candidates, dtype=np.int64),  # cand
            np.empty(n_candidates, dtype=np.uint64),  # cand_bits
        )
        alt_place, alt_zone = scratch[0], scratch[1]
        for k in range(lo, lo + n_movers[c]):
            i = movers[k]
            cur = np.int64(place[i])
            z = np.int64(zone[i])
            home = np.int64(hukou_place[i])
            yrs = np.int64(years_here[i])
            lb = np.int64(left_behind[i])
            # The household's own term at its hukou place: the age part of the attachment of
            # those who stay at home, the whole return term away.
            if home != cur:
                ret = _return_utility(key, i, cur, z, mover_age[k], years_away[i], lb, pl, par)
            else:
                ret = stay_term(np.int64(mover_age[k]), par)
            ended = job_ends(key, i, cur, z, home, np.int64(mover_age[k]), par)
            a = _choose(
                i,
                key,
                cur,
                z,
                home,
                np.int64(hukou_type[i]),
                np.int64(land[i]),
                np.int64(permit[i]),
                yrs,
                np.int64(children[i]),
                lb,
                np.int64(match[i]),
                ret,
                ended,
                tab,
                pl,
                par,
                access,
                grav_cdf,
                guide,
                origin_start,
                origin_places,
                net,
                net8,
                netp,
                net_log,
                n_candidates,
                scratch,
                correct,
            )
            j = alt_place[a]
            zj = alt_zone[a]
            if j != cur or zj != z:
                place[i] = j
                zone[i] = zj
                years_here[i] = 0
                permit[i] = 0
                _away_after_move(
                    key, i, cur, j, home, hukou_type, children, years_away, left_behind, match,
                    par,
                )  # fmt: skip
                if ended:
                    row[L.C_JOB_END_MOVERS] += np.int64(persons[i])
                _record_move(row, flows[c], i, cur, z, j, zj, home, persons, pl.province)
            else:
                slot = L.DRAW_INSITU if z == _RURAL else L.DRAW_SETTLE
                _stay(
                    key,
                    i,
                    draw_bits(key, np.uint64(i), np.uint64(slot)),
                    cur,
                    z,
                    yrs,
                    zone,
                    hukou_place,
                    hukou_type,
                    years_here,
                    permit,
                    children,
                    land,
                    persons,
                    years_away,
                    left_behind,
                    match,
                    pl,
                    par,
                    access,
                    (applied[lo:hi], n_applied[c : c + 1]),
                    row,
                )
    return _chunk_totals(counts, flows, flows_out), _applicants(applied, n_applied, n)


# Whole-array operations inside the parallel kernel become parallel loops of their own, which
# the wrapper's chunk size of one splits into one task per element: the few hundred thousand
# tasks of the flow sums cost more (~40 ms a year) than the households. The allocation and the
# sums are therefore serial helpers, compiled without ``parallel``.
#: Entries per chunk's row of counters: the ``C_*`` of the layout and at least 64 bytes of
#: padding, so that threads counting in neighbouring chunks never write to one cache line.
_COUNT_STRIDE = (L.N_COUNT + 15) // 8 * 8


@njit(**JIT)
def _chunk_counters(n_chunks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zeroed counters of each chunk (``C_*`` of the layout, padded), its count of movers and
    its count of points applicants."""
    counts = np.zeros((n_chunks, _COUNT_STRIDE), dtype=np.int64)
    return counts, np.zeros(n_chunks, dtype=np.int64), np.zeros(n_chunks, dtype=np.int64)


@njit(**JIT)
def _applicants(applied: np.ndarray, n_applied: np.ndarray, n: int) -> np.ndarray:
    """The chunks' lists of applicants (``n_applied[c]`` from chunk ``c``'s first index of
    ``applied``) joined, in increasing order."""
    n_chunks = n_applied.shape[0]
    out = np.empty(n_applied.sum(), dtype=np.int64)
    k = 0
    for c in range(n_chunks):
        lo = c * n // n_chunks
        # Pass 1's applicants, then pass 2's, each in increasing order: sorted together below.
        out[k : k + n_applied[c]] = applied[lo : lo + n_applied[c]]
        k += n_applied[c]
    return np.sort(out)


@njit(**JIT)
def _chunk_totals(counts: np.ndarray, flows: np.ndarray, flows_out: np.ndarray) -> np.ndarray:
    """Sum the chunks' province flows into ``flows_out`` and return the summed counters; in
    chunk order, of integers, so the totals do not depend on the chunks or the threads."""
    # Plain loops: NumPy's axis sum and broadcast ``+=`` compile to generic implementations
    # that took 7-8 s of the first run's compilation (measured with Numba's compile events).
    n_prov, _, n_flow = flows_out.shape
    for a in range(n_prov):
        for b in range(n_prov):
            for f in range(n_flow):
                total = flows[0, a, b, f]
                for c in range(1, flows.shape[0]):
                    total += flows[c, a, b, f]
                flows_out[a, b, f] = total
    totals = np.zeros(L.N_COUNT, dtype=np.int64)
    for c in range(counts.shape[0]):
        for k in range(L.N_COUNT):
            totals[k] += counts[c, k]
    return totals


@njit(**JIT_INLINE)
def _record_move(
    row: np.ndarray,
    flows: np.ndarray,
    i: int,
    cur: int,
    z: int,
    j: int,
    zj: int,
    home: int,
    persons: np.ndarray,
    province: np.ndarray,
) -> None:
    """Count a household's move from zone ``z`` of place ``cur`` to zone ``zj`` of place ``j``
    into the chunk's counters ``row`` and province flows ``flows`` (see :mod:`.layout`)."""
    p = np.int64(persons[i])
    po = np.int64(province[cur])
    pj = np.int64(province[j])
    row[L.C_MOVES] += 1
    if pj != po:
        row[L.C_PROVINCE_MOVES] += 1
    if j == home:
        row[L.C_RETURNS] += 1
        if cur != home:
            row[L.C_RETURN_MIGRANTS] += p
    # Zones are 0 (rural) and 1 (urban): ``zj - z`` is +1 into the urban zone, -1 out of it.
    if zj > z:
        row[L.C_URBAN_IN] += p
    elif zj < z:
        row[L.C_URBAN_OUT] += p
    if j != cur:
        flows[po, pj, L.F_HOUSEHOLDS] += 1
        flows[po, pj, L.F_PERSONS] += p


def move_propensity(par: ParamsRecord) -> np.ndarray:
    """Probability of considering a move by age group and completed years at the place (rows
    0-3), and the multiplier of households away from their hukou place by completed years at
    the place (row :data:`AWAY_ROW`).

    Rows 0-3: ``move_base * move_age[age] * exp(-move_tenure_decay * years)``; row
    :data:`AWAY_ROW`: ``1 + (move_away - 1) * exp(-move_away_tenure_decay * years)``, and
    ``move_away`` itself when that decay is 0 (so the rule before the decay is kept to the
    bit). Evaluated with Python's ``math.exp`` in this order, exactly as the reference engine
    evaluates them per household.
    """
    table = np.empty((AWAY_ROW + 1, _MAX_YEARS + 1))
    for age in range(4):
        for years in range(_MAX_YEARS + 1):
            table[age, years] = (
                par.move_base * par.move_age[age] * math.exp(-par.move_tenure_decay * years)
            )
    decay = par.move_away_tenure_decay
    for years in range(_MAX_YEARS + 1):
        table[AWAY_ROW, years] = (
            par.move_away
            if decay == 0.0
            else 1.0 + (par.move_away - 1.0) * math.exp(-decay * years)
        )
    return table


_PROPENSITY_CACHE: dict[tuple[Any, ...], np.ndarray] = {}


def cached_propensity(par: ParamsRecord) -> np.ndarray:
    """:func:`move_propensity` of ``par``, kept for the parameters that define it."""
    # The table depends on the parameters of its key, fixed within a run; rebuilding it in Python
    # every year would cost more than the kernel at small scales.
    key = (
        par.move_base,
        par.move_age.tobytes(),
        par.move_tenure_decay,
        par.move_away,
        par.move_away_tenure_decay,
    )
    table = _PROPENSITY_CACHE.get(key)
    if table is None:
        if len(_PROPENSITY_CACHE) > 64:
            _PROPENSITY_CACHE.clear()
        table = _PROPENSITY_CACHE[key] = move_propensity(par)
    return table


_NET_LOG_CACHE: dict[float, np.ndarray] = {}


def cached_network_log(hpa: float) -> np.ndarray:
    """:func:`urbsim.kernels.choice.network_log` of ``hpa`` for network sizes below 4096,
    kept per value."""
    # Fixed within a run (households per agent); built once per value.
    table = _NET_LOG_CACHE.get(hpa)
    if table is None:
        if len(_NET_LOG_CACHE) > 64:
            _NET_LOG_CACHE.clear()
        table = _NET_LOG_CACHE[hpa] = network_log(hpa, _NET_LOG_SIZE)
    return table


class StepTally(NamedTuple):
    """What :func:`household_step` returns besides the households it updates in place."""

    #: Counters of the year, indexed by the ``C_*`` constants of the layout.
    counts: np.ndarray
    #: Households that applied for local hukou under a points scheme this year (increasing
    #: ``int64`` indices), for :func:`urbsim.kernels.settlement.settle_points`.
    applicants: np.ndarray


def check_step_inputs(
    households: dict[str, np.ndarray],
    places: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    n_chunks: int,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    net8: np.ndarray | None,
    netp: np.ndarray | None,
    guide: np.ndarray | None,
) -> int:
    """Reject inputs that would send the unchecked kernel out of bounds; returns the number of
    households."""
    n_places = check_place_inputs(places)
    n = check_households(households, n_places)
    if not isinstance(par, Params):
        raise ValueError(f"par must be a Params record, got {type(par).__name__}")
    if net.shape != (n_places, n_places) or origin_start.shape != (n_places + 1,):
        raise ValueError("net must be (n_places, n_places) and origin_start n_places + 1")
    if access.ndim != 2 or access.shape[0] != n_places:
        raise ValueError("access must have one row per place")
    if access.shape[1] < 1:
        raise ValueError("access must give at least one year")
    if grav_cdf.shape != (n_places, n_places):
        raise ValueError("grav_cdf must have one row and one column per place")
    if grav_cdf.dtype != np.float32:
        # The rows of gravity_rows; another dtype would compile the kernel again (~100 s).
        raise ValueError(f"grav_cdf must be float32 (gravity_rows), got {grav_cdf.dtype}")
    prov = places.province
    if n_places and prov.min() < 0:
        raise ValueError("province indices of the places must not be negative")
    if netp is not None and (
        netp.ndim != 2 or netp.shape[1] != n_places or prov.max() >= netp.shape[0]
    ):
        raise ValueError("netp must have one column per place and a row per province")
    if origin_start[-1] != origin_members.shape[0] or (
        origin_members.size and (origin_members.min() < 0 or origin_members.max() >= n)
    ):
        raise ValueError("origin_members must index households and match origin_start")
    if par.candidates < 1:
        raise ValueError("par.candidates must be positive")
    if net8 is not None and (net8.shape != net.shape or net8.dtype != np.uint8):
        raise ValueError("net8 must be a uint8 matrix of the shape of net")
    if n_chunks < 1:
        raise ValueError("n_chunks must be positive")
    if guide is not None and (guide.shape[0] != grav_cdf.shape[0] or guide.shape[1] < 2):
        raise ValueError("guide must have one row per row of grav_cdf")
    return n


def _check_vital(
    vital: VitalRates, leavers: np.ndarray, parents: np.ndarray | None, n: int, n_chunks: int
) -> np.ndarray:
    """Reject schedules, or leavers and parents arrays, the kernel would index out of bounds
    or misread, and chunks that are not positive; returns the parents (None: every household)."""
    if parents is None:
        parents = np.arange(n, dtype=np.int64)
    if n_chunks < 1:
        raise ValueError("n_chunks must be positive")
    ages = (2, L.MAX_AGE + 1)
    if vital.fertility.shape != ages or vital.mortality.shape != ages:
        raise ValueError(f"fertility and mortality must have shape {ages}")
    if vital.leaving.shape != (L.KID_AGES,) or vital.leaving[-1] != 1.0:
        raise ValueError(f"leaving must have {L.KID_AGES} ages, the last with probability 1")
    for name in ("fertility", "mortality", "leaving"):
        arr = getattr(vital, name)
        if arr.dtype != np.float64 or not ((arr >= 0.0) & (arr <= 1.0)).all():
            raise ValueError(f"{name} must be float64 probabilities in [0, 1]")
    parents = check_increasing_indices(parents, n, "parents")
    if leavers.shape != parents.shape or leavers.dtype != np.uint32:
        raise ValueError("leavers must be a uint32 array with one entry per parent household")
    return parents


def household_step(
    key: np.uint64,
    households: dict[str, np.ndarray],
    places: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    n_chunks: int = N_CHUNKS,
    net8: np.ndarray | None = None,
    flows: np.ndarray | None = None,
    *,
    netp: np.ndarray | None = None,
    guide: np.ndarray | None = None,
    sampling_correction: bool = True,
    vital: VitalRates,
    leavers: np.ndarray,
    parents: np.ndarray | None = None,
) -> np.ndarray:
    """Advance every household by one year, in place.

    Parameters
    ----------
    key
        The (seed, year) key from :func:`urbsim.rng.make_year_key`.
    households
        Household arrays by field name (:data:`urbsim.state.FIELDS`); updated in place.
    places
        Per-place values (:data:`urbsim.inputs.PlaceInputs`).
    par
        Behavioural parameters (:data:`urbsim.inputs.Params`).
    access
        Permit holders' service access by place and completed years, ``(n_places, width)``.
    grav_cdf, origin_start, origin_members, net
        Cumulative gravity proposal weights per place of origin
        (:func:`urbsim.kernels.gravity.gravity_rows`); floating households by hukou place
        (``origin_members[origin_start[o]:origin_start[o + 1]]``); floating agent households by
        (hukou place, current place).
    n_chunks
        Chunks of the parallel loop (results do not depend on them).
    net8, netp, guide, flows
        ``net`` saturated at 255 as ``uint8``; floating agent households by (hukou province,
        place); guide tables of ``grav_cdf`` (None: built); output, moves by province pair.
    sampling_correction, vital, leavers, parents
        False drops the sampling correction (only for the test that shows what it does); the
        year's schedules (:class:`~urbsim.dynamics.demography.VitalRates`); output, the ages
        (``uint32`` bits) of the children who left home of each household in ``parents``
        (increasing ``int64``; None: all; those ``households_that_may_leave`` lists, or more).

    Returns
    -------
    StepTally
        The year's counters, indexed by the ``C_*`` constants of the layout, and the
        points-scheme applicants (increasing ``int64`` household indices) for
        :func:`urbsim.kernels.settlement.settle_points`.
    """
    choice = (grav_cdf, origin_start, origin_members, net, net8, netp, guide)
    n = check_step_inputs(households, places, par, access, n_chunks, *choice)
    parents = _check_vital(vital, leavers, parents, n, n_chunks)
    # Chunks go to threads one at a time (households are stored by place, movers denser in some
    # regions); the chunks themselves stay fixed, so results do not change.
    with numba.parallel_chunksize(1):
        counts, applicants = _step(
            key,
            *(households[name] for name in _STEP_FIELDS),
            places,
            par,
            access,
            *_choice_inputs(households, places, par, *choice),
            cached_propensity(par),
            *vital,  # fertility, mortality, leaving
            leavers,
            parents,
            n_chunks,
            *_flow_buffers(places, flows, n_chunks),
            bool(sampling_correction),
        )
    return StepTally(counts, applicants)


def _flow_buffers(
    places: PlaceRecord, flows: np.ndarray | None, n_chunks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed province flow matrices, one per chunk, and the output matrix: ``flows`` (checked:
    int64 ``(provinces, provinces, N_FLOW)``, ``F_*`` of the layout) or a new one."""
    if n_chunks < 1:
        raise ValueError("n_chunks must be positive")
    n_prov = int(places.province.max()) + 1 if places.province.size else 1
    if flows is not None and (
        flows.dtype != np.int64
        or flows.ndim != 3
        or flows.shape[0] != flows.shape[1]
        or flows.shape[0] < n_prov
        or flows.shape[2] != L.N_FLOW
    ):
        raise ValueError("flows must be int64 (provinces, provinces, N_FLOW), every province")
    if flows is None:
        flows = np.zeros((n_prov, n_prov, L.N_FLOW), dtype=np.int64)
    size = flows.shape[0]
    return np.zeros((n_chunks, size, size, L.N_FLOW), dtype=np.int64), flows


def _choice_inputs(
    households: dict[str, np.ndarray],
    places: PlaceRecord,
    par: ParamsRecord,
    grav_cdf: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    net: np.ndarray,
    net8: np.ndarray | None,
    netp: np.ndarray | None,
    guide: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """What the destination choice of :func:`_step` reads, in its argument order (from
    ``grav_cdf`` to ``tab``), built where the caller did not give it."""
    # Start-of-year places of earlier migrants, in the origin index's order: network draws read
    # them, so the choice never reads a household that may have moved.
    origin_places = households["place"][origin_members]
    if guide is None:
        n = households["place"].shape[0]
        guide = gravity_guide(grav_cdf, guide_buckets(n, grav_cdf.shape[0]))
    if netp is None:
        netp = province_network(origin_start, origin_places, places.province)
    return (
        grav_cdf,
        guide,
        origin_start,
        origin_places,
        net,
        saturate(net) if net8 is None else net8,
        netp,
        cached_network_log(par.households_per_agent),
        choice_table(places, par),
    )


#: Household fields :func:`_step` takes, in its argument order.
_STEP_FIELDS = (
    "place",
    "zone",
    "hukou_place",
    "hukou_type",
    "years_here",
    "permit",
    "head_age",
    "kids",
    "children",
    "land",
    "persons",
    "years_away",
    "left_behind",
    "match",
)
