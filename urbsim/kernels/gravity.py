"""The gravity proposal of the destination choice: which places a mover's candidates are drawn
from, and with what probability.

A mover at place ``i`` draws candidates ``j`` with probability

    q_ij = U_j^a * max(d_ij, d_min)^-gamma / sum_k U_k^a * max(d_ik, d_min)^-gamma,  q_ii = 0,

(``U`` urban residents, ``a`` = ``gravity_size_exponent``, ``gamma`` =
``gravity_distance_exponent``, ``d_min`` = ``distance_floor_km``): a gravity kernel in log
distance from the household's own place. The proposal only decides which alternatives enter a
mover's sampled choice set; the choice corrects for it (``-ln q`` in utility, see
:mod:`urbsim.kernels.choice`), so it changes the variance of the sampled choice, not what the
choice reproduces.

The proposal is stored as one row of cumulative weights per place of origin, in ``float32``
(2,857 places: 33 MB instead of 65 MB, and half the cache lines per search). The sums are
accumulated in ``float64`` and rounded once per entry, so each entry is the exact cumulative
weight to seven digits; the probability the choice uses for a correction is the difference of
the very entries the draw searched, so the correction always matches the draws. The distance
part is fixed for a run (:func:`distance_decay`); a year only multiplies it by the sizes
(:func:`gravity_rows`). Guide tables (:func:`gravity_guide`) turn each draw into a lookup
plus a short search.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import JIT_INLINE, JIT_PARALLEL
from urbsim.world.base import EARTH_RADIUS_KM as _EARTH_KM

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "4077516721949f87"

#: Most buckets of a guide table per row: a power of two, so that the bucket edges
#: ``b / n_buckets`` and the bucket of a uniform are exact.
GUIDE_BUCKETS = 8192
#: Gravity draws per household and year that :func:`guide_buckets` plans for: about 7 % of
#: households consider moving in a year (the demo and the census world, 2011-2015), each with
#: ``candidates`` = 6 draws of which about half are gravity draws; rounded up.
DRAWS_PER_HOUSEHOLD = 0.25
#: Bytes the guide tables of one year may take: a table per place of origin is built every
#: year, so the buckets per row shrink as the rows multiply.
GUIDE_BYTES = 1 << 22


def guide_buckets(n_households: int, n_rows: int = 1) -> int:
    """Buckets of the year's guide tables, a power of two from 1 to :data:`GUIDE_BUCKETS`.

    Building them costs time in proportion to the rows and buckets, using them saves time in
    proportion to the gravity draws, some :data:`DRAWS_PER_HOUSEHOLD` per household a year
    spread over the rows: about one bucket per expected draw of a row, so that a draw searches
    a bucket of a few entries, and no more than all rows' tables within :data:`GUIDE_BYTES`.
    At 1,000 households per agent on the census world (about 43 draws a row planned) that is
    64 buckets instead of the 512 of a rule by households alone, whose table cost more (48 ms
    a year) than the searches it saved. The sampled places do not depend on it.
    """
    want = int(n_households * DRAWS_PER_HOUSEHOLD) // max(n_rows, 1)
    by_draws = 1 << max(want - 1, 0).bit_length() if want > 1 else 1
    by_memory = 1 << max((GUIDE_BYTES // (2 * max(n_rows, 1))).bit_length() - 1, 0)
    return min(GUIDE_BUCKETS, by_memory, by_draws)


@njit(**JIT_INLINE)
def distance_km(lat1: float, lon1: float, coslat1: float, lat2: float, lon2: float) -> float:
    """Distance between two points given in radians, on the equirectangular projection at the
    first point's latitude: within about 1% of the great circle below 1,000 km and a few
    percent across China, which a distance-deterrence term does not notice, at a fraction of
    the cost of the haversine (no trigonometry per pair)."""
    dy = lat2 - lat1
    dx = (lon2 - lon1) * coslat1
    return _EARTH_KM * math.sqrt(dy * dy + dx * dx)


@njit(**JIT_PARALLEL)
def distance_decay(lat: np.ndarray, lon: np.ndarray, floor_km: float, gamma: float) -> np.ndarray:
    """``(max(d_ij, floor) / floor)^-gamma`` for every pair of places (``float32``), zero on
    the diagonal: the distance part of the proposal, fixed for a run. Scaled by the floor so
    that every entry lies in ``[0, 1]``."""
    n = lat.shape[0]
    out = np.zeros((n, n), dtype=np.float32)
    for i in prange(n):
        ci = math.cos(lat[i])
        for j in range(n):
            if j != i:
                d = distance_km(lat[i], lon[i], ci, lat[j], lon[j])
                out[i, j] = (max(d, floor_km) / floor_km) ** -gamma
    return out


@njit(**JIT_PARALLEL)
def gravity_rows(decay: np.ndarray, size_weight: np.ndarray) -> np.ndarray:
    """Cumulative proposal weights, one ``float32`` row per place of origin: entry ``[i, j]``
    is ``sum_{k <= j} size_weight[k] * decay[i, k]``, accumulated in ``float64``."""
    n_rows, n = decay.shape
    out = np.empty((n_rows, n), dtype=np.float32)
    for i in prange(n_rows):
        acc = 0.0
        for j in range(n):
            acc += size_weight[j] * np.float64(decay[i, j])
            out[i, j] = acc
    return out


def gravity_guide(cdf: np.ndarray, n_buckets: int = GUIDE_BUCKETS) -> np.ndarray:
    """Guide table of each row of cumulative weights: entry ``[r, b]`` is the index that
    :func:`sample_gravity` returns for ``u = b / n_buckets`` on row ``r`` (``uint16`` when the
    places allow it: half the cache lines).

    The sampled index is non-decreasing in ``u`` (``u * total`` is monotone under rounding), so
    the index for any ``u`` in bucket ``b`` lies in ``[guide[r, b], guide[r, b + 1]]``: a draw
    searches only there and finds exactly what a binary search over the whole row finds, in a
    few steps instead of twelve unpredictable ones. One sweep per row builds it, or a binary
    search per bucket edge where the buckets are few (:func:`_searches_cheaper`).
    """
    if n_buckets < 1 or n_buckets & (n_buckets - 1):
        raise ValueError(f"n_buckets must be a power of two, got {n_buckets}")
    n_rows, n = cdf.shape
    dtype = np.uint16 if n <= 1 << 16 else np.int32
    guide = np.empty((n_rows, n_buckets + 1), dtype=dtype)
    _fill_guide(cdf, guide, _searches_cheaper(n, n_buckets))
    return guide


def _searches_cheaper(n: int, n_buckets: int) -> bool:
    """Whether a binary search per bucket edge (about ``log2 n`` steps each) costs less than
    one sweep of a row of ``n`` entries with its ``n_buckets + 1`` edges."""
    return (n_buckets + 1) * max(n - 1, 1).bit_length() < n + n_buckets


@njit(**JIT_PARALLEL)
def _fill_guide(cdf: np.ndarray, guide: np.ndarray, search: bool) -> None:
    """Entry ``[r, b]``: the first index ``k`` of row ``r`` with ``cdf[r, k] > b / n_buckets *
    total`` (the last index when none is), found for the edges in order by one sweep of the
    row or, with ``search``, by a binary search from the previous edge's index: the same
    index, since the row is non-decreasing and so is the predicate."""
    n_rows, n = cdf.shape
    n_buckets = guide.shape[1] - 1
    # Exact: n_buckets is a power of two, so b * inv == b / n_buckets to the bit.
    inv = 1.0 / n_buckets
    for r in prange(n_rows):  # rows are independent
        total = np.float64(cdf[r, n - 1])
        idx = 0
        for b in range(n_buckets + 1):
            target = (b * inv) * total
            if search:
                # The last index stands for "none above": only indices below it are read.
                idx = _first_above(cdf, r, idx, n - 1, target)
            else:
                while idx < n - 1 and cdf[r, idx] <= target:
                    idx += 1
            guide[r, b] = idx


@njit(**JIT_INLINE)
def sample_gravity(cdf: np.ndarray, guide: np.ndarray, r: int, u: float) -> int:
    """Index of the first entry of the cumulative weights ``cdf[r]`` above ``u * cdf[r, -1]``
    (the last index when none is), searched between the guide entries of ``u``'s bucket.

    Takes the whole tables and a row index rather than row views: a view made per mover in
    the parallel kernel costs two atomic reference counts on the table, which both threads
    then contend for."""
    last = cdf.shape[1] - 1
    target = u * np.float64(cdf[r, last])
    b = int(u * (guide.shape[1] - 1))
    return _first_above(cdf, r, np.int64(guide[r, b]), np.int64(guide[r, b + 1]), target)


@njit(**JIT_INLINE)
def _first_above(cdf: np.ndarray, r: int, lo: int, hi: int, target: float) -> int:
    """The first index ``k`` in ``[lo, hi)`` with ``cdf[r, k] > target``, else ``hi``: a
    binary search of a non-decreasing row that reads only indices below ``hi``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[r, mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(**JIT_INLINE)
def gravity_share(cdf: np.ndarray, r: int, j: int) -> float:
    """Probability that one gravity draw on the cumulative row ``cdf[r]`` returns ``j``: the
    width of ``j``'s interval over the row total (in ``float64`` from the stored entries)."""
    hi = np.float64(cdf[r, j])
    lo = np.float64(cdf[r, j - 1]) if j > 0 else 0.0
    return (hi - lo) / np.float64(cdf[r, cdf.shape[1] - 1])
