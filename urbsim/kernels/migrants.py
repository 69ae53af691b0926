"""Counting the floating residents of each place by where their hukou is and by head age.

The census of 2010 counts the in-migrants of a county-level unit (persons living there with
hukou elsewhere) by the place of hukou: the same county, another county of the province, another
province. At county level the model sees the last two: a floating household whose hukou place is
in another province is an inter-province migrant, one whose hukou place is another place of the
same province an intra-province (cross-county) migrant. Counts are integers (agent persons), so
they are exact whatever the order of summation, and the same for both household engines.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import COUNT_CHUNKS, JIT_PARALLEL
from urbsim.kernels.checks import check_households
from urbsim.state import AGE_GROUP_STARTS

# Columns of the per-place migrant count (persons of floating households living at the place).
M_OTHER_PROVINCE: Final = 0  # hukou in another province
M_OTHER_COUNTY: Final = 1  # hukou at another place of the same province
M_HEAD_AGE0: Final = 2  # by head age band: M_HEAD_AGE0 + band (see HEAD_AGE_BANDS)
#: Head age bands of the migrant counts (years): 15-29, 30-44, 45-59, 60 and over.
HEAD_AGE_BANDS: Final[tuple[str, ...]] = ("15_29", "30_44", "45_59", "60_plus")
N_M: Final = M_HEAD_AGE0 + len(HEAD_AGE_BANDS)


@njit(**JIT_PARALLEL)
def _count_migrants(
    place: np.ndarray,
    hukou_place: np.ndarray,
    persons: np.ndarray,
    head_age: np.ndarray,
    band_starts: np.ndarray,
    province: np.ndarray,
    out: np.ndarray,
) -> None:
    """Add the migrant counts of every floating household into ``out`` (by chunks of households
    into partial counts summed in chunk order: integers, exact in any order). The head's age
    band (the age groups of :data:`urbsim.state.AGE_GROUPS`, ``band_starts`` their first ages
    after the first; a head under 15, who took over from the household's last adult, counts in
    the first) is found here, without an array of every household's."""
    n = place.shape[0]
    n_chunks = COUNT_CHUNKS
    part = np.zeros((n_chunks, out.shape[0], out.shape[1]), dtype=np.int64)
    for c in prange(n_chunks):
        pc = part[c]
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            p = np.int64(persons[i])
            j = np.int64(place[i])
            o = np.int64(hukou_place[i])
            if p == 0 or o == j:
                continue
            if province[o] != province[j]:
                pc[j, M_OTHER_PROVINCE] += p
            else:
                pc[j, M_OTHER_COUNTY] += p
            a = head_age[i]
            band = 0
            for start in band_starts:
                band += a >= start
            pc[j, M_HEAD_AGE0 + band] += p
    for c in range(n_chunks):
        out += part[c]


def count_migrants(
    households: dict[str, np.ndarray], province: np.ndarray, n_places: int
) -> np.ndarray:
    """Persons of floating households at each place, by hukou scope and by head age band.

    Parameters
    ----------
    households
        Household arrays by field name.
    province
        Province index of every place.
    n_places
        Number of places.

    Returns
    -------
    numpy.ndarray
        int64 ``(n_places, N_M)``, columns ``M_*`` (agent persons, not scaled).

    Raises
    ------
    ValueError
        If ``province`` does not give one province per place, or the households are invalid.
    """
    check_households(households, n_places)
    province = np.ascontiguousarray(province, dtype=np.int64)
    if province.shape != (n_places,):
        raise ValueError(f"province must give one index per place ({n_places}): {province.shape}")
    starts = np.asarray(AGE_GROUP_STARTS, dtype=np.int64)
    if starts.size + 1 != len(HEAD_AGE_BANDS):
        raise ValueError("head age bands must index HEAD_AGE_BANDS")
    out = np.zeros((n_places, N_M), dtype=np.int64)
    _count_migrants(
        households["place"],
        households["hukou_place"],
        households["persons"],
        households["head_age"],
        starts,
        province,
        out,
    )
    return out
