"""Who returns: the yearly return hazard of floating households by their head's age and the
years since they left home, from the household arrays before and after a year.

The national ``return_migrants`` column says how many return; a modeller asking why the return
rate changes over a run needs to know whether the households away return less (the hazard in
each cell falls) or whether the households away are different (more of them in cells that
never return: young heads, recent leavers). :func:`return_cells` counts both for one year;
:func:`composition_rate` applies one year's cell hazards to another year's households away (a
shift-share split of the change). Households keep their row from one year to the next (new
households are appended, dissolved ones keep a row with no persons), so the arrays before and
after a step line up row by row.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from urbsim.analysis.household_years import paired_rows
from urbsim.kernels.migrants import HEAD_AGE_BANDS
from urbsim.state import AGE_GROUP_STARTS, Households

#: Years-away bands (completed years since the household last left its hukou place, at the
#: start of the year): the first years, where studies of return migration find most returns,
#: apart from long stays. The last band is open because the worlds of 2010 carry few longer
#: stays (a household's years away start as its years at the current place).
AWAY_BANDS: Final[tuple[str, ...]] = ("0", "1_2", "3_5", "6_plus")
#: First completed years of each band after the first.
AWAY_BAND_STARTS: Final[tuple[int, ...]] = (1, 3, 6)
#: Columns of :func:`return_cells`, after ``age_band`` and ``away_band``.
COUNTS: Final[tuple[str, ...]] = (
    "households_away",
    "persons_away",
    "households_returned",
    "persons_returned",
    "households_settled",
    "households_left_behind",
    "left_behind_returned",
)


def return_cells(before: Households, after: Households) -> pd.DataFrame:
    """Households living away from their hukou place at the start of a year, and what became of
    them by its end, by the head's age band and the years-away band at the start.

    Parameters
    ----------
    before
        The households at the start of the year.
    after
        The same households at its end (the rows of ``before`` first, as a step leaves them).

    Returns
    -------
    pandas.DataFrame
        One row per head age band (:data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`) and
        years-away band (:data:`AWAY_BANDS`), every combination: :data:`COUNTS`, agent
        households and persons (at the start; multiply by the households per agent for
        national numbers). Returned: living at the start's hukou place at the end, having
        lived elsewhere (a move home); settled: holding another hukou place at the end (took
        local hukou); left behind: with school-age children left at the hukou place at the
        start, and how many of those returned. Households that dissolved in the year count
        away and neither returned nor settled. ``return_hazard`` is households returned over
        households away (NaN in an empty cell): the observed hazard of every return, those
        of the move decision and those of the return hazard
        (:func:`urbsim.kernels.choice.return_hazard`) alike.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    away = (before.place != before.hukou_place) & (before.persons > 0)
    home = before.hukou_place[away]
    alive = after.persons[:n][away] > 0
    returned = alive & (after.place[:n][away] == home)
    settled = alive & (after.hukou_place[:n][away] != home)
    left = before.left_behind[away] > 0
    age = np.digitize(before.head_age[away], AGE_GROUP_STARTS)
    years = np.digitize(before.years_away[away], AWAY_BAND_STARTS)
    cell = age * len(AWAY_BANDS) + years
    cells = len(HEAD_AGE_BANDS) * len(AWAY_BANDS)
    persons = before.persons[away].astype(np.float64)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(cell[mask], weights=w, minlength=cells).astype(np.float64)

    every = np.ones(cell.shape[0], dtype=bool)
    table = pd.DataFrame(
        {
            "age_band": np.repeat(HEAD_AGE_BANDS, len(AWAY_BANDS)),
            "away_band": np.tile(AWAY_BANDS, len(HEAD_AGE_BANDS)),
            "households_away": count(every),
            "persons_away": count(every, persons),
            "households_returned": count(returned),
            "persons_returned": count(returned, persons),
            "households_settled": count(settled),
            "households_left_behind": count(left),
            "left_behind_returned": count(left & returned),
        }
    )
    away_n = table["households_away"]
    table["return_hazard"] = table["households_returned"] / away_n.where(away_n > 0)
    return table


def composition_rate(hazards: pd.DataFrame, cells: pd.DataFrame) -> float:
    """The share of ``cells``' persons away that would return at the cell rates of ``hazards``
    (both :func:`return_cells` tables; persons returned over persons away per cell): the
    return rate of the national ``return_migrants`` with one year's behaviour and another
    year's households away. On ``hazards`` itself it is that table's own rate. A cell empty in
    ``hazards`` but not in ``cells`` gives NaN: no rate was observed for households the other
    year has.
    """
    keys = ["age_band", "away_band"]
    first = hazards.set_index(keys)
    away = first["persons_away"]
    h = first["persons_returned"] / away.where(away > 0)
    c = cells.set_index(keys)["persons_away"]
    h = h.reindex(c.index)
    occupied = c > 0
    if h[occupied].isna().any() or not occupied.any():
        return float("nan")
    return float((h[occupied] * c[occupied]).sum() / c[occupied].sum())
