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
``r`` (:func:`urbsim.kernels.choice.return_hazard`) or by considering a move (probability ``p``,
:func:`urbsim.kernels.household_step.move_propensity`) and choosing home over staying,
``1 / (1 + exp(sd x - D))`` with ``D`` the utility of home less that of staying; so the stock
holds matches with the density

    phi(x - sd) / (growth + r + p / (1 + exp(sd x - D)))        (up to a constant),

each member's rates at the start with a job. It is sampled by rejection: a proposal from the
normal of mean ``sd`` (a level, :data:`urbsim.kernels.layout.MATCH_STEP`) is accepted with
probability ``(growth + r) / (growth + r + p / (1 + exp(sd x - D)))``, the ratio of its weight
to the largest; at most :data:`~urbsim.kernels.layout.START_MATCH_TRIES` proposals, the last
kept if none is accepted. Onward moves are left out of the rates (the utility of every other
place would be needed for each member): the matches rationalize the stock's staying away
rather than going home, not its staying rather than moving on.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import JIT_INLINE, JIT_PARALLEL, N_CHUNKS
from urbsim.inputs import ParamsRecord, PlaceRecord, check_place_inputs
from urbsim.kernels import layout as L
from urbsim.kernels.checks import check_households
from urbsim.kernels.choice import (
    T_SCHOOL,
    choice_table,
    network_term,
    own_network_term,
    return_hazard,
    return_term,
    utility,
)
from urbsim.kernels.household_step import (
    AWAY_ROW,
    cached_network_log,
    cached_propensity,
    service_access,
)
from urbsim.kernels.place_match import match_level
from urbsim.rng import draw_bits, make_year_key, pair_from_bits

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "41ca3d0c30490008"

_RURAL = 0
_URBAN = 1
_AGRI = 0
_NONAGRI = 1


@njit(**JIT_INLINE)
def _home_over_stay(
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
) -> float:
    """``D``: the utility of the home alternative less that of staying, for a household living
    away with a job, both without a match (as the household step's choice weighs them)."""
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
    stay = utility(cur, z, False, cur, z, home, acc, 1.0 + away_weight * tab[cur, T_SCHOOL], tab,
                   par, nt)  # fmt: skip
    nt = network_term(np.int64(net[home, home]), np.int64(netp[home_prov, home]), net_log, par)
    back = utility(home, zh, False, cur, z, home, 1.0, 1.0 + child_weight, tab, par, nt)
    back += par.home_preference
    back += return_term(
        np.int64(head_age[i]), np.int64(years_away[i]), False, np.int64(left_behind[i]), par
    )
    return back - stay


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
                d = _home_over_stay(
                    i, cur, home, zone, hukou_type, land, permit, years_here, head_age,
                    children, years_away, left_behind, pl, par, access, net, netp,
                    origin_start, net_log, tab,
                )  # fmt: skip
                age = np.int64(head_age[i])
                years = np.int64(years_here[i])
                group = (age >= 30) + (age >= 45) + (age >= 60)
                leave = propensity[group, years]
                if hukou_type[i] == _NONAGRI:
                    leave = leave * par.move_nonagricultural
                leave = min(leave * propensity[AWAY_ROW, years], 1.0)
                rates += return_hazard(
                    age, np.int64(years_away[i]), False, np.int64(left_behind[i]), par
                )
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
    net, netp, origin_start
        Floating agent households by (hukou place, place) and by (hukou province, place), and
        the start of each hukou place's floating households in the origin index, at the count
        of the start year.
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
    n_places = check_place_inputs(places)
    check_households(households, n_places)
    if not growth >= 0.0:
        raise ValueError(f"growth must be at least 0, got {growth}")
    if net.shape != (n_places, n_places) or origin_start.shape != (n_places + 1,):
        raise ValueError("net must be (n_places, n_places) and origin_start n_places + 1")
    if netp.ndim != 2 or netp.shape[1] != n_places or places.province.max() >= netp.shape[0]:
        raise ValueError("netp must have one column per place and a row per province")
    if access.ndim != 2 or access.shape[0] != n_places or access.shape[1] < 1:
        raise ValueError("access must have one row per place and at least one year")
    if n_chunks < 1:
        raise ValueError("n_chunks must be positive")
    h = households
    return _conditional_levels(
        make_year_key(seed, L.LAND_YEAR),
        h["place"],
        h["zone"],
        h["hukou_place"],
        h["hukou_type"],
        h["land"],
        h["permit"],
        h["years_here"],
        h["head_age"],
        h["children"],
        h["persons"],
        h["years_away"],
        h["left_behind"],
        places,
        par,
        access,
        net,
        netp,
        origin_start,
        cached_network_log(par.households_per_agent),
        choice_table(places, par),
        cached_propensity(par),
        float(growth),
        int(n_chunks),
    )
