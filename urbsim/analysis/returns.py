"""Who returns: the yearly return hazard of floating households by their head's age, the years
since they left home and the years at their current place, from the household arrays before and
after a year.

The national ``return_migrants`` column says how many return; a modeller asking why the return
rate changes over a run needs to know whether the households away return less (the hazard in
each cell falls) or whether the households away are different (more of them in cells that
never return: young heads, long stays away, long stays at the place). :func:`return_cells`
counts both for one year; :func:`composition_rate` applies one year's cell hazards to another
year's households away (a shift-share split of the change). :func:`cohort_returns` follows the
households away in the first year apart from those who left later: the census-built stock of
2010 is not one the model's own moves and returns made, so a return rate that falls as its
households settle where they are, while the later leavers' does not, is a start-up transient of
that stock. Households keep their row from one year to the next (new households are appended,
dissolved ones keep a row with no persons), so the arrays before and after a step line up row
by row.
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
#: apart from long stays. The worlds of 2010 draw the years away of a steady stock (mean about
#: ten years, :mod:`urbsim.world.away`), so long stays have bands of their own: with one open
#: band from 6 years the stock's ageing within it went unseen.
AWAY_BANDS: Final[tuple[str, ...]] = ("0", "1_2", "3_5", "6_10", "11_plus")
#: First completed years of each band after the first.
AWAY_BAND_STARTS: Final[tuple[int, ...]] = (1, 3, 6, 11)
#: Years-here bands (completed years at the current place, at the start of the year): the move
#: propensity falls with them (``move_tenure_decay``) and a household's first year at a place
#: is when it most often moves on or back; the ``recent_arrival_share`` target counts under 3.
HERE_BANDS: Final[tuple[str, ...]] = ("0", "1_2", "3_plus")
#: First completed years of each band after the first.
HERE_BAND_STARTS: Final[tuple[int, ...]] = (1, 3)
#: Cell keys of :func:`return_cells`.
CELL_KEYS: Final[tuple[str, ...]] = ("age_band", "away_band", "here_band")
#: Cohorts of :func:`cohort_returns`.
COHORTS: Final[tuple[str, ...]] = ("first_year_stock", "later_leavers")
#: Columns of :func:`return_cells`, after the cell keys (:data:`CELL_KEYS`).
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
    them by its end, by the head's age band, the years-away band and the years-here band at the
    start.

    Parameters
    ----------
    before
        The households at the start of the year.
    after
        The same households at its end (the rows of ``before`` first, as a step leaves them).

    Returns
    -------
    pandas.DataFrame
        One row per head age band (:data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`),
        years-away band (:data:`AWAY_BANDS`) and years-here band (:data:`HERE_BANDS`), every
        combination (:data:`CELL_KEYS`): :data:`COUNTS`, agent
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
    here = np.digitize(before.years_here[away], HERE_BAND_STARTS)
    cell = (age * len(AWAY_BANDS) + years) * len(HERE_BANDS) + here
    per_age = len(AWAY_BANDS) * len(HERE_BANDS)
    cells = len(HEAD_AGE_BANDS) * per_age
    persons = before.persons[away].astype(np.float64)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(cell[mask], weights=w, minlength=cells).astype(np.float64)

    every = np.ones(cell.shape[0], dtype=bool)
    table = pd.DataFrame(
        {
            "age_band": np.repeat(HEAD_AGE_BANDS, per_age),
            "away_band": np.tile(np.repeat(AWAY_BANDS, len(HERE_BANDS)), len(HEAD_AGE_BANDS)),
            "here_band": np.tile(HERE_BANDS, len(HEAD_AGE_BANDS) * len(AWAY_BANDS)),
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


def composition_rate(
    hazards: pd.DataFrame, cells: pd.DataFrame, keys: tuple[str, ...] = CELL_KEYS
) -> float:
    """The share of ``cells``' persons away that would return at the cell rates of ``hazards``:
    the return rate of the national ``return_migrants`` with one year's behaviour and another
    year's households away.

    Parameters
    ----------
    hazards, cells
        :func:`return_cells` tables: the year whose rates (persons returned over persons away
        per cell) are applied, and the year whose persons away they are applied to.
    keys
        The cell columns that define a cell here (a subset of :data:`CELL_KEYS`); both tables
        are first summed over the others. Coarser cells leave fewer cells that one year has
        and the other does not.

    Returns
    -------
    float
        The rate; on ``hazards`` itself, that table's own rate. NaN when a cell empty in
        ``hazards`` is not empty in ``cells`` (no rate was observed for households the other
        year has), or when ``cells`` has nobody away.
    """
    first = hazards.groupby(list(keys))[["persons_away", "persons_returned"]].sum()
    away = first["persons_away"]
    h = first["persons_returned"] / away.where(away > 0)
    c = cells.groupby(list(keys))["persons_away"].sum()
    h = h.reindex(c.index)
    occupied = c > 0
    if h[occupied].isna().any() or not occupied.any():
        return float("nan")
    return float((h[occupied] * c[occupied]).sum() / c[occupied].sum())


def cohort_returns(
    before: Households, after: Households, stock: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Persons away at the start of a year and returned in it, for the households away since
    the first year of the run (``first_year_stock``: away then and never back home since) and
    for the others away (``later_leavers``: left home, or were formed away, after it), by the
    head's age band and the years-here band at the start.

    Parameters
    ----------
    before, after
        The households at the start and at the end of the year (as :func:`return_cells`).
    stock
        Which rows of ``before`` are of the first year's stock: the mask this function returned
        for the year before, or None in the run's first year (every household then away).

    Returns
    -------
    table : pandas.DataFrame
        One row per cohort (:data:`COHORTS`), head age band
        (:data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`) and years-here band
        (:data:`HERE_BANDS`), every combination: ``persons_away``, ``persons_returned``
        (living at the start's hukou place at the end) and ``return_rate`` (returned over
        away; NaN in an empty row).
    stock : numpy.ndarray
        The stock's mask for the next year, one entry per row of ``after``: still of the stock
        and still away.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``, or ``stock`` is not one entry per row of
        ``before``.
    """
    n = paired_rows(before, after)
    away = (before.place != before.hukou_place) & (before.persons > 0)
    if stock is None:
        stock = away
    stock = np.asarray(stock, dtype=bool)
    if stock.shape != (n,):
        raise ValueError(f"stock has shape {stock.shape} for {n} households")
    returned = away & (after.persons[:n] > 0) & (after.place[:n] == before.hukou_place)
    age = np.digitize(before.head_age, AGE_GROUP_STARTS)
    here = np.digitize(before.years_here, HERE_BAND_STARTS)
    per_cohort = len(HEAD_AGE_BANDS) * len(HERE_BANDS)
    row = (~stock) * per_cohort + age * len(HERE_BANDS) + here
    persons = before.persons.astype(np.float64)
    rows = len(COHORTS) * per_cohort
    away_n = np.bincount(row[away], weights=persons[away], minlength=rows)
    back = np.bincount(row[returned], weights=persons[returned], minlength=rows)
    table = pd.DataFrame(
        {
            "cohort": np.repeat(COHORTS, per_cohort),
            "age_band": np.tile(np.repeat(HEAD_AGE_BANDS, len(HERE_BANDS)), len(COHORTS)),
            "here_band": np.tile(HERE_BANDS, len(COHORTS) * len(HEAD_AGE_BANDS)),
            "persons_away": away_n,
            "persons_returned": back,
        }
    )
    table["return_rate"] = back / np.where(away_n > 0, away_n, np.nan)
    still = np.zeros(after.place.shape[0], dtype=bool)
    still[:n] = stock & away & (after.persons[:n] > 0) & (after.place[:n] != after.hukou_place[:n])
    return table, still
