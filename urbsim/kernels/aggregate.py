"""Counting households into places: integer aggregates, the migrant network, the origin index.

All counts are integers (persons or agent households), so the totals are exact whatever the
order of summation; the place and government updates that read them are then identical for both
household engines.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
from numba import njit, prange

from urbsim.config import COUNT_CHUNKS, JIT, JIT_PARALLEL
from urbsim.kernels.checks import check_households

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "f36bf56c3433d150"

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

#: Largest entry of the one-byte network copy: an entry equal to it means "this many or more".
NET8_SATURATED: Final = 255


class Counts(NamedTuple):
    """Everything one count of the households produces (see :func:`count_households`)."""

    counts: np.ndarray
    acc_all: np.ndarray
    acc_urban: np.ndarray
    net: np.ndarray
    net8: np.ndarray
    origin_start: np.ndarray
    origin_members: np.ndarray


#: Households an origin index can list (its members are ``int32``).
MEMBER_ROWS: Final = 2**31


def _check_member_rows(n: int) -> None:
    """Refuse household arrays of more rows than an ``int32`` origin index can list."""
    if n > MEMBER_ROWS:
        raise ValueError(f"{n} household rows: an origin index lists at most {MEMBER_ROWS:,}")


@njit(**JIT_PARALLEL)
def _aggregate(
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    hukou_type: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    persons: np.ndarray,
    n_access: int,
    counts: np.ndarray,
    acc_all: np.ndarray,
    acc_urban: np.ndarray,
    per_origin: np.ndarray,
) -> None:
    """Per-place counts, by chunks of households into partial counts, then summed in chunk
    order (integers, so the sums are exact whatever the grouping); ``per_origin[c, o]``
    counts chunk ``c``'s floating households with hukou place ``o`` (for :func:`_origin_fill`).
    """
    n_chunks = per_origin.shape[0]
    n = place.shape[0]
    n_places = counts.shape[0]
    # Partial counts in int32 (half the memory to clear and add up): a chunk's persons at one
    # place stay below 2**31 up to some 140 million households per chunk.
    part_counts = np.zeros((n_chunks, n_places, N_A), dtype=np.int32)
    part_all = np.zeros((n_chunks, n_places, acc_all.shape[1]), dtype=np.int32)
    part_urban = np.zeros((n_chunks, n_places, acc_all.shape[1]), dtype=np.int32)
    for c in prange(n_chunks):
        pc = part_counts[c]
        pa = part_all[c]
        pu = part_urban[c]
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            p = np.int64(persons[i])
            if p == 0:
                continue
            j = np.int64(place[i])
            o = np.int64(hukou_place[i])
            urban = zone[i] == 1
            pc[j, A_RESIDENTS] += p
            pc[j, A_HOUSEHOLDS] += 1
            pc[o, A_REGISTERED] += p
            if hukou_type[i] == 1:
                pc[o, A_NONAGRI_REGISTERED] += p
                pc[j, A_NONAGRI_RESIDENTS] += p
            if urban:
                pc[j, A_URBAN] += p
                pc[j, A_URBAN_HOUSEHOLDS] += 1
            if o == j:
                pc[j, A_HUKOU_RESIDENTS] += p
                cat = ACC_FULL
            else:
                per_origin[c, o] += 1
                pc[j, A_FLOATING] += p
                if urban:
                    pc[j, A_URBAN_FLOATING] += p
                if permit[i] == 1:
                    pc[j, A_PERMIT] += p
                    y = np.int64(years_here[i])
                    cat = ACC_PERMIT0 + (y if y < n_access else n_access - 1)
                else:
                    cat = ACC_BASE
            pa[j, cat] += p
            if urban:
                pu[j, cat] += p
    for c in range(n_chunks):
        counts += part_counts[c]
        acc_all += part_all[c]
        acc_urban += part_urban[c]


@njit(**JIT_PARALLEL)
def _origin_counts(
    place: np.ndarray, hukou_place: np.ndarray, persons: np.ndarray, per_origin: np.ndarray
) -> None:
    n = place.shape[0]
    n_chunks = per_origin.shape[0]
    for c in prange(n_chunks):
        row = per_origin[c]
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            if persons[i] > 0 and place[i] != hukou_place[i]:
                row[hukou_place[i]] += 1


@njit(**JIT_PARALLEL)
def _origin_fill(
    place: np.ndarray, hukou_place: np.ndarray, persons: np.ndarray, per_origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Floating households grouped by hukou place, ascending household index within each: a
    counting sort by chunks. ``per_origin[c, o]`` (floating households of chunk ``c`` with
    hukou place ``o``) become offsets in (origin, chunk) order, then each chunk fills its own
    slots, so the index is the same however many chunks build it."""
    n = place.shape[0]
    n_chunks, n_places = per_origin.shape
    start = np.zeros(n_places + 1, dtype=np.int64)
    total = 0
    for o in range(n_places):
        start[o] = total
        for c in range(n_chunks):
            k = per_origin[c, o]
            per_origin[c, o] = total
            total += k
    start[n_places] = total
    # int32: the index is held through the household step (a fifth of the rows are floating),
    # and half its bytes are a gigabyte at one agent per household (MEMBER_ROWS bounds them).
    members = np.empty(total, dtype=np.int32)
    for c in prange(n_chunks):
        fill = per_origin[c]
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            if persons[i] > 0 and place[i] != hukou_place[i]:
                o = hukou_place[i]
                members[fill[o]] = i
                fill[o] += 1
    return start, members


