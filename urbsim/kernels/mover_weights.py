"""The logit weights of every destination for movers leaving each place, at the start of a run.

The destination constants (:mod:`urbsim.dynamics.destination_constants`) are fitted on
``exp(V_ij - max_k V_ik)`` for the places ``i`` that send movers: on the census world a matrix
of some 2,857 x 2,857 utilities. Built with NumPy
(:func:`urbsim.dynamics.destination_constants.mover_utilities`, the readable reference) it
takes a dozen whole-matrix passes (distance, two logs of the networks, the border, the
maximum, the exponential, the sum) and was a fifth of a census run at 1,000 households per
agent. This kernel computes each row in one pass over the destinations and a second for the
exponential, in parallel over the rows; a test holds it to the reference within a few units
in the last place (the exponential and logarithm are LLVM's here, NumPy's there).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import JIT_PARALLEL
from urbsim.world.base import EARTH_RADIUS_KM as _EARTH_KM

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "4077516721949f87"


@njit(**JIT_PARALLEL)
def _weights(
    rows: np.ndarray,
    attraction: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    coslat: np.ndarray,
    province: np.ndarray,
    network: np.ndarray,
    network_province: np.ndarray,
    beta_distance: float,
    floor_km: float,
    beta_province: float,
    beta_network: float,
    beta_network_province: float,
    households_per_agent: float,
) -> np.ndarray:
    n = attraction.shape[0]
    r = rows.shape[0]
    # The province networks' term depends on (province, destination) alone: once per pair.
    by_province = np.empty(network_province.shape)
    for p in range(network_province.shape[0]):
        for j in range(n):
            by_province[p, j] = beta_network_province * math.log1p(
                network_province[p, j] * households_per_agent
            )
    e = np.empty((r, n))
    for k in prange(r):
        i = rows[k]
        p = province[i]
        best = -np.inf
        for j in range(n):
            if j == i:
                continue
            # The distance of urbsim.kernels.gravity.distance_km, the terms of mover_utilities.
            dy = lat[j] - lat[i]
            dx = (lon[j] - lon[i]) * coslat[i]
            d = _EARTH_KM * math.sqrt(dy * dy + dx * dx)
            v = attraction[j] - beta_distance * math.log(max(d, floor_km) / floor_km)
            if province[j] != p:
                v -= beta_province
            if network[i, j] != 0:  # (most pairs have none: log1p(0) adds exactly 0)
                v += beta_network * math.log1p(network[i, j] * households_per_agent)
            v += by_province[p, j]
            e[k, j] = v
            if v > best:
                best = v
        for j in range(n):
            e[k, j] = 0.0 if j == i else math.exp(e[k, j] - best)
    return e


def _checked_indices(
    rows: np.ndarray, province: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` and ``province`` as int64, or a ValueError: not integers, a row out of range."""
    for name, a in (("rows", rows), ("province", province)):
        if not np.issubdtype(np.asarray(a).dtype, np.integer):
            raise ValueError(f"{name} must be integer indices, got {np.asarray(a).dtype}")
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"origin rows must lie in 0..{n - 1}")
    return rows, np.ascontiguousarray(province, dtype=np.int64)


def mover_weights(
    rows: np.ndarray,
    attraction: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    coslat: np.ndarray,
    province: np.ndarray,
    network: np.ndarray,
    network_province: np.ndarray,
    beta_distance: float,
    floor_km: float,
    beta_province: float,
    beta_network: float,
    beta_network_province: float,
    households_per_agent: float,
) -> np.ndarray:
    """``exp(V_ij - max_k V_ik)`` for the origins ``rows`` and every destination.

    ``V_ij`` is :func:`urbsim.dynamics.destination_constants.mover_utilities`' utility:
    ``attraction_j - beta_distance ln(max(d_ij, floor) / floor) - beta_province [other
    province] + beta_network ln(1 + network_ij hpa) + beta_network_province ln(1 +
    network_province[province_i, j] hpa)``; staying is not a destination (weight 0).

    Parameters
    ----------
    rows
        Origin places (indices, int64), each with at least one other place.
    attraction
        ``(n,)`` the terms of the destination alone (util).
    lat, lon, coslat
        ``(n,)`` place coordinates (radians) and the cosine of the latitude.
    province
        ``(n,)`` province index of every place (0..).
    network
        ``(n, n)`` floating agents by hukou place and current place.
    network_province
        ``(provinces, n)`` floating agents by hukou province and current place.
    beta_distance, floor_km, beta_province, beta_network, beta_network_province
        The behaviour's weights (util) and distance floor (km); ``households_per_agent``
        the households one agent stands for.

    Returns
    -------
    numpy.ndarray
        ``(len(rows), n)`` float64 in ``[0, 1]``, 1 at each row's best destination.

    Raises
    ------
    ValueError
        On arrays of inconsistent shapes, indices that are not integers, an origin out of
        range, or fewer than two places.
    """
    rows, province = _checked_indices(rows, province, np.shape(attraction)[0])
    n = np.shape(attraction)[0]
    shapes = [np.shape(a) for a in (lat, lon, coslat, province)]
    if n < 2 or any(s != (n,) for s in shapes) or np.shape(network) != (n, n):
        raise ValueError(
            f"attraction ({n},), lat/lon/coslat/province {shapes}, network "
            f"{np.shape(network)}: expected n >= 2 places, (n,) and (n, n)"
        )
    provinces = int(province.max()) + 1 if province.size else 0
    if province.min(initial=0) < 0 or np.shape(network_province) != (provinces, n):
        raise ValueError(
            f"network_province {np.shape(network_province)}: expected ({provinces}, {n}) for "
            "province indices 0.."
        )
    as_float = [np.ascontiguousarray(a, dtype=np.float64) for a in (attraction, lat, lon, coslat)]
    return _weights(
        rows,
        *as_float,
        province,
        np.ascontiguousarray(network),
        np.ascontiguousarray(network_province),
        float(beta_distance),
        float(floor_km),
        float(beta_province),
        float(beta_network),
        float(beta_network_province),
        float(households_per_agent),
    )
