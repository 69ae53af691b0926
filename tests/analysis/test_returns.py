"""Return hazards by head's age and years away, on households whose fate is known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from household_rows import households_of

from urbsim.analysis.returns import AWAY_BANDS, COUNTS, composition_rate, return_cells
from urbsim.kernels.migrants import HEAD_AGE_BANDS

#: Six households: 0 a young recent leaver who returns; 1 the same who stays; 2 a head of 50
#: away 12 years who returns; 3 the same who takes local hukou; 4 at home (not counted);
#: 5 away, dissolved in the year (counted away, neither returned nor settled).
BEFORE = households_of(
    place=[1, 1, 2, 2, 0, 3],
    hukou_place=[0, 0, 0, 0, 0, 0],
    head_age=[22, 29, 50, 59, 40, 70],
    years_away=[0, 2, 12, 11, 0, 4],
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


def _cell(table: pd.DataFrame, age: str, away: str) -> pd.Series:
    row = table[(table["age_band"] == age) & (table["away_band"] == away)]
    assert len(row) == 1
    return row.iloc[0]


def test_each_household_away_is_counted_in_its_cell_with_its_fate() -> None:
    table = return_cells(BEFORE, AFTER)
    assert len(table) == len(HEAD_AGE_BANDS) * len(AWAY_BANDS)
    assert list(table.columns) == ["age_band", "away_band", *COUNTS, "return_hazard"]
    young_new = _cell(table, "15_29", "0")
    assert young_new[list(COUNTS)].tolist() == [1, 1, 1, 1, 0, 0, 0]
    young_two = _cell(table, "15_29", "1_2")  # age 29 is still 15-29; 2 years is 1-2
    assert young_two[list(COUNTS)].tolist() == [1, 3, 0, 0, 0, 0, 0]
    old_long = _cell(table, "45_59", "6_plus")  # 50 and 59, 12 and 11 years away
    assert old_long[list(COUNTS)].tolist() == [2, 6, 1, 4, 1, 2, 1]
    assert old_long["return_hazard"] == pytest.approx(0.5)
    dissolved = _cell(table, "60_plus", "3_5")
    assert dissolved[list(COUNTS)].tolist() == [1, 1, 0, 0, 0, 0, 0]
    # The household at home is nowhere; empty cells have no hazard.
    assert table["households_away"].sum() == 5
    assert table.loc[table["households_away"] == 0, "return_hazard"].isna().all()


def test_the_first_years_rates_on_another_years_persons_away() -> None:
    table = return_cells(BEFORE, AFTER)
    # Its own rate: persons returned 1 + 4 over persons away 1 + 3 + 6 + 1.
    assert composition_rate(table, table) == pytest.approx(5 / 11)
    # Cell rates (persons): 15_29/0 1, 15_29/1_2 0, 45_59/6_plus 4/6, 60_plus/3_5 0.
    later = table.copy()
    keys = later.set_index(["age_band", "away_band"]).index
    counts = {("15_29", "0"): 2.0, ("45_59", "6_plus"): 3.0}
    later["persons_away"] = [counts.get(k, 0.0) for k in keys]
    assert composition_rate(table, later) == pytest.approx((2 * 1.0 + 3 * 4 / 6) / 5)
    # A cell the first year never saw has no rate to apply.
    counts[("30_44", "3_5")] = 1.0
    later["persons_away"] = [counts.get(k, 0.0) for k in keys]
    assert np.isnan(composition_rate(table, later))


def test_arrays_that_do_not_line_up_are_refused() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        return_cells(AFTER, BEFORE)