@njit(**JIT_PARALLEL)
def _network(
    place: np.ndarray,
    start: np.ndarray,
    members: np.ndarray,
    net: np.ndarray,
    net8: np.ndarray,
    n_chunks: int,
) -> None:
    """Floating households by (hukou place, current place) from the origin index, and the
    same saturated to one byte (:func:`saturate`): each chunk of origins owns its rows, so
    the rows are cleared and counted in parallel."""
    n_places = net.shape[0]
    for c in prange(n_chunks):
        for o in range(c * n_places // n_chunks, (c + 1) * n_places // n_chunks):
            row = net[o]
            row[:] = 0
            for k in range(start[o], start[o + 1]):
                row[place[members[k]]] += 1
            row8 = net8[o]
            for j in range(n_places):
                row8[j] = row[j] if row[j] < NET8_SATURATED else NET8_SATURATED


@njit(**JIT_PARALLEL)
def _saturate(net: np.ndarray, out: np.ndarray, n_chunks: int) -> None:
    n = net.shape[0]
    for c in prange(n_chunks):
        for o in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            for j in range(net.shape[1]):
                k = net[o, j]
                out[o, j] = k if k < NET8_SATURATED else NET8_SATURATED


def saturate(net: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The network matrix as ``uint8``, entries above 254 stored as :data:`NET8_SATURATED`.

    The household step looks the network up for every alternative of every mover at random
    places; a quarter of the bytes of the int32 matrix keeps far more of it in cache, and the
    exact matrix is read only where the copy is saturated.
    """
    if out is None or out.shape != net.shape:
        out = np.empty(net.shape, dtype=np.uint8)
    _saturate(net, out, COUNT_CHUNKS)
    return out


def count_households(
    households: dict[str, np.ndarray],
    n_places: int,
    n_access: int,
    net: np.ndarray | None = None,
    net8: np.ndarray | None = None,
) -> Counts:
    """Count persons into places, and index the floating households by hukou place.

    Parameters
    ----------
    households
        Household arrays by field name.
    n_places
        Number of places.
    n_access
        Length of the permit access schedule.
    net, net8
        Optional ``(n_places, n_places)`` buffers (int32, uint8) to reuse for the network.

    Returns
    -------
    Counts
        ``counts`` (int64 ``(n_places, N_A)``, columns ``A_*``); ``acc_all`` and ``acc_urban``
        (int64 ``(n_places, 2 + n_access)``, persons by access category ``ACC_*``, all and
        urban-zone residents); ``net`` (int32, floating agent households by (hukou place,
        current place)) and ``net8`` (the same saturated at :data:`NET8_SATURATED`);
        ``origin_start`` and ``origin_members`` (:func:`origin_index`).
    """
    if n_places < 1 or n_access < 1:
        raise ValueError("n_places and n_access must be positive")
    check_households(households, n_places)
    _check_member_rows(households["place"].shape[0])
    place = households["place"]
    per_origin = np.zeros((COUNT_CHUNKS, n_places), dtype=np.int64)
    counts = np.zeros((n_places, N_A), dtype=np.int64)
    acc_all = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    acc_urban = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    if net is None or net.shape != (n_places, n_places) or net.dtype != np.int32:
        net = np.zeros((n_places, n_places), dtype=np.int32)
    if net8 is None or net8.shape != (n_places, n_places) or net8.dtype != np.uint8:
        net8 = np.zeros((n_places, n_places), dtype=np.uint8)
    _aggregate(
        place,
        households["zone"],
        households["hukou_place"],
        households["hukou_type"],
        households["years_here"],
        households["permit"],
        households["persons"],
        n_access,
        counts,
        acc_all,
        acc_urban,
        per_origin,
    )
    start, members = _origin_fill(
        place, households["hukou_place"], households["persons"], per_origin
    )
    _network(place, start, members, net, net8, COUNT_CHUNKS)
    return Counts(counts, acc_all, acc_urban, net, net8, start, members)


def aggregate(
    households: dict[str, np.ndarray], n_places: int, n_access: int, net: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count persons into places: the first four results of :func:`count_households`.

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
    c = count_households(households, n_places, n_access, net)
    return c.counts, c.acc_all, c.acc_urban, c.net


def origin_index(households: dict[str, np.ndarray], n_places: int) -> tuple[np.ndarray, np.ndarray]:
    """Floating households grouped by hukou place, in ascending household index.

    Returns
    -------
    start : ndarray, int64 (n_places + 1,)
    members : ndarray, int32
        Members of origin ``o`` are ``members[start[o]:start[o + 1]]``.

    Raises
    ------
    ValueError
        When there are more than :data:`MEMBER_ROWS` households, or no places.
    """
    if n_places < 1:
        raise ValueError("n_places must be positive")
    check_households(households, n_places)
    _check_member_rows(households["place"].shape[0])
    place, hukou_place, persons = (
        households["place"],
        households["hukou_place"],
        households["persons"],
    )
    per_origin = np.zeros((COUNT_CHUNKS, n_places), dtype=np.int64)
    _origin_counts(place, hukou_place, persons, per_origin)
    return _origin_fill(place, hukou_place, persons, per_origin)


#: Age of the head from which a household's persons count as users of elderly care.
ELDERLY_HEAD_AGE: Final = 60


@njit(**JIT)
def _access_category(o: int, j: int, permit: int, years: int, n_access: int) -> int:
    """Access category (``ACC_*``) of a household with hukou place ``o`` living at ``j``."""
    if o == j:
        return ACC_FULL
    if permit == 1:
        return ACC_PERMIT0 + (years if years < n_access else n_access - 1)
    return ACC_BASE


@njit(**JIT_PARALLEL)
def _service_users(
    place: np.ndarray,
    zone: np.ndarray,
    hukou_place: np.ndarray,
    years_here: np.ndarray,
    permit: np.ndarray,
    persons: np.ndarray,
    children: np.ndarray,
    left_behind: np.ndarray,
    head_age: np.ndarray,
    n_access: int,
    acc_children: np.ndarray,
    acc_elderly: np.ndarray,
) -> None:
    """Urban-zone school-age children (but those left behind at the hukou place) and persons
    of households headed by someone 60+, by place and access category; chunks summed in chunk
    order (integers: exact)."""
    n_chunks = COUNT_CHUNKS
    n = place.shape[0]
    shape = (n_chunks, acc_children.shape[0], acc_children.shape[1])
    part_children = np.zeros(shape, dtype=np.int64)
    part_elderly = np.zeros(shape, dtype=np.int64)
    for c in prange(n_chunks):
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            if persons[i] == 0 or zone[i] != 1:
                continue
            j = np.int64(place[i])
            cat = _access_category(
                np.int64(hukou_place[i]), j, np.int64(permit[i]), np.int64(years_here[i]), n_access
            )
            if left_behind[i] == 0:
                part_children[c, j, cat] += np.int64(children[i])
            if head_age[i] >= ELDERLY_HEAD_AGE:
                part_elderly[c, j, cat] += np.int64(persons[i])
    for c in range(n_chunks):
        acc_children += part_children[c]
        acc_elderly += part_elderly[c]


def count_service_users(
    households: dict[str, np.ndarray], n_places: int, n_access: int
) -> tuple[np.ndarray, np.ndarray]:
    """Users of the age-specific public services in the urban zone, by access category.

    Parameters
    ----------
    households
        Household arrays by field name.
    n_places, n_access
        Number of places; length of the permit access schedule.

    Returns
    -------
    acc_children, acc_elderly : ndarray, int64 (n_places, 2 + n_access)
        School-age children (the ``children`` field; none of a household whose children were
        left behind at its hukou place: they go to school there), and persons of households
        whose head is 60 or older, by place and access category (``ACC_*``), urban zone only.
    """
    if n_places < 1 or n_access < 1:
        raise ValueError("n_places and n_access must be positive")
    check_households(households, n_places)
    acc_children = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    acc_elderly = np.zeros((n_places, 2 + n_access), dtype=np.int64)
    _service_users(
        households["place"],
        households["zone"],
        households["hukou_place"],
        households["years_here"],
        households["permit"],
        households["persons"],
        households["children"],
        households["left_behind"],
        households["head_age"],
        n_access,
        acc_children,
        acc_elderly,
    )
    return acc_children, acc_elderly


@njit(**JIT)
def _province_network(
    origin_start: np.ndarray, origin_places: np.ndarray, province: np.ndarray, out: np.ndarray
) -> None:
    for o in range(origin_start.shape[0] - 1):
        p = province[o]
        row = out[p]
        for k in range(origin_start[o], origin_start[o + 1]):
            j = origin_places[k]
            # Only other provinces: a corridor leads out of the province of origin.
            if province[j] != p:
                row[j] += 1


def province_network(
    origin_start: np.ndarray, origin_places: np.ndarray, province: np.ndarray
) -> np.ndarray:
    """Floating agent households by (hukou province, current place) for current places outside
    the hukou province: the migrant network of a whole province of origin, which lets chain
    migration build corridors between provinces.

    Places inside the hukou province count zero. Floating households from the same province
    living there are the province's own cross-county migrants, concentrated in its capital and
    large cities; counting them as a network of fellow provincials would make every such city a
    "corridor" of the whole province and keep movers at home (on the census world in 2011 it
    kept about 64 % of the movers from 临泉县, Anhui, who left their county inside Anhui,
    against 28 % without it, while the 2010 census county data put about three quarters of
    Anhui's out-migrants in other provinces). Within the province the network of the
    household's own hukou place still counts (``network``).

    Parameters
    ----------
    origin_start
        Offsets of the origin index (:func:`origin_index`), ``n_places + 1``.
    origin_places
        Current place of each member of the origin index, in its order.
    province
        Province index of every place.

    Returns
    -------
    numpy.ndarray
        ``int32`` ``(n_provinces, n_places)``, ``n_provinces = province.max() + 1``.
    """
    n_places = origin_start.shape[0] - 1
    if province.shape != (n_places,) or origin_places.shape[0] != origin_start[-1]:
        raise ValueError("province needs one entry per place, origin_places one per member")
    n_prov = int(province.max()) + 1 if n_places else 0
    out = np.zeros((n_prov, n_places), dtype=np.int32)
    _province_network(
        origin_start, origin_places.astype(np.int64, copy=False), province.astype(np.int64), out
    )
    return out
