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
(:mod:`urbsim.world.census_origins` fits the 2010 stock the same way). The shares fix the
constants up to a common level, which is chosen so that the movers' mean inclusive value (the
log-sum of their destination utilities, weighted by ``o_i``) is what it is without constants:
the constants change where movers go, not how attractive moving is on average.

``V_ij`` is the utility of a candidate destination ``j`` for a household living at its hukou
place ``i`` (the kernel's :func:`urbsim.kernels.choice.utility` without the terms every
destination shares: the moving cost and the household's own terms), with service access at its
base level and no school-age children. Network counts are those of the start year's households.

Every function here is pure; :class:`urbsim.model.UrbanizationModel` calls
:func:`berry_constants` on :func:`mover_utilities` once, before the first year.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np

from urbsim.inputs import ParamsRecord, PlaceRecord
from urbsim.world.base import EARTH_RADIUS_KM

#: Largest absolute error of the log predicted share of a place-scope pair at which the
#: contraction stops (shares right to a ten-millionth of themselves).
TOLERANCE: Final[float] = 1e-7
#: Iterations after which the contraction stops (600-1,500 on the census world): with the best
#: point if its largest log error is below ACCEPTABLE, else with an error.
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
#: Origins whose utilities are computed at once.
_BLOCK: Final[int] = 256


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
    attraction = (
        b.beta_income * pl.log_income_urban
        - b.beta_housing * pl.log_cost_urban
        + b.beta_amenity * pl.amenity
        + b.beta_service * b.service_base_access * pl.quality
        + b.beta_size * (pl.log_size - math.log(b.size_reference))
    )
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
        block -= b.beta_province * (pl.province[i, None] != pl.province[None, :])
        block += b.beta_network * np.log1p(network[i].astype(np.float64) * hpa)
        block += b.beta_network_province * np.log1p(netp[pl.province[i]].astype(np.float64) * hpa)
        v[i] = block
    np.fill_diagonal(v, -np.inf)
    return v


def _scoped(e: np.ndarray, rows: np.ndarray, province: np.ndarray) -> np.ndarray:
    """``(2, r, n)``: ``e`` where origin (row ``rows``) and destination share a province (0),
    where they do not (1), zero elsewhere."""
    same = province[rows][:, None] == province[None, :]
    return np.stack([np.where(same, e, 0.0), np.where(same, 0.0, e)])


def _arrivals(e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(2, n)``: ``sum_i c_i e[s, i, j]`` (matrix products: BLAS, not einsum's loops)."""
    return np.stack([e[0].T @ c, e[1].T @ c])


def _log_sum_terms(e: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum_s sum_j e[s, i, j] w[s, j]`` for every row ``i``."""
    return e[0] @ w[0] + e[1] @ w[1]


def _checked(
    utilities: np.ndarray, province: np.ndarray, origins: np.ndarray, in_migrants: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of :func:`berry_constants` as float64, or a ValueError naming what is wrong."""
    v = np.asarray(utilities, dtype=np.float64)
    o = np.asarray(origins, dtype=np.float64)
    m = np.asarray(in_migrants, dtype=np.float64)
    n = o.shape[0]
    if v.shape != (n, n) or m.shape != (2, n) or np.shape(province) != (n,):
        raise ValueError(
            f"utilities {v.shape}, province {np.shape(province)}, origins {o.shape}, "
            f"in_migrants {m.shape}: expected (n, n), (n,), (n,), (2, n)"
        )
    for name, arr in (("origins", o), ("in_migrants", m)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
            raise ValueError(f"{name} must be finite, non-negative and not all zero")
    return v, o, m


def berry_constants(
    utilities: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
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

    Returns
    -------
    constants : numpy.ndarray
        ``(2, n)`` util: ``delta_j`` for movers from the same province (row 0) and from others
        (row 1). The pairs without in-migrants that movers can reach share
        :data:`ZERO_SHARE` of the in-migrants; one that no mover reaches at the start (no place
        sending from that scope) gets 0.
    iterations : int
        Iterations the contraction took.

    Raises
    ------
    ValueError
        On inputs of the wrong shape or sign, in-migrants that no place sending can reach,
        or when the contraction does not converge within :data:`MAX_ITERATIONS`.
    """
    v, o, m = _checked(utilities, province, origins, in_migrants)
    n = o.shape[0]
    sending = np.flatnonzero(o > 0)
    top = v[sending].max(axis=1, keepdims=True)
    if not np.all(np.isfinite(top)):
        raise ValueError("a place with out-migrants has no destination")
    # exp(V - row max), split by scope: the constants enter as column factors exp(delta).
    e = _scoped(np.exp(v[sending] - top), sending, np.asarray(province))
    o = o[sending]
    live = _arrivals(e, o) > 0  # reached by some mover
    if np.any(m[~live] > 0):
        raise ValueError("in-migrants of a place no place sending can reach")
    # The reachable pairs without in-migrants share ZERO_SHARE of them: with none, a constant
    # would be minus infinity (closed to such movers for good); with more, the places could
    # no longer send what the in-migrants ask (a place cannot receive more than the others
    # send, and every pair served takes from the rest).
    empty = live & (m <= 0)
    m = np.where(empty, ZERO_SHARE * m.sum() / max(int(empty.sum()), 1), m)
    log_share = np.log(m[live] / m[live].sum())

    def gap(x: np.ndarray) -> np.ndarray:
        """Berry's step at the constants ``x`` of the live pairs: log target share minus log
        predicted share."""
        w = np.zeros((2, n))
        w[live] = np.exp(x - x.max())
        reach = _arrivals(e, o / _log_sum_terms(e, w))
        return log_share - np.log((w * reach)[live] / o.sum())

    x, iterations = _accelerated_root(gap, int(live.sum()))
    delta = np.zeros((2, n))
    delta[live] = x
    # The level: the movers' mean log-sum of exp(V + delta) equals that of exp(V).
    level = o @ (np.log(e.sum(axis=(0, 2))) - np.log(_log_sum_terms(e, np.exp(delta))))
    delta[live] += level / o.sum()
    return delta, iterations


def _accelerated_root(gap: Callable[[np.ndarray], np.ndarray], size: int) -> tuple[np.ndarray, int]:
    """The fixed point of ``x <- x + gap(x)`` from zero, to :data:`TOLERANCE` in the largest
    ``|gap|`` (or the best point, if below :data:`ACCEPTABLE`, when it has not halved over the
    last 200 iterations or after :data:`MAX_ITERATIONS`), and the iterations it took.

    The plain map converges linearly and slowly where the constants spread widely; Anderson
    acceleration (Walker and Ni 2011, SIAM Journal on Numerical Analysis 49(4)) over the last
    :data:`MEMORY` steps takes 600-1,500 iterations on the census world. It
    restarts from the best point so far when it diverges or stalls."""
    x = np.zeros(size)
    best_x, best, stalled = x, math.inf, 0
    window_best = math.inf
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    iterations, error = 0, math.inf
    while iterations < MAX_ITERATIONS:
        iterations += 1
        g = gap(x)
        error = float(np.abs(g).max())
        if error < TOLERANCE:
            return x, iterations
        if error < best:
            best_x, best, stalled = x, error, 0
        else:
            stalled += 1
        if iterations % _WINDOW == 0:
            # Crawling at an acceptable error (a coarse world's shares that cannot be met
            # exactly): stop rather than spend the rest of the iterations.
            if best < ACCEPTABLE and best > 0.5 * window_best:
                return best_x, iterations
            window_best = best
        if not error < 10.0 * best or stalled > MEMORY:
            # Diverging, not finite, or stalled (Anderson's combination can stagnate): forget
            # the steps and go on from the best point.
            x, xs, gs, stalled = best_x, [], [], 0
            g = gap(x)
        xs, gs = [*xs[-MEMORY:], x], [*gs[-MEMORY:], g]
        step = g
        if len(xs) > 1:
            dg = np.diff(np.array(gs), axis=0).T
            dx = np.diff(np.array(xs), axis=0).T
            coef = np.linalg.lstsq(dg, g, rcond=None)[0]
            step = g - (dx + dg) @ coef
            # Where the map crawls (its steps nearly equal) the extrapolation can run off far
            # past the solution: never more than STEP_CAP plain steps at once.
            largest = float(np.abs(step).max())
            cap = STEP_CAP * float(np.abs(g).max())
            if largest > cap:
                step = step * (cap / largest)
        x = x + step
        x = x - x.max()  # the level is free; keep exp(x) away from overflow
    if best < ACCEPTABLE:
        return best_x, iterations
    raise ValueError(
        f"destination constants did not converge in {MAX_ITERATIONS} iterations "
        f"(largest log error {best:.2e}): can the places send what the in-migrants ask? "
        "(a place cannot receive more than the others send)"
    )


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
