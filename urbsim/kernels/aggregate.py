"""Counting households into places: integer aggregates, the migrant network, the origin index.

All counts are integers (persons or agent households), so the totals are exact whatever the
order of summation; the place and government updates that read them are then identical for both
household engines.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

from urbsim.config import JIT
from urbsim.kernels.checks import check_households

# Columns of the per-place count matrix (persons unless said otherwise).
A_RESIDENTS: Final = 0
A_URBAN: Final = 1
A_HUKOU_RESIDENTS: Final = 2  # living at their hukou place
A_REGISTERED: Final = 3  # by hukou place, wherever they live
A_NONAGRI_REGISTERED: Final = 4  # non-agricultural hukou, by hukou place
A_FLOATING: Final = 5  # living here, hukou elsewhere
A_PERMIT: Final = 6  # permit holders living here
A_HOUSEHOLDS: Final = 7  # agent households living here
A_URBAN_HOUSEHOLDS: Final = 8
A_URBAN_FLOATING: Final = 9
A_NONAGRI_RESIDENTS: Final = 10  # non-agricultural hukou holders living here
N_A: Final = 11

# Columns of the access-category matrices: full (local hukou), base (no hukou, no permit), then
# permit holders by completed years of residence (last column: that many years or more).
ACC_FULL: Final = 0
ACC_BASE: Final = 1
ACC_PERMIT0: Final = 2


@njit(**JIT)
def _aggregate(
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    persons: np.ndarray,
    n_places: int,
    n_access: int,
    counts: np.ndarray,
    acc_all: np.ndarray,
    acc_urban: np.ndarray,
    net: np.ndarray,
) -> None:
    for i in range(place.shape[0]):
        p = np.int64(persons[i])
        if p == 0:
            continue
        j = np.int64(place[i])
        o = np.int64(hukou_place[i])
        urban = zone[i] == 1
        counts[j, A_RESIDENTS] += p
        counts[j, A_HOUSEHOLDS] += 1
        counts[o, A_REGISTERED] += p
        if hukou_type[i] == 1:
            counts[o, A_NONAGRI_REGISTERED] += p
            counts[j, A_NONAGRI_RESIDENTS] += p
        if urban:
            counts[j, A_URBAN] += p
            counts[j, A_URBAN_HOUSEHOLDS] += 1
        if o == j:
            counts[j, A_HUKOU_RESIDENTS] += p
            cat = ACC_FULL
        else:
            counts[j, A_FLOATING] += p
            net[o, j] += 1
            if urban:
                counts[j, A_URBAN_FLOATING] += p
            if permit[i] == 1:
                counts[j, A_PERMIT] += p
                y = np.int64(years_here[i])
                cat = ACC_PERMIT0 + (y if y < n_access else n_access - 1)
            else:
                cat = ACC_BASE
        acc_all[j, cat] += p
        if urban:
            acc_urban[j, cat] += p


@njit(**JIT)
def _origin_index(
    place: np.ndarray, hukou_place: np.ndarray, persons: np.ndarray, n_places: int
) -> tuple[np.ndarray, np.ndarray]:
    start = np.zeros(n_places + 1, dtype=np.int64)
    for i in range(place.shape[0]):
        if persons[i] > 0 and place[i] != hukou_place[i]:
            start[hukou_place[i] + 1] += 1
    for o in range(n_places):
        start[o + 1] += start[o]
    fill = start[:-1].copy()
    members = np.empty(start[n_places], dtype=np.int64)
    # Ascending household index within each origin: the index is the same however built.
    for i in range(place.shape[0]):
        if persons[i] > 0 and place[i] != hukou_place[i]:
            o = hukou_place[i]
            members[fill[o]] = i
            fill[o] += 1
    return start, members


def aggregate(
    households: dict[str, np.ndarray], n_places: int, n_access: int, net: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count persons into places.

    Parameters
    ----------
    households
        Household arrays by field name.
    n_places
        Number of places.
    n_access
        Length of the permit access schedule.
    net
        Optional int32 ``(n_places, n_places)`` buffer to reuse for the network counts.

    Returns
    -------
    counts : ndarray, int64 (n_places, N_A)
        Per-place counts, columns ``A_*``.
    acc_all, acc_urban : ndarray, int64 (n_places, 2 + n_access)
        Persons by access category (``ACC_*``), all residents and urban-zone residents.
    net : ndarray, int32 (n_places, n_places)
        Floating agent households by (hukou place, current place).
    """
    if n_places < 1 or n_access < 1:
        raise ValueError("n_places and n_access must be positive")
    check_households(households, n_places)
    place = households["place"]
    counts = np.zeros((n_places, N_A), dtype=np.int64)
    acc_all = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    acc_urban = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    if net is None or net.shape != (n_places, n_places):
        net = np.zeros((n_places, n_places), dtype=np.int32)
    else:
        net.fill(0)
    _aggregate(
        place,
        households["zone"],
        households["hukou_place"],
        households["hukou_type"],
        households["years_here"],
        households["permit"],
        households["persons"],
        n_places,
        n_access,
        counts,
        acc_all,
        acc_urban,
        net,
    )
    return counts, acc_all, acc_urban, net


def origin_index(households: dict[str, np.ndarray], n_places: int) -> tuple[np.ndarray, np.ndarray]:
    """Floating households grouped by hukou place, in ascending household index.

    Returns
    -------
    start : ndarray, int64 (n_places + 1,)
    members : ndarray, int64
        Members of origin ``o`` are ``members[start[o]:start[o + 1]]``.
    """
    if n_places < 1:
        raise ValueError("n_places must be positive")
    check_households(households, n_places)
    return _origin_index(
        households["place"], households["hukou_place"], households["persons"], n_places
    )
