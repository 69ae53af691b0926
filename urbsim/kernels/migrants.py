"""Counting the floating residents of each place by where their hukou is, by head age, and
the out-migrant workers among them.

The census of 2010 counts the in-migrants of a county-level unit (persons living there with
hukou elsewhere) by the place of hukou: the same county, another county of the province, another
province. At county level the model sees the last two: a floating household whose hukou place is
in another province is an inter-province migrant, one whose hukou place is another place of the
same province an intra-province (cross-county) migrant. Counts are integers (agent persons), so
they are exact whatever the order of summation, and the same for both household engines.

The out-migrant workers (*waichu nongmingong*) of the NBS migrant worker monitoring survey are
rural-hukou persons working outside their home township. The model has no employment status by
person, so its count is their demographic part at county level: the persons of working age
(:data:`WORK_AGES`) of floating households with agricultural hukou (adults at the head's age,
resident children by their own ages).

The migrant dynamic monitoring survey of the health commission (NHFPC) interviews one migrant
aged 15-59 per household and reports their mean age. The model's analogue is the mean age of
the heads aged :data:`SURVEY_AGES` of floating households, one per household: the count of those
heads and the sum of their ages are kept, integers like the rest.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit, prange

from urbsim.config import COUNT_CHUNKS, JIT_INLINE, JIT_PARALLEL
from urbsim.kernels import layout as L
from urbsim.kernels.checks import check_households
from urbsim.kernels.demography import popcount
from urbsim.state import AGE_GROUP_STARTS, AGRICULTURAL

#: Digest of the urbsim modules compiled into this module's Numba code. Numba's cache looks at
#: this file alone, so a change to them must change this file (tests/kernels/test_compiled_with.py).
COMPILED_WITH: Final = "bfa899603366d2e5"

# Columns of the per-place migrant count (persons of floating households living at the place).
M_OTHER_PROVINCE: Final = 0  # hukou in another province
M_OTHER_COUNTY: Final = 1  # hukou at another place of the same province
M_WORKERS: Final = 2  # working-age persons of floating households with agricultural hukou
M_HEAD_AGE0: Final = 3  # by head age band: M_HEAD_AGE0 + band (see HEAD_AGE_BANDS)
#: Head age bands of the migrant counts (years): 15-29, 30-44, 45-59, 60 and over.
HEAD_AGE_BANDS: Final[tuple[str, ...]] = ("15_29", "30_44", "45_59", "60_plus")
#: Those of M_WORKERS whose hukou is in another province (the survey's inter-provincial
#: out-migrant workers).
M_WORKERS_OTHER_PROVINCE: Final = M_HEAD_AGE0 + len(HEAD_AGE_BANDS)
#: Persons of floating households at their current place for under RECENT_YEARS completed years
#: (the recent arrivals, whose share measures the migrants' turnover).
M_RECENT: Final = M_WORKERS_OTHER_PROVINCE + 1
#: Children (under CHILD_AGES_END) of floating households: the migrant children of the census
#: and the child population surveys (liudong ertong).
M_CHILDREN: Final = M_RECENT + 1
#: Those of M_CHILDREN of school age whose household left them at its hukou place
#: (``left_behind``): counted here with their household, living there (docs/ODD.md 2.1).
M_CHILDREN_LEFT_BEHIND: Final = M_CHILDREN + 1
#: Floating households whose head is of the survey's ages (:data:`SURVEY_AGES`): households,
#: not persons.
M_SURVEY_HEADS: Final = M_CHILDREN_LEFT_BEHIND + 1
#: Sum of the ages (years) of those heads: over M_SURVEY_HEADS, their mean age.
M_SURVEY_HEAD_AGES: Final = M_SURVEY_HEADS + 1
N_M: Final = M_SURVEY_HEAD_AGES + 1
#: Ages (first, last; years) of the migrant survey's respondents (the NHFPC's migrant dynamic
#: monitoring survey interviews migrants aged 15-59), whose mean age the heads' is compared with.
SURVEY_AGES: Final[tuple[int, int]] = (15, 59)
#: Completed years at the current place under which a floating household is a recent arrival:
#: the migrant survey's "three years or more in the current place" (docs/ODD.md 7.17).
RECENT_YEARS: Final = 3
#: Working ages (first, last; years) of the out-migrant workers' count: the survey counts
#: workers from 16; 64 is the last year of the working-age population of the NBS tables
#: (15-64), beyond which few migrant workers remain.
WORK_AGES: Final[tuple[int, int]] = (16, 64)
#: Bits of ``kids`` of the resident children of working age (all are younger than 32).
_WORKING_KIDS: Final = ((1 << 32) - 1) ^ ((1 << WORK_AGES[0]) - 1)
#: First age that is no longer a child's (years): the surveys of migrant children count 0-17.
CHILD_AGES_END: Final = 18
#: Bits of ``kids`` of the children under CHILD_AGES_END.
_CHILD_KIDS: Final = (1 << CHILD_AGES_END) - 1


@njit(**JIT_INLINE)
def working_age_persons(persons: int, head_age: int, kids: int) -> int:
    """Persons of working age (:data:`WORK_AGES`) in a household: its adults (``persons`` less
    its resident children), all at the head's age, and its resident children (bit ``a`` of
    ``kids`` a child aged ``a``) of those ages."""
    n = popcount(kids & _WORKING_KIDS)
    if WORK_AGES[0] <= head_age <= WORK_AGES[1]:
        n += persons - popcount(kids)
    return n


@njit(**JIT_INLINE)
def child_persons(persons: int, head_age: int, kids: int) -> int:
    """Persons under :data:`CHILD_AGES_END` in a household: its resident children of those
    ages and, when the head is that young (a child who took over from the last adult), its
    adults too (they are at the head's age)."""
    n = popcount(kids & _CHILD_KIDS)
    if head_age < CHILD_AGES_END:
        n += persons - popcount(kids)
    return n


@njit(**JIT_PARALLEL)
def _count_migrants(
    place: np.ndarray,
    hukou_place: np.ndarray,
    persons: np.ndarray,
    head_age: np.ndarray,
    hukou_type: np.ndarray,
    kids: np.ndarray,
    years_here: np.ndarray,
    left_behind: np.ndarray,
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
            far = province[o] != province[j]
            if far:
                pc[j, M_OTHER_PROVINCE] += p
            else:
                pc[j, M_OTHER_COUNTY] += p
            a = head_age[i]
            band = 0
            for start in band_starts:
                band += a >= start
            pc[j, M_HEAD_AGE0 + band] += p
            if SURVEY_AGES[0] <= a <= SURVEY_AGES[1]:
                pc[j, M_SURVEY_HEADS] += 1
                pc[j, M_SURVEY_HEAD_AGES] += a
            if years_here[i] < RECENT_YEARS:
                pc[j, M_RECENT] += p
            k = np.int64(kids[i])
            pc[j, M_CHILDREN] += child_persons(p, np.int64(a), k)
            if left_behind[i] == 1:
                pc[j, M_CHILDREN_LEFT_BEHIND] += popcount(k & L.SCHOOL_MASK)
            if hukou_type[i] == AGRICULTURAL:
                w = working_age_persons(p, np.int64(a), np.int64(kids[i]))
                pc[j, M_WORKERS] += w
                if far:
                    pc[j, M_WORKERS_OTHER_PROVINCE] += w
    for c in range(n_chunks):
        out += part[c]


def count_migrants(
    households: dict[str, np.ndarray], province: np.ndarray, n_places: int
) -> np.ndarray:
    """Persons of floating households at each place, by hukou scope and by head age band, the
    out-migrant workers among them (:func:`working_age_persons` of the households with
    agricultural hukou), the recent arrivals (under :data:`RECENT_YEARS` years there), the
    children (:func:`child_persons`), the school-age children left behind at the hukou place,
    and the heads of the survey's ages (:data:`SURVEY_AGES`) with the sum of their ages.

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
        int64 ``(n_places, N_M)``, columns ``M_*`` (agent persons, not scaled; the survey
        heads' columns count agent households and sum their years of age).

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
        households["hukou_type"],
        households["kids"],
        households["years_here"],
        households["left_behind"],
        starts,
        province,
        out,
    )
    return out
