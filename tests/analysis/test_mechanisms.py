"""Mechanism diagnostics on hand-computed cases (urbsim.analysis.mechanisms)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis import mechanisms as mech


def _national(rows: list[tuple[int, int, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["run", "year", *mech.GROWTH_COLUMNS])


def test_growth_decomposition_by_hand() -> None:
    # Run 0: 2011 gives 10 natural, 30 migration, 60 reclassification; 2012 gives 0, 50, 50.
    # Run 1: every source 0 in 2011 (no growth: shares undefined), 20/20/-40 in 2012.
    national = _national(
        [(0, 2010, 0, 0, 0), (0, 2011, 10, 30, 60), (0, 2012, 0, 50, 50),
         (1, 2010, 0, 0, 0), (1, 2011, 0, 0, 0), (1, 2012, 20, 20, -40)]
    )  # fmt: skip
    d = mech.growth_decomposition(national, 2011, 2012)
    run0 = d[(d["run"] == 0) & (d["period"] == "2011-2012")].iloc[0]
    assert (run0["natural"], run0["migration"], run0["reclassification"]) == (10, 80, 110)
    assert run0["total"] == 200
    assert run0["share_natural"] == pytest.approx(0.05)
    assert run0["share_reclassification"] == pytest.approx(0.55)
    y2011 = d[(d["run"] == 0) & (d["year"] == 2011)].iloc[0]
    assert y2011["share_migration"] == pytest.approx(0.3)
    # A year (and a period) whose sources sum to 0 has no shares.
    assert d[(d["run"] == 1) & (d["year"] == 2011)]["share_natural"].isna().all()
    assert d[(d["run"] == 1) & (d["period"] == "2011-2012")]["share_natural"].isna().all()


def test_growth_decomposition_refuses_a_run_missing_a_year() -> None:
    national = _national([(0, 2011, 1, 1, 1), (0, 2012, 1, 1, 1), (1, 2011, 1, 1, 1)])
    with pytest.raises(ValueError, match=r"runs without every year 2011-2012: \[1\]"):
        mech.growth_decomposition(national, 2011, 2012)
    # A run with no row in the period at all is refused too, not left out.
    outside = _national([(0, 2011, 1, 1, 1), (0, 2012, 1, 1, 1), (2, 2010, 0, 0, 0)])
    with pytest.raises(ValueError, match=r"\[2\]"):
        mech.growth_decomposition(outside, 2011, 2012)
    twice = _national([(0, 2011, 1, 1, 1), (0, 2011, 1, 1, 1), (0, 2012, 1, 1, 1)])
    with pytest.raises(ValueError, match="twice"):
        mech.growth_decomposition(twice, 2011, 2012)
    with pytest.raises(ValueError, match="after"):
        mech.growth_decomposition(national, 2012, 2011)
    with pytest.raises(KeyError, match="urban_growth_natural"):
        mech.growth_decomposition(national.drop(columns="urban_growth_natural"), 2011, 2012)


def test_official_natural_share_by_hand() -> None:
    official = pd.DataFrame(
        {
            "indicator": ["urbanization_rate_resident_original"] * 4 + ["natural_growth_rate"] * 4,
            "year": [2011, 2012, 2014, 2016, 2012, 2014, 2015, 2016],
            "value": [50.0, 51.0, 53.0, 52.0, 5.0, 4.0, 4.0, 5.0],
        }
    )
    b = mech.official_natural_share(official).set_index("year")
    # 2012 has u[t-1], u[t] and n[t]; 2014 lacks 2013's urbanization rate, 2015 its own, 2016
    # the one of 2015.
    assert list(b.index) == [2012]
    # Urban growth over P[t-1]: 0.51 * 1.005 - 0.50 = 0.01255; natural increase at the
    # national rate over the mean urban population: 0.005 * (0.50 + 0.51255) / 2.
    assert b.loc[2012, "urban_growth_share_of_population"] == pytest.approx(0.01255)
    assert b.loc[2012, "natural_share"] == pytest.approx(0.005 * 1.01255 / 2 / 0.01255)
    # Urban growth that is not positive has no share (not an infinite or negative one).
    shrink = official.assign(value=[50.0, 49.0, 53.0, 52.0, 5.0, 4.0, 4.0, 5.0])
    assert mech.official_natural_share(shrink)["natural_share"].isna().all()


def test_official_natural_share_on_the_packaged_series() -> None:
    from urbsim.analysis.targets import read_official

    b = mech.official_natural_share(read_official()).set_index("year")
    # 2019: u 59.58 -> 60.60 %, n 3.34 per 1000.
    end = 0.6060 * 1.00334
    expected = 0.00334 * (0.5958 + end) / 2 / (end - 0.5958)
    assert b.loc[2019, "natural_share"] == pytest.approx(expected)
    assert list(b.index) == [2012, 2015, 2016, 2017, 2018, 2019]


def test_mobility_by_hand() -> None:
    national = pd.DataFrame(
        {
            "run": [0, 0],
            "year": [2011, 2012],
            "moves": [100.0, 0.0],
            "province_moves": [25.0, 0.0],
            "return_migrants": [90.0, 0.0],
            "floating_population": [1000.0, 0.0],
            "households_formed": [7.0, 8.0],
            "interprovince_floating_population": [30.0, 0.0],
            "intraprovince_floating_population": [70.0, 0.0],
        }
    )
    m = mech.mobility(national)
    assert m.loc[0, "province_share"] == pytest.approx(0.25)
    assert m.loc[0, "return_rate"] == pytest.approx(0.09)
    assert m.loc[0, "interprovince_floating_share"] == pytest.approx(0.3)
    # No moves, no floating persons: no shares.
    assert m.loc[1, ["province_share", "return_rate", "interprovince_floating_share"]].isna().all()
    assert m["households_formed"].tolist() == [7.0, 8.0]


def test_age_profile_sums_places() -> None:
    places = pd.DataFrame(
        {
            "run": [0, 0, 0],
            "year": [2010, 2010, 2019],
            "place_id": [1, 2, 1],
            "migrants_head_15_29": [10.0, 30.0, 0.0],
            "migrants_head_30_44": [20.0, 20.0, 0.0],
            "migrants_head_45_59": [0.0, 10.0, 0.0],
            "migrants_head_60_plus": [0.0, 10.0, 0.0],
        }
    )
    a = mech.age_profile(places).set_index(["year", "band"])
    assert a.loc[(2010, "15_29"), "migrants"] == 40.0
    assert a.loc[(2010, "15_29"), "share"] == pytest.approx(0.4)
    assert a.loc[(2010, "60_plus"), "share"] == pytest.approx(0.1)
    assert a.loc[2019, "share"].isna().all()


def test_across_runs_mean_and_range() -> None:
    frame = pd.DataFrame({"run": [0, 1, 2, 3], "year": 2011, "x": [1.0, 2.0, 3.0, 4.0]})
    s = mech.across_runs(frame, ["year"], ["x"], level=0.5)
    assert s.loc[2011, "x"] == 2.5 and s.loc[2011, "runs"] == 4
    # The 25 and 75 % quantiles of 1..4 by linear interpolation.
    assert (s.loc[2011, "x_lo"], s.loc[2011, "x_hi"]) == (1.75, 3.25)
    with pytest.raises(ValueError, match="level"):
        mech.across_runs(frame, ["year"], ["x"], level=1.0)


def test_weighted_mean_share() -> None:
    # (0.1 * 1 + 0.4 * 3) / 4; the NaN share and its weight are left out.
    got = mech.weighted_mean_share(pd.Series([0.1, 0.4, np.nan]), pd.Series([1.0, 3.0, 5.0]))
    assert got == pytest.approx(0.325)
    assert np.isnan(mech.weighted_mean_share(pd.Series([np.nan]), pd.Series([1.0])))
