"""The table of local settlement decisions by size class (issue 13), on a hand-made places
table."""

from __future__ import annotations

import pandas as pd
import pytest

from urbsim.analysis.local_openness import openness_by_size_class


def _places() -> pd.DataFrame:
    rows = [
        # year, size class, kind, urban residents, openness, relaxed, years
        (2017, "mega", "urban district", 3e6, 0.4, 1.0, 2.0),
        (2017, "mega", "urban district", 1e6, 0.0, 0.0, 5.0),
        (2017, "large I", "urban district", 2e6, 0.2, 1.0, 1.0),
        (2017, "large I", "county", 5e5, 0.9, 1.0, 0.0),  # a county town: left out
        (2018, "mega", "urban district", 3e6, -0.2, 0.0, 5.0),
    ]
    cols = ["year", "size_class", "kind", "urban_residents", "openness", "settlement_relaxed"]
    return pd.DataFrame(rows, columns=[*cols, "settlement_min_years"])


def test_openness_by_size_class_counts_relaxed_districts_and_weighs_openness() -> None:
    got = openness_by_size_class(_places())
    assert got[["year", "size_class"]].values.tolist() == [
        [2017, "mega"],
        [2017, "large I"],
        [2018, "mega"],
    ]
    assert got["places"].tolist() == [2, 1, 1]
    assert got["relaxed"].tolist() == [1, 1, 0]
    assert got["relaxed_pct"].tolist() == [50.0, 100.0, 0.0]
    # mega 2017: (0.4 * 3 + 0 * 1) / 4 = 0.3; years (2 * 3 + 5 * 1) / 4 = 2.75
    assert got["mean_openness"].tolist() == pytest.approx([0.3, 0.2, -0.2])
    assert got["mean_min_years"].tolist() == pytest.approx([2.75, 1.0, 5.0])


def test_county_towns_count_when_asked_and_a_missing_column_is_named() -> None:
    got = openness_by_size_class(_places(), districts_only=False)
    assert got.loc[got["size_class"] == "large I", "places"].tolist() == [2]
    with pytest.raises(ValueError, match="settlement_relaxed"):
        openness_by_size_class(_places().drop(columns="settlement_relaxed"))
