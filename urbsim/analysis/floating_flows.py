"""Who the floating persons are by hukou type: one year's flows into and out of the floating
population of each hukou type.

The official series have the out-migrant workers (rural hukou) growing from 2011 to 2019 while
the persons away from their hukou township grow only to 2014; a model whose floating population
grows with its workers needs to know which part grows: those with agricultural hukou, or those
with urban (non-agricultural) hukou, who leave home from a pool that local conversions enlarge.
:func:`floating_by_hukou` splits one year's change of each part into its flows from the
household arrays before and after the year (rows line up: households formed in the year are
appended, dissolved ones keep a row with no persons); the flows add up to the change exactly
(:data:`ACCOUNTING`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from urbsim.analysis.household_years import exits, paired_rows
from urbsim.state import AGRICULTURAL, NON_AGRICULTURAL, Households

#: Hukou types of the rows of :func:`floating_by_hukou`, in order.
HUKOU_TYPES: Final[dict[str, int]] = {
    "agricultural": AGRICULTURAL,
    "non_agricultural": NON_AGRICULTURAL,
}
#: Columns of :func:`floating_by_hukou` after ``hukou_type``: agent persons.
FLOWS: Final[tuple[str, ...]] = (
    "floating_start",
    "left_home",
    "other_entry",
    "returned",
    "settled",
    "dissolved",
    "other_exit",
    "within",
    "formed",
    "floating_end",
)
#: Columns after :data:`FLOWS`: moves that change where floating persons live but not how
#: many they are (outside :data:`ACCOUNTING`).
TURNOVER: Final[tuple[str, ...]] = ("moved_on",)
#: The identity the flows satisfy for each hukou type.
ACCOUNTING: Final = (
    "floating_end = floating_start + left_home + other_entry + within + formed"
    " - returned - settled - dissolved - other_exit"
)


def _floating(households: Households, hukou_type: int) -> np.ndarray:
    """Mask of the households counted: alive, away from the hukou place, of the hukou type."""
    h = households
    return (h.persons > 0) & (h.place != h.hukou_place) & (h.hukou_type == hukou_type)


def floating_by_hukou(before: Households, after: Households) -> pd.DataFrame:
    """One year's flows of floating persons, by hukou type.

    Parameters
    ----------
    before
        The households at the start of the year.
    after
        The same households at its end (the rows of ``before`` first, as a step leaves them).

    Returns
    -------
    pandas.DataFrame
        One row per hukou type (:data:`HUKOU_TYPES`) with :data:`FLOWS`, agent persons
        (multiply by the households per agent for national numbers), then :data:`TURNOVER`:

        - ``floating_start``, ``floating_end``: persons of floating households of the type
          at the start and at the end of the year;
        - ``left_home``: persons at the end in households counted then that lived at their
          hukou place at the start; ``other_entry``: those of the other households counted at
          the end but not at the start (floating with the other hukou type at the start);
        - ``returned``, ``settled``, ``dissolved``, ``other_exit``: persons at the start in
          households counted then but not at the end because they live at the start's hukou
          place again, hold another hukou place (took local hukou), have no persons left, or
          for another reason (another hukou type);
        - ``within``: the change inside households counted at both ends (births, deaths,
          children leaving to form households of their own);
        - ``formed``: persons of households formed in the year counted at its end;
        - ``moved_on``: persons at the end in households counted at both ends that live at
          another place than at the start (onward moves from one place away to another).
          With ``left_home`` they are the arrivals of the year at a place away from home,
          the turnover behind the survey's recent arrivals (``recent_arrival_share``).

        The flows satisfy :data:`ACCOUNTING`; ``moved_on`` is not in it.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    p0 = before.persons.astype(np.int64)
    p_end = after.persons.astype(np.int64)
    p1 = p_end[:n]
    at_home = (before.persons > 0) & (before.place == before.hukou_place)
    rows = []
    for name, hukou_type in HUKOU_TYPES.items():
        c0 = _floating(before, hukou_type)
        c_end = _floating(after, hukou_type)
        c1 = c_end[:n]
        out = exits(before, after, c0, c_end)
        entries, both = ~c0 & c1, c0 & c1
        left_home = entries & at_home
        rows.append(
            {
                "hukou_type": name,
                "floating_start": int(p0[c0].sum()),
                "left_home": int(p1[left_home].sum()),
                "other_entry": int(p1[entries & ~at_home].sum()),
                "returned": int(p0[out.returned].sum()),
                "settled": int(p0[out.settled].sum()),
                "dissolved": int(p0[out.dissolved].sum()),
                "other_exit": int(p0[out.other].sum()),
                "within": int((p1[both] - p0[both]).sum()),
                "formed": int(p_end[n:][c_end[n:]].sum()),
                "floating_end": int(p_end[c_end].sum()),
                "moved_on": int(p1[both & (after.place[:n] != before.place)].sum()),
            }
        )
    return pd.DataFrame(rows, columns=["hukou_type", *FLOWS, *TURNOVER])
