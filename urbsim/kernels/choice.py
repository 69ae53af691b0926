"""The destination choice's per-alternative helpers, inlined into the household step.

A mover's choice set holds fixed alternatives (stay, return to the hukou place, the urban zone
of the current place, the urban zone of the hukou place for a household away from a rural home)
and ``K`` = ``par.candidates`` candidate draws, each from a mixture of the
migrant network of its hukou place (share ``s`` = ``network_sampling_share``, when that place
has migrants) and the gravity proposal of its current place (:mod:`urbsim.kernels.gravity`):

    q_j = s * n_hj / n_h + (1 - s) * g_ij        (or g_ij when no one from h lives away).

The choice is the multinomial logit over the fixed alternatives and the distinct sampled places,
with a sampled place ``j`` drawn ``c_j`` times weighted ``c_j exp(V_j) / (K q_j)``, i.e. utility
``V_j - ln q_j + ln c_j - ln K`` (McFadden 1978). Its sum over the sampled places estimates
without bias the sum of ``exp(V_j)`` over every place outside the fixed alternatives, so the
choice reproduces the full-choice-set logit up to the error of a ratio estimate, which falls as
``1/K`` (``docs/ODD.md`` section 7.12; :mod:`urbsim.analysis.choice_check` measures it). Draws
that land on a fixed alternative add nothing (that alternative is already in the set with its
exact weight) but count in ``K``.

Every function here runs once per alternative of every mover; they are inlined into the kernel
(``JIT_INLINE``) and the reference engine repeats their arithmetic in the same order.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT, JIT_INLINE
from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.kernels.gravity import distance_km, gravity_share

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "66f15d0c0f0ca980"

_URBAN = 1

# Columns of the per-place table of the choice (one 88-byte row per place, about one cache line
# per alternative).
T_URBAN = 0  # utility of the urban zone from income, housing cost and amenity
T_RURAL = 1  # the same for the rural zone (no amenity term)
T_QUALITY = 2
T_LAT = 3
T_LON = 4
T_COSLAT = 5
T_PROVINCE = 6  # province index, as a float (exact for any int below 2**53)
T_SIZE = 7  # beta_size * ln(urban residents / size_reference): the aggregate-alternative term
T_SCHOOL = 8  # school access of non-hukou children (1 unless a population cap restricts it)
# Destination constants (urbsim.dynamics.destination_constants) of movers from the province
# (T_ENTRY) and from other provinces (T_ENTRY + 1).
T_ENTRY = 9
N_T = 11


@njit(**JIT)
def choice_table(pl: PlaceRecord, par: ParamsRecord) -> np.ndarray:
    """What the utility of an alternative reads of its place, one row per place (columns
    ``T_*``); the reference engine computes each term with the same operations."""
    n = pl.quality.shape[0]
    out = np.zeros((n, N_T))
    log_ref = math.log(par.size_reference)
    for j in range(n):
        v = par.beta_income * pl.log_income_urban[j]
        v -= par.beta_housing * pl.log_cost_urban[j]
        v += par.beta_amenity * pl.amenity[j]
        out[j, T_URBAN] = v
        v = par.beta_income * pl.log_income_rural[j]
        v -= par.beta_housing * pl.log_cost_rural[j]
        out[j, T_RURAL] = v
        out[j, T_QUALITY] = pl.quality[j]
        out[j, T_LAT] = pl.lat[j]
        out[j, T_LON] = pl.lon[j]
        out[j, T_COSLAT] = pl.coslat[j]
        out[j, T_PROVINCE] = pl.province[j]
        out[j, T_SIZE] = par.beta_size * (pl.log_size[j] - log_ref)
        out[j, T_SCHOOL] = pl.school_access[j]
        out[j, T_ENTRY] = pl.entry_within[j]
        out[j, T_ENTRY + 1] = pl.entry_across[j]
    return out


@njit(**JIT)
def network_log(hpa: float, size: int) -> np.ndarray:
    """``log1p(k * hpa)`` for ``k < size``: the network term of the utility without a logarithm
    per alternative (``k`` converted to float first, as the term does)."""
    out = np.empty(size)
    for k in range(size):
        out[k] = math.log1p(k * hpa)
    return out


@njit(**JIT_INLINE)
def log_network(nk: int, net_log: np.ndarray, hpa: float) -> float:
    """``log1p(nk * hpa)``, from the table when ``nk`` is small."""
    if nk < net_log.shape[0]:
        return net_log[nk]
    return math.log1p(nk * hpa)


@njit(**JIT_INLINE)
def distance_cost(cur: int, j: int, tab: np.ndarray, par: ParamsRecord) -> float:
    """Deterrence of a move from ``cur`` to another place ``j``: log distance above the floor
    plus the province border."""
    d = distance_km(
        tab[cur, T_LAT], tab[cur, T_LON], tab[cur, T_COSLAT], tab[j, T_LAT], tab[j, T_LON]
    )
    floor = par.distance_floor_km
    c = par.beta_distance * math.log(max(d, floor) / floor)
    # Without a branch (the border is crossed or not at random): adding ``beta * 0.0 = +0.0``
    # leaves ``c`` unchanged to the bit (the betas are finite).
    c += par.beta_province * (tab[j, T_PROVINCE] != tab[cur, T_PROVINCE])
    return c


@njit(**JIT_INLINE)
def utility(
    j: int,
    zj: int,
    aggregate: bool,
    cur: int,
    z: int,
    home: int,
    acc: float,
    child_factor: float,
    tab: np.ndarray,
    par: ParamsRecord,
    network: float,
) -> float:
    """Systematic utility of living in zone ``zj`` of place ``j``, without the return terms;
    ``aggregate`` for an alternative that stands for the place's urban zone as a whole (the
    local and home towns and the candidates); ``network`` the migrant-network term; see docs/ODD.md.
    A return to the hukou place ``home`` pays no distance or border cost: what distance
    deters, unknown places and social distance, a return does not meet; nor does it get the
    destination constant of movers arriving (by whether ``j`` lies in ``cur``'s province),
    which every other alternative gets, staying where a household lives away included. A
    household away pays ``moving_cost_away_share`` of the moving cost.
    Every alternative outside ``home``'s province pays ``beta_outside_province``."""
    # Zone columns: T_RURAL = 0 + 1 - zone.
    v = tab[j, T_RURAL - zj]
    v += par.beta_service * acc * tab[j, T_QUALITY] * child_factor
    if aggregate:
        v += tab[j, T_SIZE]
    if j != home:
        if j != cur:
            v -= distance_cost(cur, j, tab, par)
        # The place's pull holds those who live there as it draws those who come: staying
        # away (j == cur, the within scope) keeps it, so a move on gains only a difference.
        v += tab[j, T_ENTRY + int(tab[j, T_PROVINCE] != tab[cur, T_PROVINCE])]
    if j != cur or zj != z:
        v -= par.moving_cost * (par.moving_cost_away_share if cur != home else 1.0)
    # A cost of where one lives (examinations, insurance pool), not of the move: staying
    # outside the hukou province pays it too, so migrants there are drawn back towards it.
    v -= par.beta_outside_province * (tab[j, T_PROVINCE] != tab[home, T_PROVINCE])
    v += network
    return v


@njit(**JIT_INLINE)
def network_term(nk: int, npk: int, net_log: np.ndarray, par: ParamsRecord) -> float:
    """Chain migration: the log of the households from the same hukou place (``nk`` agents) and
    from the same hukou province (``npk`` agents) living at the destination."""
    hpa = par.households_per_agent
    v = par.beta_network * log_network(nk, net_log, hpa)
    v += par.beta_network_province * log_network(npk, net_log, hpa)
    return v


@njit(**JIT_INLINE)
def own_network_term(nk: int, npk: int, n_origin: int, par: ParamsRecord) -> float:
    """The network terms at the place where a household lives away, from the last count, which
    holds its own agent (``nk`` agents from its hukou place there, ``npk`` from its hukou
    province, ``n_origin`` from its hukou place anywhere away, its own included).

    Its agent's ``m - 1`` other households are not neighbours of the household: they are copies
    only because the agents are coarse, and in the population they live where the hukou place's
    migrants live. They count at the share of the hukou place's agents living here, its own
    included (``nk / n_origin``, the coarse world's estimate of where its migrants are), every
    other agent as ``m`` households; at one household per agent (or fewer) the other
    households. A household alone at its destination gets ``ln(1 + (m - 1) / n_origin)``:
    ``ln(m)`` when its agent is its hukou place's only one, as when the copies counted as
    neighbours (``ln(1 + m)``, 8.3 at 4000 households per agent; docs/ODD.md 7.13), less the
    more agents its hukou place has elsewhere. The provincial term counts the other agents."""
    m = par.households_per_agent
    others = max(nk - 1, 0)
    # The copies are no fewer than none at a scale below one household per agent.
    copies = max(m - 1.0, 0.0) * nk / max(n_origin, 1)
    v = par.beta_network * math.log1p(others * m + copies)
    v += par.beta_network_province * math.log1p(max(npk - 1, 0) * m)
    return v


@njit(**JIT_INLINE)
def proposal_probability(
    j: int, grav_cdf: np.ndarray, cur: int, nk: int, n_origin: int, share: float
) -> float:
    """Probability that one candidate draw proposes place ``j``: the mixture of the network
    draw (``nk`` of the ``n_origin`` migrants from the hukou place live at ``j``) and the
    gravity draw on the current place's row ``grav_cdf[cur]``."""
    g = gravity_share(grav_cdf, cur, j)
    if n_origin > 0:
        return share * (nk / n_origin) + (1.0 - share) * g
    return g


@njit(**JIT_INLINE)
def add_candidate(
    j: int,
    n_fixed: int,
    n_alt: int,
    alt_place: np.ndarray,
    alt_zone: np.ndarray,
    alt_cnt: np.ndarray,
) -> int:
    """Put the urban zone of place ``j`` into the choice set: nothing if it is a fixed
    alternative, one more draw if already sampled, else a new alternative drawn once.
    Returns the new number of alternatives."""
    for a in range(n_alt):
        if alt_place[a] == j and alt_zone[a] == _URBAN:
            if a >= n_fixed:
                alt_cnt[a] += 1
            return n_alt
    alt_place[n_alt] = j
    alt_zone[n_alt] = _URBAN
    alt_cnt[n_alt] = 1
    return n_alt + 1


@njit(**JIT_INLINE)
def logit_pick(
    u: float,
    n_fixed: int,
    n_alt: int,
    n_draws: int,
    alt_v: np.ndarray,
    alt_cnt: np.ndarray,
    alt_q: np.ndarray,
    correct: bool,
) -> int:
    """Index of the alternative the uniform ``u`` picks from the logit weights: ``exp(V)`` for
    fixed alternatives, ``c exp(V) / (K q)`` for a sampled one drawn ``c`` times out of ``K``
    draws with proposal probability ``q`` (``exp(V)`` each without ``correct``, the uncorrected
    rule that tests hold it against). ``alt_v`` is overwritten with the weights."""
    vmax = -np.inf
    for a in range(n_alt):
        if alt_v[a] > vmax:
            vmax = alt_v[a]
    total = 0.0
    for a in range(n_alt):
        w = math.exp(alt_v[a] - vmax)
        if a >= n_fixed and correct:
            w = w * alt_cnt[a] / (n_draws * alt_q[a])
        alt_v[a] = w
        total += w
    target = u * total
    cum = 0.0
    for a in range(n_alt):
        cum += alt_v[a]
        if target < cum:
            return a
    return n_alt - 1


#: Head's age (years) at which the age term of the home attachment is zero; any other reference
#: would shift ``home_preference`` alone.
HOME_AGE_REFERENCE = 30.0


@njit(**JIT_INLINE)
def home_age_term(age: int, par: ParamsRecord) -> float:
    """Attachment to the hukou place that grows with the head's age, beyond the constant
    ``home_preference``, for a household away (the age part of :func:`return_term`):
    ``home_age`` per year above :data:`HOME_AGE_REFERENCE` (negative below it). At home,
    :func:`stay_term`."""
    return par.home_age * (age - HOME_AGE_REFERENCE)


@njit(**JIT_INLINE)
def stay_term(age: int, par: ParamsRecord) -> float:
    """The age part of the attachment to the hukou place for a household living there:
    ``home_age`` per year below :data:`HOME_AGE_REFERENCE` (negative: the young are readier to
    leave) and ``stay_age`` per year above it (the attachment of those who stay)."""
    years = age - HOME_AGE_REFERENCE
    return par.home_age * min(years, 0.0) + par.stay_age * max(years, 0.0)


@njit(**JIT_INLINE)
def return_term(
    age: int, years_away: int, unemployed: bool, left_behind: int, par: ParamsRecord
) -> float:
    """Utility of going back to the hukou place for a household that lives away, beyond the
    attachment ``home_preference`` every alternative there has: the age term
    (:func:`home_age_term`), minus the log of one plus the completed years away, a head
    without a job this year, school-age children left behind (see docs/ODD.md)."""
    v = home_age_term(age, par)
    v -= par.return_years_away * math.log1p(years_away)
    # Without branches: adding ``beta * 0.0 = +0.0`` leaves ``v`` unchanged to the bit.
    v += par.return_unemployed * unemployed
    v += par.return_left_behind * left_behind
    return v


@njit(**JIT_INLINE)
def return_hazard(
    age: int, years_away: int, unemployed: bool, left_behind: int, par: ParamsRecord
) -> float:
    """Yearly probability that a household living away goes home outside its move decision:
    the logistic of ``ln(return_rate / (1 - return_rate))`` (the hazard of a head of 30 in the
    first year away, with a job and no children left behind) plus the hazard's own terms in
    log odds: ``return_hazard_age`` per year of the head's age above 30, minus
    ``return_hazard_years_away`` times the log of one plus the completed years away, plus
    ``return_hazard_unemployed`` for a head without a job this year and
    ``return_hazard_left_behind`` with school-age children left behind. 0 when
    ``return_rate`` is 0.

    The terms are the hazard's own, not the return utility's (:func:`return_term`): that
    utility weighs going home against destinations whose pulls (migrant networks, moving
    costs) are of some ten utils, and the same numbers as log odds of a yearly hazard sent
    half the migrants home in a year (the calibration of 2026-12-05, docs/ODD.md 7.13)."""
    if par.return_rate <= 0.0:
        return 0.0
    x = math.log(par.return_rate / (1.0 - par.return_rate))
    x += par.return_hazard_age * (age - HOME_AGE_REFERENCE)
    x -= par.return_hazard_years_away * math.log1p(years_away)
    # Without branches: adding ``beta * 0.0 = +0.0`` leaves ``x`` unchanged to the bit.
    x += par.return_hazard_unemployed * unemployed
    x += par.return_hazard_left_behind * left_behind
    # The logistic of x without overflow: exp of a non-positive number only.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(**JIT_INLINE)
def left_behind_share(hukou_type: int, par: ParamsRecord) -> float:
    """Probability that a household leaving its hukou place with school-age children leaves
    them there, by hukou type (0 agricultural)."""
    if hukou_type == 0:
        return par.left_behind_agricultural
    return par.left_behind_nonagricultural
