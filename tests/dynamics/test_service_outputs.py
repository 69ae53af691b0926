"""The service gaps as the run records them: places and national tables agree, the two gaps
add up to the service gap, and the size-class aggregation is the users-weighted mean."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.services import gaps_by_size_class, national_gaps
from urbsim.model import UrbanizationModel
from urbsim.output.columns import size_class_column
from urbsim.scenario import LoadedScenario


@pytest.fixture(scope="module")
def tables(small_scenario: Callable[..., LoadedScenario]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small run with permits from 2011 (so that entitlements change), 2010-2013."""
    loaded = small_scenario(seed=5, end_year=2013, timeline={"2011": {"permit": {"enabled": True}}})
    model = UrbanizationModel(loaded)
    model.run()
    return model.national_table(), model.places_table()


def test_gaps_add_up_and_places_give_the_national_gaps(
    tables: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    national, places = tables
    np.testing.assert_allclose(
        national["service_gap"], national["entitlement_gap"] + national["capacity_gap"]
    )
    np.testing.assert_allclose(
        places["service_gap"], places["entitlement_gap"] + places["capacity_gap"]
    )
    from_places = national_gaps(places).set_index("year")
    nat = national.set_index("year")
    np.testing.assert_allclose(from_places["entitlement_gap_pct"], 100 * nat["entitlement_gap"])
    np.testing.assert_allclose(from_places["capacity_gap_pct"], 100 * nat["capacity_gap"])
    assert (national["entitlement_gap"] > 0).all()  # migrants without hukou are there
    assert national[["entitlement_gap", "capacity_gap"]].le(1).all().all()


def test_size_class_gaps_are_the_users_weighted_mean() -> None:
    places = pd.DataFrame(
        {
            "year": [2010, 2010, 2010],
            "size_class": ["small", "small", "mega"],
            "service_users": [100.0, 300.0, 50.0],
            "entitlement_gap": [0.2, 0.0, 0.5],
            "capacity_gap": [0.1, 0.3, 0.0],
        }
    )
    got = gaps_by_size_class(places).set_index("size_class")
    # small: entitlement (20 + 0) / 400 = 5 %; capacity (10 + 90) / 400 = 25 %
    assert got.loc["small", "entitlement_gap_pct"] == pytest.approx(5.0)
    assert got.loc["small", "capacity_gap_pct"] == pytest.approx(25.0)
    assert got.loc["small", "service_gap_pct"] == pytest.approx(30.0)
    assert got.loc["mega", "entitlement_gap_pct"] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="service_users"):
        gaps_by_size_class(places.drop(columns="service_users"))


def test_national_size_class_columns_are_the_places_by_size_class(
    tables: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    national, places = tables
    by_class = gaps_by_size_class(places)
    nat = national.set_index("year")
    for row in by_class.itertuples():
        for gap in ("entitlement_gap", "capacity_gap"):
            column = size_class_column(gap, row.size_class)
            assert 100 * nat.loc[row.year, column] == pytest.approx(getattr(row, f"{gap}_pct"))
    for kind in ("education", "health", "elderly"):
        assert national[f"capacity_gap_{kind}"].between(0, 1).all()
