"""Where the out-migrant workers come from and where they go: one year's flows into and out of
the count of the national ``outmigrant_workers`` column, by the household head's age band.

``outmigrant_workers`` (:func:`urbsim.kernels.migrants.working_age_persons` of the floating
households with agricultural hukou) is what the calibration's out-migrant workers index reads.
When it falls short of the official series, a modeller needs to know which flow is short: too
few households leave home (and whether because fewer can, the pool at home shrinking, or
because each leaves less often), or too many come back, take local hukou, or age out of
working age. :func:`worker_flows` splits one year's change into those flows from the household
arrays before and after the year; the flows add up to the change exactly
(:data:`ACCOUNTING`). Households keep their row from one year to the next (households formed in
the year are appended; dissolved ones keep a row with no persons), so the arrays before and
after a step line up row by row.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from urbsim.analysis.household_years import exits, paired_rows
from urbsim.kernels.migrants import HEAD_AGE_BANDS, WORK_AGES
from urbsim.state import AGE_GROUP_STARTS, AGRICULTURAL, Households

#: Columns of :func:`worker_flows` after ``age_band``: agent persons of working age.
FLOWS: Final[tuple[str, ...]] = (
    "workers_start",
    "pool_start",
    "left_home",
    "returned",
    "settled",
    "dissolved",
    "other_exit",
    "within",
    "formed",
)
#: The identity the flows satisfy, summed over the bands: workers at the end of the year.
ACCOUNTING: Final = (
    "workers_end = workers_start + left_home + within + formed"
    " - returned - settled - dissolved - other_exit"
)
#: Bits of ``kids`` of children of working age (every bit from the first working age up).
_WORKING_KIDS: Final = np.uint32(((1 << 32) - 1) ^ ((1 << WORK_AGES[0]) - 1))


def _bits(x: np.ndarray) -> np.ndarray:
    """Set bits of each ``uint32`` (int64): the SWAR count, since ``np.bitwise_count`` needs
    numpy 2 and the package allows 1.26."""
    x = x.astype(np.uint32)
    x = x - ((x >> np.uint32(1)) & np.uint32(0x55555555))
    x = (x & np.uint32(0x33333333)) + ((x >> np.uint32(2)) & np.uint32(0x33333333))
    x = (x + (x >> np.uint32(4))) & np.uint32(0x0F0F0F0F)
    return ((x * np.uint32(0x01010101)) >> np.uint32(24)).astype(np.int64)


def working_age(households: Households) -> np.ndarray:
    """Persons of working age in every household (int64): its adults, all at the head's age,
    when the head is of working age, and its resident children of working age (numpy twin of
    :func:`urbsim.kernels.migrants.working_age_persons`)."""
    kids = households.kids.astype(np.uint32)
    adults = households.persons.astype(np.int64) - _bits(kids)
    head = households.head_age.astype(np.int64)
    of_age = (head >= WORK_AGES[0]) & (head <= WORK_AGES[1])
    return _bits(kids & _WORKING_KIDS) + np.where(of_age, adults, 0)


def _workers(households: Households) -> tuple[np.ndarray, np.ndarray]:
    """Out-migrant workers of every household (0 where it is not one) and the mask of the
    households counted: alive, away from the hukou place, agricultural hukou."""
    h = households
    counted = (h.persons > 0) & (h.place != h.hukou_place) & (h.hukou_type == AGRICULTURAL)
    return np.where(counted, working_age(h), 0), counted


def worker_flows(before: Households, after: Households) -> pd.DataFrame:
    """One year's flows of out-migrant workers, by the head's age band.

    Parameters
    ----------
    before
        The households at the start of the year.
    after
        The same households at its end (the rows of ``before`` first, as a step leaves them).

    Returns
    -------
    pandas.DataFrame
        One row per head age band (:data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`; the band at
        the start of the year, for households formed in the year the band at its end) with
        :data:`FLOWS`, agent persons of working age (multiply by the households per agent for
        national numbers):

        - ``workers_start``: out-migrant workers at the start (floating households with
          agricultural hukou);
        - ``pool_start``: working-age persons of the households with agricultural hukou living
          at their hukou place at the start, those who can leave;
        - ``left_home``: workers at the end in households that were not counted at the start
          (they left their hukou place in the year);
        - ``returned``, ``settled``, ``dissolved``, ``other_exit``: workers at the start in
          households not counted at the end because they live at the start's hukou place
          again, hold another hukou place (took local hukou), have no persons left, or for
          another reason (another hukou type);
        - ``within``: the change inside households counted at both ends (ageing into and out
          of working age, deaths, children leaving to form households of their own);
        - ``formed``: workers in households formed in the year that are counted at its end.

        ``departure_rate``: ``left_home`` (counted at the year's end) over ``pool_start``
        (NaN for an empty pool). The flows satisfy :data:`ACCOUNTING`.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    w0, c0 = _workers(before)
    w_end, c_end = _workers(after)
    w1, c1 = w_end[:n], c_end[:n]
    band0 = np.digitize(before.head_age, AGE_GROUP_STARTS)
    band_new = np.digitize(after.head_age[n:], AGE_GROUP_STARTS)
    out = exits(before, after, c0, c_end)
    pool = (before.persons > 0) & (before.place == before.hukou_place)
    pool &= before.hukou_type == AGRICULTURAL
    both = c0 & c1
    bands = len(HEAD_AGE_BANDS)

    def by_band(values: np.ndarray, mask: np.ndarray, band: np.ndarray = band0) -> np.ndarray:
        return np.bincount(band[mask], weights=values[mask], minlength=bands)

    table = pd.DataFrame(
        {
            "age_band": HEAD_AGE_BANDS,
            "workers_start": by_band(w0, c0),
            "pool_start": by_band(working_age(before), pool),
            "left_home": by_band(w1, ~c0 & c1),
            "returned": by_band(w0, out.returned),
            "settled": by_band(w0, out.settled),
            "dissolved": by_band(w0, out.dissolved),
            "other_exit": by_band(w0, out.other),
            "within": by_band(w1 - w0, both),
            "formed": by_band(w_end[n:], c_end[n:], band_new),
        }
    )
    table[list(FLOWS)] = table[list(FLOWS)].astype(np.int64)
    pool_n = table["pool_start"]
    table["departure_rate"] = table["left_home"] / pool_n.where(pool_n > 0)
    return table


def workers_end(table: pd.DataFrame) -> int:
    """Out-migrant workers at the end of the year by :data:`ACCOUNTING` (summed over bands)."""
    t = table.sum(numeric_only=True)
    gained = t["workers_start"] + t["left_home"] + t["within"] + t["formed"]
    return int(gained - t["returned"] - t["settled"] - t["dissolved"] - t["other_exit"])


def left_far(before: Households, after: Households, province: np.ndarray) -> np.ndarray:
    """Of each band's ``left_home`` (:func:`worker_flows`), the workers whose household lives in
    another province than its hukou place at the end of the year (int64, one per head age
    band): how many of those leaving home go far.

    Parameters
    ----------
    before, after
        As :func:`worker_flows`.
    province
        Province index of every place.

    Returns
    -------
    numpy.ndarray
        int64, one per head age band (:data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`, the band
        at the start of the year).

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    _, c0 = _workers(before)
    w_end, c_end = _workers(after)
    far = province[after.place[:n]] != province[after.hukou_place[:n]]
    leaving = ~c0 & c_end[:n] & far
    band = np.digitize(before.head_age, AGE_GROUP_STARTS)
    return np.bincount(
        band[leaving], weights=w_end[:n][leaving], minlength=len(HEAD_AGE_BANDS)
    ).astype(np.int64)
