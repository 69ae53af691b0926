"""Wages and housing costs by size class (urbsim.analysis.markets) on a hand-made places
table: weighted by urban residents, places kept in their class of the class year."""

from __future__ import annotations

import pandas as pd
import pytest

from urbsim.analysis.markets import growth_by_size_class, size_class_means


def _places() -> pd.DataFrame:
    # Place 0 is a small city that grows into a medium one in 2019; place 2 has no urban
    # residents (weight 1).
    return pd.DataFrame(
        {
            "year": [2010] * 3 + [2019] * 3,
            "place_id": [0, 1, 2] * 2,
            "size_class": ["small", "super-large", "small", "medium", "super-large", "small"],
            "urban_residents": [100.0, 1000.0, 0.0, 300.0, 1000.0, 0.0],
            "housing_cost": [10.0, 40.0, 5.0, 20.0, 120.0, 5.0],
            "wage": [1.0, 3.0, 2.0, 2.0, 6.0, 2.0],
        }
    )


def test_means_are_weighted_by_urban_residents_in_the_classes_of_the_start_year() -> None:
    m = size_class_means(_places()).set_index(["size_class", "year"])
    assert list(m.index.get_level_values(0).unique()) == ["super-large", "small"]
    # small 2010: (100 * 10 + 1 * 5) / 101; 2019, place 0 still small: (300 * 20 + 5) / 301
    assert m.loc[("small", 2010), "housing_cost"] == pytest.approx(1005.0 / 101.0)
    assert m.loc[("small", 2019), "housing_cost"] == pytest.approx(6005.0 / 301.0)
    assert m.loc[("small", 2019), "urban_residents"] == 300.0
    assert m.loc[("super-large", 2019), "wage"] == 6.0


def test_classes_of_another_year_and_growth() -> None:
    m = size_class_means(_places(), class_year=2019)
    assert set(m["size_class"]) == {"super-large", "medium", "small"}
    g = growth_by_size_class(m, 2010, 2019)
    assert list(g.index) == ["super-large", "medium", "small"]
    assert g.loc["super-large", "housing_cost_growth"] == 3.0
    assert g.loc["medium", "wage_2010"] == 1.0 and g.loc["medium", "wage_growth"] == 2.0


def test_missing_columns_and_years_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks"):
        size_class_means(_places().drop(columns="wage"))
    with pytest.raises(ValueError, match="not a year"):
        size_class_means(_places(), class_year=2015)
