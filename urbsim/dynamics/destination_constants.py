"""Destination constants: a place's pull on movers that the observed terms miss, set at the start.

The destination utility (``docs/ODD.md`` 7.13) explains where movers go by income, housing
cost, amenity, services, size, distance, the province border and migrant networks. With any
one set of weights these terms put the start year's movers elsewhere than the census found its
migrants: at the weights the calibration tried, a mover from each place sent by them alone
would put more than half of China's in-migrants in Guangdong, where the 2010 census counted
18 %, and too few in the county economies of Zhejiang, Jiangsu and Fujian. What the terms
miss (the export industries' demand for migrant labour, informal entry costs, information) is
a property of the destination, so it takes constants per place.

Nor do they set how many of a place's in-migrants come from its own province: with the border
and distance terms the calibration tried, nearly all movers stayed in their province. So every
place has two constants, for movers from its province (scope 0) and from others (scope 1),
found as in Berry (1994, "Estimating discrete-choice models of product differentiation", RAND
Journal of Economics 25(2)): the constants ``delta_j^s`` are those for which movers leaving
each place ``i`` in proportion to its out-migrants ``o_i``, and choosing among the other places
by the logit of ``V_ij + delta_j^s(i,j)``, arrive at every place from each scope in proportion
to its in-migrants of that scope ``m_j^s`` (the start year's stock):

    sum_{i: s(i,j) = s} o_i P_ij(delta) / sum_i o_i = m_j^s / sum_{k,r} m_k^r.

Berry's contraction ``delta <- delta + ln(observed share) - ln(predicted share)`` finds them;
it is the iterative proportional fitting of a gravity model's destination factors
(:mod:`urbsim.world.census_origins` fits the 2010 stock the same way). On the census world it
crawls, so :func:`_solve` starts it from the best constants per province and scope and ends
with Newton steps of each province's constants for its own movers. The shares fix the
constants up to a common level, which is chosen so that the movers' mean inclusive value (the
log-sum of their destination utilities, weighted by ``o_i``) is what it is without constants:
the constants change where movers go, not how attractive moving is on average.

``V_ij`` is the utility of a candidate destination ``j`` for a household living at its hukou
place ``i`` (the kernel's :func:`urbsim.kernels.choice.utility` without the terms every
destination shares: the moving cost and the household's own terms), with service access at its
base level and no school-age children. Network counts are those of the start year's households.
For such a household the province border and living outside the hukou province fall on the
same destinations, so ``V_ij`` takes both at once (``beta_province + beta_outside_province``).

Every function here is pure; :class:`urbsim.model.UrbanizationModel` calls
:func:`fit_constants` once, before the first year, on :func:`sending_weights` (the weights
``exp(V - row max)`` of :func:`mover_utilities` for the places that send, computed by a
compiled kernel row by row; :func:`berry_constants` takes the NumPy matrix itself).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.kernels.mover_weights import mover_weights
from urbsim.world.base import EARTH_RADIUS_KM

#: What the error says when the solution stops short (a calibration rules such a set out).
NOT_CONVERGED: Final[str] = "destination constants did not converge"
#: Largest absolute error of the log predicted share of a place-scope pair at which the
#: contraction stops (shares right to a ten-millionth of themselves).
TOLERANCE: Final[float] = 1e-7
#: Evaluations of the shares after which the solution stops (20-300 on the census world):
#: with the best point if its largest log error is below ACCEPTABLE, else with an error.
MAX_ITERATIONS: Final[int] = 2000
#: Largest log error of a share accepted when the contraction stalls short of TOLERANCE (a
#: hundredth of a per cent): the pairs without in-migrants of a coarse world can make the
#: shares unattainable exactly at the level of ZERO_SHARE.
ACCEPTABLE: Final[float] = 1e-4
#: Earlier steps that Anderson acceleration combines.
MEMORY: Final[int] = 10
#: Largest accelerated step, in plain steps (the largest constant's change).
STEP_CAP: Final[float] = 10.0
#: Share of the in-migrants that the place-scope pairs without any (a coarse world's empty
#: places) are given together.
ZERO_SHARE: Final[float] = 1e-6
#: Iterations over which the contraction must halve its best error once that is acceptable.
_WINDOW: Final[int] = 200
#: Largest log error of a share at which the solution first turns from Berry's step to the
#: within-province Newton step (:func:`_solve`). From 0.01, as until 2026-12-06, Berry's step
#: took 60-90 % of the evaluations; from 0.3 the Newton stage converges at most census points
#: and runs away at some (from 1, at many).
HANDOVER: Final[float] = 0.3
#: Evaluations of one within-province Newton stage at most (20-60 where it converges on the
#: census world, some 150 at a few sets): past them Berry's step goes on from the better
#: point to a tenth of the handover error, and a Newton stage starts again from there. 0:
#: Berry's step alone. 60 until 2026-12-06 night, when a calibration set failed to converge
#: (its second Newton stage cut short, then Berry's step crawled to the evaluations' end).
_NEWTON_BUDGET: Final[int] = 100
#: Newton stages in all at most (three restarts), the last with every evaluation left; then
#: Berry's step alone to the tolerance if any are left.
_NEWTON_STAGES: Final[int] = 4
#: A Berry stage between Newton stages stops where its best error has not fallen below this
#: share of what it was :data:`_WINDOW` evaluations before: crawling (at 2.8e-4 for 1,832
#: evaluations at a set of 2026-12-06), not slow (0.3 to 0.027 in 946 at another, where
#: Newton's step ran away from 0.15: a factor 0.6 a window).
_BERRY_CRAWL: Final[float] = 0.9
#: Levenberg-Marquardt damping of the within-province Newton step, a share of Berry's
#: curvature: it bounds the step where the Hessian block is all but singular.
_DAMPING: Final[float] = 0.01
#: Newton steps of the province-by-scope start at most (it takes 5-20 on the census world).
_COARSE_STEPS: Final[int] = 50
#: Origins whose utilities are computed at once.
_BLOCK: Final[int] = 256
#: Sending rows of the across matrix read at once by :func:`_terms_and_arrivals` (so that
#: their second use is read from the cache: 64 rows of the census world take 1.5 MB).
_PASS_ROWS: Final[int] = 64


def destination_terms(par: ParamsRecord, places: PlaceRecord) -> np.ndarray:
    """``(n,)`` the part of :func:`mover_utilities` that is the destination's alone (util):
    income, housing cost, amenity, services at their base access, size."""
    b, pl = par, places
    return (
        b.beta_income * pl.log_income_urban
        - b.beta_housing * pl.log_cost_urban
        + b.beta_amenity * pl.amenity
        + b.beta_service * b.service_base_access * pl.quality
        + b.beta_size * (pl.log_size - math.log(b.size_reference))
    )


def _border(par: ParamsRecord) -> float:
    """What a destination in another province costs a mover living at its hukou place: the
    border crossed and, for a place outside the hukou province, living there (the same
    places for such a mover)."""
    return float(par.beta_province + par.beta_outside_province)


def sending_weights(
    par: ParamsRecord,
    places: PlaceRecord,
    network: np.ndarray,
    network_province: np.ndarray,
    origins: np.ndarray,
) -> np.ndarray:
    """``exp(V_ij - max_k V_ik)`` of :func:`mover_utilities` for the places ``i`` with
    ``origins > 0`` (in order) and every destination ``j``: the weights
    :func:`fit_constants` takes, by the compiled kernel
    (:func:`urbsim.kernels.mover_weights.mover_weights`) instead of the whole matrix."""
    b, pl = par, places
    return mover_weights(
        np.flatnonzero(np.asarray(origins) > 0),
        destination_terms(par, places),
        pl.lat,
        pl.lon,
        pl.coslat,
        pl.province,
        network,
        network_province,
        b.beta_distance,
        b.distance_floor_km,
        _border(par),
        b.beta_network,
        b.beta_network_province,
        b.households_per_agent,
    )


def mover_utilities(
    par: ParamsRecord, places: PlaceRecord, network: np.ndarray, network_province: np.ndarray
) -> np.ndarray:
    """Utility of each destination ``j`` for a mover living at its hukou place ``i``.

    Parameters
    ----------
    par
        The :data:`urbsim.inputs.Params` record.
    places
        The :data:`urbsim.inputs.PlaceInputs` of the start year.
    network
        Floating agents by hukou place (rows) and current place (columns).
    network_province
        Floating agents by hukou province (rows) and current place (columns).

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` float64, row ``i`` the origin, column ``j`` the destination, ``-inf`` on the
        diagonal (staying is not a destination).
    """
    b, pl = par, places
    attraction = destination_terms(par, places)
    n = attraction.shape[0]
    floor, hpa = b.distance_floor_km, b.households_per_agent
    netp = np.asarray(network_province)
    v = np.empty((n, n))
    # By blocks of origins: a few temporaries of a block each instead of several n-by-n ones.
    for lo in range(0, n, _BLOCK):
        i = slice(lo, min(lo + _BLOCK, n))
        # The kernel's distance (urbsim.kernels.gravity.distance_km): the local flat
        # approximation at the origin's latitude.
        dy = pl.lat[None, :] - pl.lat[i, None]
        dx = (pl.lon[None, :] - pl.lon[i, None]) * pl.coslat[i, None]
        d = EARTH_RADIUS_KM * np.sqrt(dy * dy + dx * dx)
        block = attraction[None, :] - b.beta_distance * np.log(np.maximum(d, floor) / floor)
        block -= _border(par) * (pl.province[i, None] != pl.province[None, :])
        block += b.beta_network * np.log1p(network[i].astype(np.float64) * hpa)
        block += b.beta_network_province * np.log1p(netp[pl.province[i]].astype(np.float64) * hpa)
        v[i] = block
    np.fill_diagonal(v, -np.inf)
    return v


class _Split(NamedTuple):
    """``exp(V - row max)`` of the sending places split by scope: ``across`` the ``(r, n)``
    matrix of destinations in other provinces (zero inside the origin's), ``blocks`` for every
    province its sending rows, its places and the matrix between them (the within scope)."""

    across: np.ndarray
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _split(e: np.ndarray, origin_province: np.ndarray, province: np.ndarray) -> _Split:
    """:class:`_Split` of ``e`` (overwritten: it becomes ``across``). Kept apart, the within
    blocks cost a thirtieth of a full matrix product each step, and neither scope's sum is
    the difference of two large ones."""
    blocks = []
    for p in np.unique(origin_province):
        rows = np.flatnonzero(origin_province == p)
        cols = np.flatnonzero(province == p)
        blocks.append((rows, cols, e[np.ix_(rows, cols)]))
        e[np.ix_(rows, cols)] = 0.0
    return _Split(e, blocks)


def _arrivals(e: _Split, c: np.ndarray) -> np.ndarray:
    """``(2, n)``: ``sum_i c_i e[s, i, j]`` for the scopes ``s``."""
    within = np.zeros(e.across.shape[1])
    for rows, cols, block in e.blocks:
        within[cols] = c[rows] @ block
    return np.stack([within, c @ e.across])


def _log_sum_terms(e: _Split, w: np.ndarray) -> np.ndarray:
    """``sum_s sum_j e[s, i, j] w[s, j]`` for every row ``i``."""
    terms = e.across @ w[1]
    for rows, cols, block in e.blocks:
        terms[rows] += block @ w[0, cols]
    return terms


def _terms_and_arrivals(e: _Split, w: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_log_sum_terms` of ``w`` and :func:`_arrivals` of ``o`` over them, in one pass
    over the across matrix: a row's log-sum term is all its arrivals need, so each block of
    :data:`_PASS_ROWS` rows is used twice while it is in the cache (the matrix, 64 MB on the
    census world, is read once an evaluation instead of twice: a third less time)."""
    terms = np.zeros(e.across.shape[0])
    for rows, cols, block in e.blocks:
        terms[rows] = block @ w[0, cols]
    across = np.zeros(e.across.shape[1])
    for lo in range(0, terms.shape[0], _PASS_ROWS):
        rows = slice(lo, lo + _PASS_ROWS)
        part = e.across[rows]
        terms[rows] += part @ w[1]
        across += (o[rows] / terms[rows]) @ part
    within = np.zeros(e.across.shape[1])
    for rows, cols, block in e.blocks:
        within[cols] = (o[rows] / terms[rows]) @ block
    return terms, np.stack([within, across])


def _checked(
    province: np.ndarray, origins: np.ndarray, in_migrants: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The stock of :func:`berry_constants` as float64, or a ValueError naming what is wrong."""
    o = np.asarray(origins, dtype=np.float64)
    m = np.asarray(in_migrants, dtype=np.float64)
    n = o.shape[0]
    if m.shape != (2, n) or np.shape(province) != (n,):
        raise ValueError(
            f"province {np.shape(province)}, origins {o.shape}, in_migrants {m.shape}: "
            "expected (n,), (n,), (2, n)"
        )
    for name, arr in (("origins", o), ("in_migrants", m)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
            raise ValueError(f"{name} must be finite, non-negative and not all zero")
    return o, m


class UnattainableShares(ValueError):
    """The in-migrants asked are out of reach of any constants: the stock, not the weights."""


def _unattainable(
    o: np.ndarray, m: np.ndarray, province: np.ndarray, codes: np.ndarray, places: np.ndarray
) -> str | None:
    """Why the places cannot send what ``m`` asks, if a necessary condition fails, else None.

    A province's movers who stay in it are its in-migrants from the province, so it sends the
    rest of its out-migrants to other provinces. No flows, let alone a logit's, give a place
    more in-migrants from its province than its province's other places have out-migrants, a
    province more than its own out-migrants, or more in-migrants from other provinces than the
    others send out (with every province's within-province flows free, these bounds are also
    enough for flows). With finite utilities the constants scale a positive matrix to given
    margins, which is possible whenever flows with every pair positive meet them (Brualdi
    1968, "Convex sets of non-negative matrices", Canadian Journal of Mathematics 20): past
    this check the solution fails only by its budget, where the constants needed are
    extreme. The logit gives every destination a positive probability, so on a bound the
    shares are met only within :data:`ACCEPTABLE`, by constants that send next to nobody the
    other way (a province of the households' own stock that sends no one out is on one);
    beyond it by more than that, never. Checked in shares, as the solution matches them.
    """
    o = o / o.sum()
    m = m / m.sum()
    k = int(province.max()) + 1
    out = np.bincount(province, o, k)
    stay = np.bincount(province, m[0], k)
    sent = np.maximum(out - stay, 0.0)
    checks = (
        (stay, out, "in-migrants from the province", "its out-migrants"),
        (
            np.bincount(province, m[1], k),
            sent.sum() - sent,
            "in-migrants from other provinces",
            "the other provinces' out-migrants who leave their province",
        ),
    )
    for asked, supply, what, source in checks:
        bad = np.flatnonzero(asked * (1.0 - ACCEPTABLE) > supply)
        if bad.size:
            p = bad[0]
            return (
                f"province {codes[p]}: {what} {asked[p]:.2%} of all in-migrants, "
                f"more than {source} {supply[p]:.2%}"
            )
    bad = np.flatnonzero(m[0] * (1.0 - ACCEPTABLE) > out[province] - o)
    if bad.size:
        j = bad[0]
        return (
            f"place {places[j]} (province {codes[province[j]]}): in-migrants from the province "
            f"{m[0, j]:.2%} of all, more than the out-migrants of its province's other places "
            f"{out[province[j]] - o[j]:.2%}"
        )
    return None


def berry_constants(
    utilities: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
    places: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """The constants that send movers from ``origins`` to places, from their own province and
    from others, in proportion to ``in_migrants`` (Berry's contraction; module docstring).

    Parameters
    ----------
    utilities
        ``(n, n)`` destination utilities, ``-inf`` where a destination is not available (at
        least on the diagonal); every row with ``origins > 0`` has a finite entry.
    province
        Province index of every place.
    origins
        Out-migrants of each place (persons, non-negative, positive total).
    in_migrants
        ``(2, n)`` in-migrants of each place from other places of its province (row 0) and
        from other provinces (row 1) (persons, non-negative, positive total).
    places
        Names of the places (codes) in messages; their indices if not given.

    Returns
    -------
    constants : numpy.ndarray
        ``(2, n)`` util: ``delta_j`` for movers from the same province (row 0) and from others
        (row 1). The pairs without in-migrants that movers can reach share
        :data:`ZERO_SHARE` of the in-migrants; one that no mover reaches at the start (no place
        sending from that scope) gets 0.
    iterations : int
        Evaluations of the predicted shares the solution took (:func:`_solve`).

    Raises
    ------
    UnattainableShares
        When the in-migrants ask more than the places can send whatever the constants
        (:func:`_unattainable`), before any iteration.
    ValueError
        On inputs of the wrong shape or sign, in-migrants that no place sending can reach,
        or when the contraction does not converge within :data:`MAX_ITERATIONS`.
    """
    o, m = _checked(province, origins, in_migrants)
    v = np.asarray(utilities, dtype=np.float64)
    if v.shape != (o.shape[0], o.shape[0]):
        raise ValueError(f"utilities {v.shape}: expected ({o.shape[0]}, {o.shape[0]})")
    e = v[o > 0]  # a copy (boolean indexing): the caller's utilities are left as they are
    top = e.max(axis=1, keepdims=True)
    if not np.all(np.isfinite(top)):
        raise ValueError("a place with out-migrants has no destination")
    e -= top
    np.exp(e, out=e)
    return fit_constants(e, province, o, m, places)


def fit_constants(
    weights: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
    places: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """:func:`berry_constants` from the sending places' weights ``exp(V_ij - max_k V_ik)``.

    Parameters
    ----------
    weights
        ``(r, n)`` the weights of the places with ``origins > 0``, in order (every row with
        a positive entry; :func:`sending_weights`). Overwritten.
    province, origins, in_migrants, places
        As for :func:`berry_constants`.

    Returns
    -------
    constants : numpy.ndarray
        ``(2, n)`` util, as :func:`berry_constants`; the same to the last bit whatever the
        caller's BLAS thread count (the fit runs on one BLAS thread).
    iterations : int
        Evaluations of the predicted shares the solution took.

    Raises
    ------
    UnattainableShares, ValueError
        As :func:`berry_constants`; also for weights of the wrong shape, a sending row
        without a positive finite weight or with one on its own place.
    """
    o, m = _checked(province, origins, in_migrants)
    n = o.shape[0]
    codes, province = np.unique(province, return_inverse=True)  # 0.. (they index groups)
    sending = np.flatnonzero(o > 0)
    e = np.asarray(weights, dtype=np.float64)
    if e.shape != (sending.size, n):
        raise ValueError(f"weights {e.shape}: expected ({sending.size}, {n}), a row per sender")
    if not (np.all(np.isfinite(e)) and np.all(e >= 0) and np.all(e.max(axis=1) > 0)):
        raise ValueError("a place with out-migrants has no destination")
    if np.any(e[np.arange(sending.size), sending] != 0):
        raise ValueError("weights must be 0 where a sender would stay (staying is no destination)")
    log_sums = np.log(e.sum(axis=1))  # the movers' log-sums without constants
    e = _split(e, province[sending], province)
    live = _arrivals(e, o[sending]) > 0  # reached by some mover
    if np.any(m[~live] > 0):
        raise ValueError("in-migrants of a place no place sending can reach")
    reason = _unattainable(o, m, province, codes, np.arange(n) if places is None else places)
    if reason is not None:
        raise UnattainableShares(f"no constants can give the in-migrants asked: {reason}")
    o = o[sending]
    # The reachable pairs without in-migrants share ZERO_SHARE of them: with none, a constant
    # would be minus infinity (closed to such movers for good); with more, the places could
    # no longer send what the in-migrants ask (a place cannot receive more than the others
    # send, and every pair served takes from the rest).
    empty = live & (m <= 0)
    m = np.where(empty, ZERO_SHARE * m.sum() / max(int(empty.sum()), 1), m)
    m = np.where(live, m / m[live].sum(), 0.0)
    # OpenBLAS splits a matrix product's sums among its threads, so their order, and the
    # constants' last bits, follow the thread count (up to 3e-6 util apart between one and two
    # threads at the calibration's points): with more threads a run's tables would depend on
    # the machine's cores and on a sweep's --threads. One thread costs a run on its own about
    # 40 % more of the fit's time (measured at two calibration points); a sweep, whose workers
    # fill the cores, nothing.
    with threadpool_limits(limits=1, user_api="blas"):
        x, iterations = _solve(e, o, m, live, province)
        delta = np.zeros((2, n))
        delta[live] = x
        # The level: the movers' mean log-sum of exp(V + delta) equals that of exp(V).
        level = o @ (log_sums - np.log(_log_sum_terms(e, np.exp(delta))))
    delta[live] += level / o.sum()
    return delta, iterations


def _solve(
    e: _Split, o: np.ndarray, share: np.ndarray, live: np.ndarray, province: np.ndarray
) -> tuple[np.ndarray, int]:
    """The constants of the live pairs (up to their level) at which the predicted shares are
    ``share``, and the evaluations it took.

    Three stages, each from where the last stopped. First the best constants common to the
    places of a province and scope (:func:`_province_offsets`: a Newton solve over 62
    unknowns, since the constants of a set far from the census differ by provinces and scope
    by tens of utils). Then Berry's step accelerated (:func:`_accelerated_root`) until the
    largest log error is :data:`HANDOVER`. The plain step ``ln(observed) - ln(predicted)``
    is a Newton step that ignores how a place's constant takes movers from the others; where
    they compete closely, the places of a province for its own movers, it crawls (on the
    census world the slowest modes of the Hessian so scaled are within-province balances,
    eigenvalues near 0.002). So last, near the solution where Newton's model holds, the step
    solves the exact Hessian of each province's constants for its own movers instead
    (:class:`_Split`'s blocks; scaled eigenvalues then at least 0.09), again accelerated.
    From a point where it runs away it does not recover, so it gets :data:`_NEWTON_BUDGET`
    evaluations; then Berry's step goes on from the better of the two stages' points (each
    judged by its gap) to a tenth of the handover error (of the point's, if lower and the
    Newton stage gained nothing) or until it crawls, and a Newton stage starts again
    (:data:`_NEWTON_STAGES` in all, the last with every evaluation left; :func:`_staged_root`).
    Where the last stops short, Berry's step goes on to the tolerance. On 37 parameter sets of
    the calibration's box (census world, 1,000 households per agent) this took 5,905
    evaluations in all, where a single handover at 0.01 took 7,639, and gave no error; on
    four more, of two sets where earlier schedules failed, 2,477 (CHANGELOG, "Fixed").
    """
    target = share[live]
    log_share = np.log(target)
    total = o.sum()
    blocks = [
        (rows, cols[live[0, cols]], block[:, live[0, cols]]) for rows, cols, block in e.blocks
    ]

    def predicted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predicted shares of every pair, the movers' log-sum terms, the weights exp(x)."""
        w = np.zeros(share.shape)
        # A step that runs away can leave a mover no destination (a 0/0): the error is then
        # not finite, and _accelerated_root goes back to its best point.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w[live] = np.exp(x - x.max())
            terms, arrivals = _terms_and_arrivals(e, w, o)
            return w * arrivals / total, terms, w

    def berry(x: np.ndarray) -> tuple[np.ndarray, float]:
        gap = log_share - np.log(predicted(x)[0][live])
        return gap, float(np.abs(gap).max())

    def newton(x: np.ndarray) -> tuple[np.ndarray, float]:
        pred, terms, w = predicted(x)
        gap = np.zeros(share.shape)
        gap[live] = log_share - np.log(pred[live])
        step = _within_newton_step(blocks, o, pred, terms, w, gap)[live]
        if not np.all(np.isfinite(step)):
            return step, math.inf  # (max() would pass over a NaN)
        # The largest log error can rise for a while as the step takes the slow modes out:
        # progress is also judged by the step, which falls from the start.
        return step, max(float(np.abs(gap).max()), float(np.abs(step).max()))

    x, iterations, error = _staged_root(
        berry, newton, _province_offsets(e, o, share, province)[live]
    )
    if error > TOLERANCE and iterations < MAX_ITERATIONS:
        x, used, error = _accelerated_root(berry, x, TOLERANCE, MAX_ITERATIONS - iterations)
        iterations += used
    if not error <= ACCEPTABLE or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{NOT_CONVERGED} in {MAX_ITERATIONS} evaluations (largest log error "
            f"{error:.2e}): these weights ask for extreme constants"
        )
    return x, iterations


def _staged_root(
    berry: Callable[[np.ndarray], tuple[np.ndarray, float]],
    newton: Callable[[np.ndarray], tuple[np.ndarray, float]],
    x: np.ndarray,
) -> tuple[np.ndarray, int, float]:
    """Berry's and the Newton stages of :func:`_solve` from ``x``: the point, the evaluations
    and its error (above :data:`TOLERANCE` where the last stage stopped short)."""
    handover = HANDOVER
    x, iterations, error = _accelerated_root(berry, x, handover, MAX_ITERATIONS)
    gained = True
    # No Newton evaluations (as benchmarks and tests ask): Berry's step alone.
    stages = _NEWTON_STAGES if _NEWTON_BUDGET > 0 else 0
    for stage in range(stages):
        if not (error <= handover and error > TOLERANCE) or iterations >= MAX_ITERATIONS:
            break
        if stage:
            # The last Newton stage ran out: Berry's step from the better point to a tenth of
            # the handover (the Newton step runs away only from far), or of the point's error
            # if that stage gained nothing (else the same stage could run again from the same
            # point), then Newton again. Berry's step stops where it crawls (:data:`_BERRY_CRAWL`):
            # near the solution it can stall where Newton's converges (at a set of 2026-12-06
            # it spent its last 1,832 evaluations at 2.8e-4), while far from it, where Newton's
            # runs away, it can need a thousand evaluations to reach the handover, and does.
            handover = (handover if gained else min(handover, error)) / 10.0
            x, used, error = _accelerated_root(
                berry, x, handover, MAX_ITERATIONS - iterations, crawl=_BERRY_CRAWL
            )
            iterations += used
            # Stopped short of the handover, crawling: Newton goes on from where it stopped.
            handover = max(handover, error)
            if error <= TOLERANCE or iterations >= MAX_ITERATIONS:
                break
        # The last stage has every evaluation left: it starts near the solution.
        left = MAX_ITERATIONS - iterations
        budget = left if stage == stages - 1 else min(_NEWTON_BUDGET, left)
        y, used, fine = _accelerated_root(newton, x, TOLERANCE, budget, 5 * MEMORY)
        iterations += used
        if not fine < TOLERANCE and iterations < MAX_ITERATIONS:
            # The Newton error counts its step as well as the gap: judge its point by the gap
            # alone, as Berry's point is judged, else a point far nearer in the shares is lost.
            fine = berry(y)[1]
            iterations += 1
        gained = fine < error
        if gained:
            x, error = y, fine
    return x, iterations, error


def _within_newton_step(
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    o: np.ndarray,
    shares: np.ndarray,
    terms: np.ndarray,
    w: np.ndarray,
    gap: np.ndarray,
) -> np.ndarray:
    """``(2, n)``: Berry's step ``gap`` except at each province's places for its own movers,
    where it is the Newton step of their constants with all others held, damped: the solution
    of ``(H_p + mu diag(a)) dx = a * gap``, ``H_p = diag(a) - sum_i (o_i / O) q_i q_i'`` the
    Hessian of the dual (the minus log-likelihood the constants minimise) in them, ``q_i`` the
    choice shares of the province's places for a mover from its place ``i``, ``a`` their
    predicted shares, ``mu`` :data:`_DAMPING` (Levenberg-Marquardt: where a few places are
    reached by one origin's movers alone, which go nowhere else, ``H_p`` is all but singular
    and the undamped step runs away along a direction that hardly changes the shares).

    ``blocks`` are :class:`_Split`'s for the live pairs; ``shares``, ``terms`` and ``w`` the
    predicted shares, log-sum terms and ``exp(constants)`` at the point; ``gap`` the log target
    share minus the log predicted one (zero at pairs not live)."""
    step = gap.copy()
    total = o.sum()
    for rows, cols, block in blocks:
        q = block * (w[0, cols] / terms[rows, None])
        a = shares[0, cols]
        hessian = np.diag((1.0 + _DAMPING) * a) - (q * (o[rows] / total)[:, None]).T @ q
        try:
            step[0, cols] = np.linalg.solve(hessian, a * gap[0, cols])
        except np.linalg.LinAlgError:
            pass  # Berry's step for the province's places
    return step


def _province_offsets(
    e: _Split, o: np.ndarray, share: np.ndarray, province: np.ndarray
) -> np.ndarray:
    """``(2, n)``: one constant per province and scope, the same for its places, with which
    the arrivals of every province and scope are ``share``'s (to a thousandth of themselves).

    The minimum of the convex function ``sum_i o_i ln(sum_g b_ig exp(z_g)) - O sum_g t_g z_g``
    over the province-scope groups ``g``, where ``b_ig`` is the part of origin ``i``'s
    log-sum terms in group ``g``: Newton's method with a backtracking line search, each step
    at most 5 utils."""
    groups = province.max() + 1
    member = np.zeros((province.shape[0], groups))
    member[np.arange(province.shape[0]), province] = 1.0
    within = np.zeros((o.shape[0], groups))
    for rows, cols, block in e.blocks:
        within[rows, province[cols[0]]] = block.sum(axis=1)
    b = np.concatenate([within, e.across @ member], axis=1)
    t = np.concatenate([share[0] @ member, share[1] @ member])
    held = t > 0
    b, t = b[:, held], t[held]
    weight = o / o.sum()

    def objective(z: np.ndarray) -> float:
        with np.errstate(over="ignore"):
            value = weight @ np.log(b @ np.exp(z)) - t @ z
        return float(value) if np.isfinite(value) else math.inf

    z = np.zeros(t.size)
    value = objective(z)
    for _ in range(_COARSE_STEPS):
        q = b * np.exp(z - z.max())
        q /= q.sum(axis=1, keepdims=True)
        arrivals = weight @ q
        if np.abs(np.log(arrivals / t)).max() < 1e-3:
            break
        gradient = arrivals - t
        # The common level is free (a null direction): a ridge a millionth of the smallest
        # group's arrivals fixes it.
        hessian = np.diag(arrivals + 1e-6 * t.min()) - (q * weight[:, None]).T @ q
        try:
            step = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        largest = float(np.abs(step).max())
        if not np.isfinite(largest):
            break
        size = min(1.0, 5.0 / largest)
        while size > 1e-9:
            trial = objective(z + size * step)
            if trial <= value + 1e-4 * size * (gradient @ step):
                break
            size /= 2
        else:
            # No decrease along the step (shares the groups cannot reach): the start is as
            # good as this stage makes it; the later stages, or their error, take over.
            break
        z, value = z + size * step, trial
    offsets = np.zeros(2 * groups)
    offsets[held] = z
    return np.stack([offsets[:groups][province], offsets[groups:][province]])


def _accelerated_root(
    step: Callable[[np.ndarray], tuple[np.ndarray, float]],
    x: np.ndarray,
    tolerance: float,
    budget: int,
    patience: int = MEMORY,
    crawl: float = 0.0,
) -> tuple[np.ndarray, int, float]:
    """The fixed point of ``x <- x + s(x)`` from ``x``, where ``step`` returns ``s(x)`` and the
    error at ``x``: the first point whose error is below ``tolerance``, or the best one when
    the error has not halved over the last 200 iterations (once below :data:`ACCEPTABLE`), or
    has not fallen below ``crawl`` times what it was 200 iterations before (at any error; 0:
    never), or after ``budget`` iterations; with the iterations it took and its error.

    The plain map converges linearly and slowly where the constants spread widely; Anderson
    acceleration (Walker and Ni 2011, SIAM Journal on Numerical Analysis 49(4)) combines the
    last :data:`MEMORY` steps. It restarts from the best point so far when it diverges or
    stalls."""
    best_x, best_g, best, stalled = x, x, math.inf, 0
    window_best = math.inf
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    iterations = 0
    while iterations < budget:
        iterations += 1
        g, error = step(x)
        if error < tolerance:
            return x, iterations, error
        if error < best:
            best_x, best_g, best, stalled = x, g, error, 0
        else:
            stalled += 1
        if iterations % _WINDOW == 0:
            # Crawling at an acceptable error (a coarse world's shares that cannot be met
            # exactly), or crawling at all where the caller has a better step to go on with:
            # stop rather than spend the rest of the iterations.
            acceptable_crawl = best < ACCEPTABLE and best > 0.5 * window_best
            if acceptable_crawl or (crawl > 0.0 and best > crawl * window_best):
                break
            window_best = best
        if not error < 10.0 * best or stalled > patience:
            # Diverging, not finite, or stalled (Anderson's combination can stagnate): forget
            # the steps and go on from the best point.
            x, g, xs, gs, stalled = best_x, best_g, [], [], 0
        xs, gs = [*xs[-MEMORY:], x], [*gs[-MEMORY:], g]
        s = g
        if len(xs) > 1:
            dg = np.diff(np.array(gs), axis=0).T
            dx = np.diff(np.array(xs), axis=0).T
            coef = np.linalg.lstsq(dg, g, rcond=None)[0]
            s = g - (dx + dg) @ coef
            # Where the map crawls (its steps nearly equal) the extrapolation can run off far
            # past the solution: never more than STEP_CAP plain steps at once.
            largest = float(np.abs(s).max())
            cap = STEP_CAP * float(np.abs(g).max())
            if largest > cap:
                s = s * (cap / largest)
        x = x + s
        x = x - x.max()  # the level is free; keep exp(x) away from overflow
    return best_x, iterations, best


def predicted_shares(
    utilities: np.ndarray, province: np.ndarray, constants: np.ndarray, origins: np.ndarray
) -> np.ndarray:
    """Where movers leaving every place in proportion to ``origins`` go under the logit of
    ``utilities`` plus the ``constants`` of their scope (what :func:`berry_constants` matches
    to the in-migrants).

    Parameters
    ----------
    utilities
        ``(n, n)`` as :func:`mover_utilities`.
    province
        Province index of every place.
    constants
        ``(2, n)`` util, as :func:`berry_constants` (zeros for the observed terms alone).
    origins
        Out-migrants of each place (non-negative, positive total).

    Returns
    -------
    numpy.ndarray
        ``(2, n)`` shares of the arrivals, from the same province (row 0) and from others (row
        1), summing to 1.
    """
    o = np.asarray(origins, dtype=np.float64)
    sending = np.flatnonzero(o > 0)
    u = np.asarray(utilities, dtype=np.float64)[sending]
    across = np.asarray(province)[sending][:, None] != np.asarray(province)[None, :]
    u = u + np.where(across, constants[1][None, :], constants[0][None, :])
    u -= u.max(axis=1, keepdims=True)
    np.exp(u, out=u)
    u /= u.sum(axis=1, keepdims=True)
    arrivals = np.stack(
        [o[sending] @ np.where(across, 0.0, u), o[sending] @ np.where(across, u, 0.0)]
    )
    return arrivals / arrivals.sum()
