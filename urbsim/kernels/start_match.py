"""The matches of the start year's migrants with the places they live at (docs/ODD.md 5).

A floating household of the start year lives where the census (or the synthetic world) put it,
by choices the run never made, so its match with its place (:mod:`urbsim.kernels.place_match`)
cannot be a draw of its own choice. Drawn from the standard normal, the stock would hold places
it would not have chosen and leave them in the first years; drawn as a mover's (the normal of
mean ``sd``), it would still leave where the model's other terms prefer its home by far more
than a match gives. This is the initial conditions problem of dynamic models with persistent
unobserved heterogeneity (Heckman 1981, "The incidental parameters problem and the problem of
initial conditions in estimating a discrete time-discrete data stochastic process"; Wooldridge
2005, Journal of Applied Econometrics 20(1)): the unobserved part of the start state is drawn
from its distribution given the observed part, here the household's being away.

That distribution is the one a stock of movers reaches when its yearly inflow grows at the rate
``growth`` and each member leaves at its own rate. Movers arrive with matches from the normal of
mean ``sd`` (the logit's selection of the draws of the chosen place, for a destination chosen
with a small probability); a member with match ``x`` leaves in a year by the return hazard
``r`` (:func:`urbsim.kernels.choice.return_hazard`) or, kept by it, by considering a move
(probability ``p``, :func:`urbsim.kernels.household_step.move_propensity`) and choosing to go
home or on rather than stay, ``1 / (1 + exp(sd x - D))`` with ``exp(D)`` the logit weight of
going home and of every other place against that of staying (without the match); so the stock
holds matches with the density

    phi(x - sd) / (growth + r + (1 - r) p / (1 + exp(sd x - D)))        (up to a constant),

each member's rates at the start with a job. It is sampled by rejection: a proposal from the
normal of mean ``sd`` rounded to a level (:data:`urbsim.kernels.layout.MATCH_STEP`) is accepted
with probability ``(growth + r) / (growth + r + (1 - r) p / (1 + exp(sd x - D)))``, the ratio of
its weight
to the largest; at most :data:`~urbsim.kernels.layout.START_MATCH_TRIES` proposals, the last
kept if none is accepted. The weight of the places other than home is estimated as the choice
estimates it (:mod:`urbsim.kernels.choice`): :data:`START_CANDIDATES` draws from the mixture of
the hukou place's migrant network and the current place's gravity proposal, each weighted
``exp(V) / (K q)`` and by ``exp(sd**2 / 2)``, the mean weight of a fresh match (each place
weighed comes with a draw of its own); the draws are the household's, keyed by the seed.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import JIT_INLINE, JIT_PARALLEL, N_CHUNKS
from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.kernels import layout as L
from urbsim.kernels.choice import (
    T_SCHOOL,
    choice_table,
    network_term,
    own_network_term,
    proposal_probability,
    return_hazard,
    return_term,
    utility,
)
from urbsim.kernels.gravity import sample_gravity
from urbsim.kernels.household_step import (
    AWAY_ROW,
    cached_network_log,
    cached_propensity,
    check_step_inputs,
    service_access,
)
from urbsim.kernels.place_match import match_level
from urbsim.rng import draw_bits, make_year_key, pair_from_bits

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "fe1534286e0b20a5"

#: Candidate draws of the estimate of the weight of the places other than home and the current
#: one (slots ``DRAW_START_CANDIDATE0 + k`` of the start draws).
START_CANDIDATES: Final = 32

_RURAL = 0
_URBAN = 1
_AGRI = 0
_NONAGRI = 1


@njit(**JIT_INLINE)
def _log_sum_add(top: float, total: float, a: float) -> tuple[float, float]:
    """A log-sum-exp kept as its largest term and the sum of the exp of the differences to it,
    with the term ``a`` added."""
    if a > top:
        return a, total * math.exp(top - a) + 1.0
    return top, total + math.exp(a - top)


@njit(**JIT_INLINE)
def _leaving_over_stay(
    key: np.uint64,
    i: int,
    cur: int,
    home: int,
    zone: np.ndarray,
    hukou_type: np.ndarray,
    land: np.ndarray,
    permit: np.ndarray,
    years_here: np.ndarray,
    head_age: np.ndarray,
    children: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    net: np.ndarray,
    netp: np.ndarray,
    origin_start: np.ndarray,
    net_log: np.ndarray,
    tab: np.ndarray,
    grav_cdf: np.ndarray,
    guide: np.ndarray,
    origin_places: np.ndarray,
) -> float:
    """``D``: the log of the logit weights of going home and of moving on, against staying, for
    a household living away with a job, without its match (as the household step's choice
    weighs them: the urban zone of the current place, in the rural zone, with staying, the
    county town of a rural home with going home, the other places by
    :data:`START_CANDIDATES` sampled draws, see the module's text)."""
    z = np.int64(zone[i])
    zh = _RURAL if (hukou_type[i] == _AGRI and land[i] == 1) else _URBAN
    child_weight = par.child_service_weight * children[i]
    away_weight = 0.0 if left_behind[i] == 1 else child_weight
    home_prov = pl.province[home]
    n_origin = origin_start[home + 1] - origin_start[home]
    years = np.int64(years_here[i])
    acc = service_access(
        cur, home, cur, np.int64(permit[i]), years, access, par.service_base_access
    )
    nt = own_network_term(np.int64(net[home, cur]), np.int64(netp[home_prov, cur]), n_origin, par)
    cf = 1.0 + away_weight * tab[cur, T_SCHOOL]
    stay = utility(cur, z, False, cur, z, home, acc, cf, tab, par, nt)
    if z == _RURAL:
        # Its town shares the place's match: it counts with staying.
        town = utility(cur, _URBAN, True, cur, z, home, acc, cf, tab, par, nt)
        stay = max(stay, town) + math.log1p(math.exp(-abs(stay - town)))
    nt = network_term(np.int64(net[home, home]), np.int64(netp[home_prov, home]), net_log, par)
    own = par.home_preference + return_term(
        np.int64(head_age[i]), np.int64(years_away[i]), False, np.int64(left_behind[i]), par
    )
    back = utility(home, zh, False, cur, z, home, 1.0, 1.0 + child_weight, tab, par, nt) + own
    # The log-sum-exp of the leaving alternatives, from going home.
    top = back - stay
    total = 1.0
    if zh == _RURAL:
        town = utility(home, _URBAN, True, cur, z, home, 1.0, 1.0 + child_weight, tab, par, nt)
        top, total = _log_sum_add(top, total, town + own - stay)
    share = par.network_sampling_share
    first = origin_start[home]
    fresh = 0.5 * par.place_match_sd * par.place_match_sd
    for k in range(START_CANDIDATES):
        u_src, u_pick = pair_from_bits(
            draw_bits(key, np.uint64(i), np.uint64(L.DRAW_START_CANDIDATE0 + k))
        )
        if u_src < share and n_origin > 0:
            j = np.int64(origin_places[first + int(u_pick * n_origin)])
        else:
            j = np.int64(sample_gravity(grav_cdf, guide, cur, u_pick))
        if j == cur or j == home:
            continue
        nk = np.int64(net[home, j])
        nt = network_term(nk, np.int64(netp[home_prov, j]), net_log, par)
        cf = 1.0 + away_weight * tab[j, T_SCHOOL]
        v = utility(j, _URBAN, True, cur, z, home, par.service_base_access, cf, tab, par, nt)
        q = proposal_probability(j, grav_cdf, cur, nk, n_origin, share)
        top, total = _log_sum_add(top, total, v - stay - math.log(START_CANDIDATES * q) + fresh)
    return top + math.log(total)


#: Household fields :func:`_conditional_levels` takes, in its argument order.
_START_FIELDS = (
    "place",
    "zone",
    "hukou_place",
    "hukou_type",
    "land",
    "permit",
    "years_here",
    "head_age",
    "children",
    "persons",
    "years_away",
    "left_behind",
)


@njit(**JIT_PARALLEL)
def _conditional_levels(
    key: np.uint64,
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    land: np.ndarray,
    permit: np.ndarray,
    years_here: np.ndarray,
    head_age: np.ndarray,
    children: np.ndarray,
    persons: np.ndarray,
    years_away: np.ndarray,
    left_behind: np.ndarray,
    pl: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    net: np.ndarray,
    netp: np.ndarray,
    origin_start: np.ndarray,
    net_log: np.ndarray,
    tab: np.ndarray,
    propensity: np.ndarray,
    grav_cdf: np.ndarray,
    guide: np.ndarray,
    origin_places: np.ndarray,
    growth: float,
    n_chunks: int,
) -> np.ndarray:
    n = place.shape[0]
    out = np.zeros(n, dtype=np.int8)
    sd = par.place_match_sd
    shift = np.int64(round(sd / L.MATCH_STEP))
    for c in prange(n_chunks):
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            cur = np.int64(place[i])
            home = np.int64(hukou_place[i])
            if persons[i] == 0 or cur == home:
                continue
            rates = growth
            leave = 0.0
            d = 0.0
            if sd != 0.0:
                d = _leaving_over_stay(
                    key, i, cur, home, zone, hukou_type, land, permit, years_here, head_age,
                    children, years_away, left_behind, pl, par, access, net, netp,
                    origin_start, net_log, tab, grav_cdf, guide, origin_places,
                )  # fmt: skip
                age = np.int64(head_age[i])
                years = np.int64(years_here[i])
                group = (age >= 30) + (age >= 45) + (age >= 60)
                leave = propensity[group, years]
                if hukou_type[i] == _NONAGRI:
                    leave = leave * par.move_nonagricultural
                leave = min(leave * propensity[AWAY_ROW, years], 1.0)
                hazard = return_hazard(
                    age, np.int64(years_away[i]), False, np.int64(left_behind[i]), par
                )
                # The hazard comes first in the year: only those it keeps weigh a move.
                rates += hazard
                leave = leave * (1.0 - hazard)
            level = 0
            for k in range(L.START_MATCH_TRIES):
                u_level, u_accept = pair_from_bits(
                    draw_bits(key, np.uint64(i), np.uint64(L.DRAW_START_MATCH + k))
                )
                level = min(max(match_level(u_level) + shift, L.MATCH_MIN), L.MATCH_MAX)
                # The chance of going home on considering a move, by the logistic without
                # overflow (exp of a non-positive number only).
                x = sd * (level * L.MATCH_STEP) - d
                back = (
                    1.0 / (1.0 + math.exp(x)) if x <= 0.0 else math.exp(-x) / (1.0 + math.exp(-x))
                )
                if sd == 0.0 or u_accept * (rates + leave * back) < rates:
                    break
            out[i] = level
    return out


def start_match(
    households: dict[str, np.ndarray],
    places: PlaceRecord,
    par: ParamsRecord,
    access: np.ndarray,
    net: np.ndarray,
    netp: np.ndarray,
    origin_start: np.ndarray,
    origin_members: np.ndarray,
    grav_cdf: np.ndarray,
    guide: np.ndarray,
    seed: int,
    growth: float,
    n_chunks: int = N_CHUNKS,
) -> np.ndarray:
    """The match levels of the start year's households (see the module's text): 0 at the
    hukou place; away, a draw from the stock's distribution given its being away.

    Parameters
    ----------
    households
        Household arrays by field name (:data:`urbsim.state.FIELDS`); not changed.
    places, par, access
        The start year's place inputs, behaviour and permit access schedules, as the household
        step reads them (:data:`urbsim.inputs.YearInputs`).
    net, netp, origin_start, origin_members
        Floating agent households by (hukou place, place) and by (hukou province, place), and
        the origin index of the floating households by hukou place, at the count of the start
        year.
    grav_cdf, guide
        The start year's gravity proposal and its guide tables
        (``UrbanizationModel.gravity_proposal``).
    seed
        The run's seed (the draws are keyed by it and :data:`~urbsim.kernels.layout.LAND_YEAR`).
    growth
        Yearly growth of the inflow of the stock (at least 0; with no hazard and no growth,
        a member of the stock would never leave but by a move, and rejection needs either).
    n_chunks
        Chunks of the parallel loop (the results do not depend on them).

    Returns
    -------
    numpy.ndarray
        ``int8`` levels, one per household.
    """
    # The household step's checks.
    choice = (grav_cdf, origin_start, origin_members, net, None, netp, guide)
    check_step_inputs(households, places, par, access, n_chunks, *choice)
    if not growth >= 0.0:
        raise ValueError(f"growth must be at least 0, got {growth}")
    return _conditional_levels(
        make_year_key(seed, L.LAND_YEAR),
        *(households[name] for name in _START_FIELDS),
        places,
        par,
        access,
        net,
        netp,
        origin_start,
        cached_network_log(par.households_per_agent),
        choice_table(places, par),
        cached_propensity(par),
        grav_cdf,
        guide,
        households["place"][origin_members],
        float(growth),
        int(n_chunks),
    )
