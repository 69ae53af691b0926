"""Return hazards by head's age, years away and years here, and the returns of the first year's
stock apart from later leavers, on households whose fate is known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from household_rows import households_of

from urbsim.analysis.returns import (
    AWAY_BANDS,
    CELL_KEYS,
    COHORTS,
    COUNTS,
    HERE_BANDS,
    cohort_returns,
    composition_rate,
    return_cells,
)
from urbsim.kernels.migrants import HEAD_AGE_BANDS
from urbsim.state import Households

#: Six households: 0 a young recent leaver who returns; 1 the same who stays, two years at its
#: place; 2 a head of 50 away 12 years, 4 at its place, who returns; 3 the same away 11 years,
#: 3 at its place, who takes local hukou; 4 at home (not counted); 5 away, dissolved in the
#: year (counted away, neither returned nor settled).
BEFORE = households_of(
    place=[1, 1, 2, 2, 0, 3],
    hukou_place=[0, 0, 0, 0, 0, 0],
    head_age=[22, 29, 50, 59, 40, 70],
    years_away=[0, 2, 12, 11, 0, 4],
    years_here=[0, 2, 4, 3, 9, 4],
    persons=[1, 3, 4, 2, 5, 1],
    left_behind=[0, 0, 1, 1, 0, 0],
)
AFTER = households_of(
    place=[0, 1, 0, 2, 0, 3, 5],  # a household formed in the year, appended
    hukou_place=[0, 0, 0, 2, 0, 0, 5],
    head_age=[23, 30, 51, 60, 41, 71, 18],
    years_away=[0, 3, 0, 0, 0, 5, 0],
    persons=[1, 3, 4, 2, 5, 0, 1],
)


def _cell(table: pd.DataFrame, age: str, away: str, here: str) -> pd.Series:
    row = table[
        (table["age_band"] == age) & (table["away_band"] == away) & (table["here_band"] == here)
    ]
    assert len(row) == 1
    return row.iloc[0]


def test_each_household_away_is_counted_in_its_cell_with_its_fate() -> None:
    table = return_cells(BEFORE, AFTER)
    assert len(table) == len(HEAD_AGE_BANDS) * len(AWAY_BANDS) * len(HERE_BANDS)
    assert list(table.columns) == [*CELL_KEYS, *COUNTS, "return_hazard"]
    assert not table.duplicated(list(CELL_KEYS)).any()
    young_new = _cell(table, "15_29", "0", "0")
    assert young_new[list(COUNTS)].tolist() == [1, 1, 1, 1, 0, 0, 0]
    # Age 29 is still 15-29; 2 years away and 2 at the place are 1-2.
    young_two = _cell(table, "15_29", "1_2", "1_2")
    assert young_two[list(COUNTS)].tolist() == [1, 3, 0, 0, 0, 0, 0]
    old_long = _cell(table, "45_59", "11_plus", "3_plus")  # 50 and 59, 12 and 11 years away
    assert old_long[list(COUNTS)].tolist() == [2, 6, 1, 4, 1, 2, 1]
    assert old_long["return_hazard"] == pytest.approx(0.5)
    dissolved = _cell(table, "60_plus", "3_5", "3_plus")
    assert dissolved[list(COUNTS)].tolist() == [1, 1, 0, 0, 0, 0, 0]
    # The household at home is nowhere; empty cells have no hazard.
    assert table["households_away"].sum() == 5
    assert table.loc[table["households_away"] == 0, "return_hazard"].isna().all()


def test_the_first_years_rates_on_another_years_persons_away() -> None:
    table = return_cells(BEFORE, AFTER)
    # Its own rate: persons returned 1 + 4 over persons away 1 + 3 + 6 + 1.
    assert composition_rate(table, table) == pytest.approx(5 / 11)
    # Cell rates (persons): 15_29/0/0 1, 15_29/1_2/1_2 0, 45_59/11_plus/3_plus 4/6,
    # 60_plus/3_5/3_plus 0.
    later = table.copy()
    keys = later.set_index(list(CELL_KEYS)).index
    counts = {("15_29", "0", "0"): 2.0, ("45_59", "11_plus", "3_plus"): 3.0}
    later["persons_away"] = [counts.get(k, 0.0) for k in keys]
    assert composition_rate(table, later) == pytest.approx((2 * 1.0 + 3 * 4 / 6) / 5)
    # A cell the first year never saw has no rate to apply.
    counts[("30_44", "3_5", "3_plus")] = 1.0
    later["persons_away"] = [counts.get(k, 0.0) for k in keys]
    assert np.isnan(composition_rate(table, later))
    # By age alone (summed over years away and here), 15-29 has one rate for its 1 + 3
    # persons away (1 returned): applied to the 2 + 1 persons of the cells 15_29/0/0 and
    # 15_29/0/1_2 of the later table.
    counts = {("15_29", "0", "0"): 2.0, ("15_29", "0", "1_2"): 1.0}
    later["persons_away"] = [counts.get(k, 0.0) for k in keys]
    assert np.isnan(composition_rate(table, later))
    by_age = composition_rate(table, later, ("age_band",))
    assert by_age == pytest.approx(1 / 4)


def test_arrays_that_do_not_line_up_are_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        return_cells(AFTER, BEFORE)


def _later_year(place: list[int]) -> Households:
    """AFTER's households a year or two on, with household 7 (formed away) appended: only
    their places change."""
    return households_of(
        place=place,
        hukou_place=[0, 0, 0, 2, 0, 0, 5, 0],
        persons=[1, 3, 4, 2, 5, 0, 1, 2],
    )


def _sums(table: pd.DataFrame, cohort: str) -> pd.Series:
    return table[table["cohort"] == cohort][["persons_away", "persons_returned"]].sum()


def test_the_first_years_stock_is_followed_apart_from_later_leavers() -> None:
    table, stock = cohort_returns(BEFORE, AFTER, None)
    assert len(table) == len(COHORTS) * len(HEAD_AGE_BANDS) * len(HERE_BANDS)
    assert table["cohort"].unique().tolist() == list(COHORTS)
    assert not table.duplicated(["cohort", "age_band", "here_band"]).any()
    # Away: 1 + 3 + 4 + 2 + 1 persons; returned: households 0 and 2 (1 + 4 persons).
    assert _sums(table, "first_year_stock").tolist() == [11, 5]
    assert _sums(table, "later_leavers").tolist() == [0, 0]
    rows = table.set_index(["cohort", "age_band", "here_band"])
    young_new = rows.loc[("first_year_stock", "15_29", "0")]  # household 0, returned
    assert young_new[["persons_away", "persons_returned", "return_rate"]].tolist() == [1, 1, 1]
    old = rows.loc[("first_year_stock", "45_59", "3_plus")]  # households 2 and 3
    assert old[["persons_away", "persons_returned"]].tolist() == [6, 4]
    assert old["return_rate"] == pytest.approx(4 / 6)
    assert np.isnan(rows.loc[("later_leavers", "15_29", "0"), "return_rate"])  # nobody away
    # Still of the stock: household 1 (still away). Not 0 and 2 (home), 3 (settled: its
    # hukou place is where it lives), 5 (dissolved), nor the new household 6.
    assert stock.tolist() == [False, True, False, False, False, False, False]
    # Year 2 starts from AFTER: household 1 moves on (still away, still of the stock),
    # household 4 leaves home (away only from the end of the year) and household 7 is formed
    # away from its hukou place. No one away at the start returns.
    year2 = _later_year([0, 2, 0, 2, 3, 3, 5, 4])
    table, stock = cohort_returns(AFTER, year2, stock)
    assert _sums(table, "first_year_stock").tolist() == [3, 0]
    assert _sums(table, "later_leavers").tolist() == [0, 0]
    assert stock.tolist() == [False, True, False, False, False, False, False, False]
    # Year 3: households 1 (of the stock) and 4 (a later leaver) go home; 7 stays away.
    year3 = _later_year([0, 0, 0, 2, 0, 3, 5, 4])
    table, stock = cohort_returns(year2, year3, stock)
    assert _sums(table, "first_year_stock").tolist() == [3, 3]
    assert _sums(table, "later_leavers").tolist() == [7, 5]
    assert not stock.any()


def test_a_stock_mask_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"shape \(3,\) for 6 households"):
        cohort_returns(BEFORE, AFTER, np.ones(3, dtype=bool))
