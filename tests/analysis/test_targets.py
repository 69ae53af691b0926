"""Calibration targets: the official series, the county-level conversion and the model side,
on hand-computed cases."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from urbsim.analysis.history_matching import CUTOFF
from urbsim.analysis.targets import (
    LAST_OBSERVED_YEAR,
    CensusScopes,
    Quantity,
    Target,
    TargetDataError,
    build_targets,
    census_scopes,
    missing_outputs,
    model_value,
    official_path,
    read_official,
    split_years,
    targets_table,
    total_variation,
)

HEADER = "indicator,year,value,unit,definition,source_title,source_url\n"
# 100 in-migrants from the same county, 60 from other counties, 40 from other provinces.
SCOPES = CensusScopes(same_county=100.0, other_county=60.0, other_province=40.0)


def _official(tmp_path: Path, rows: str) -> pd.DataFrame:
    path = tmp_path / "official.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return read_official(path)


def _target(quantity: Quantity, year: int = 2015) -> Target:
    return Target("t", year, 0.0, quantity, "-", 1.0, 0.5, 0.1, "", "", "")


def test_a_year_after_2019_is_refused(tmp_path: Path) -> None:
    rows = "urbanization_rate_hukou,2019,44.38,%,d,s,\nurbanization_rate_hukou,2020,45.4,%,d,s,\n"
    with pytest.raises(TargetDataError, match=r"after 2019.*urbanization_rate_hukou 2020"):
        _official(tmp_path, rows)


def test_census_scopes_shares_by_hand() -> None:
    assert SCOPES.total == 200.0
    assert SCOPES.county_level_share == pytest.approx(100.0 / 200.0)  # (60 + 40) / 200
    assert SCOPES.intra_county_level_share == pytest.approx(60.0 / 160.0)  # 60 / (100 + 60)
    assert SCOPES.interprovince_share == pytest.approx(40.0 / 100.0)
    world = pd.DataFrame(
        {"inmig_same_county": [60.0, 40.0], "inmig_other_county": [60.0, 0.0],
         "inmig_other_province": [10.0, 30.0], "province_code": [11, 12]}
    )  # fmt: skip
    assert census_scopes(world) == SCOPES


def test_county_floating_is_the_census_share_of_the_township_series(tmp_path: Path) -> None:
    rows = (
        "pop_separated_from_hukou_census2010,2010,261.39,million,d,census,\n"
        "pop_separated_from_hukou_NBS,2014,298.0,million,d,NBS 2014,\n"
    )
    targets = build_targets(_official(tmp_path, rows), SCOPES)
    floating = {t.year: t for t in targets if t.name == "county_floating_population"}
    assert sorted(floating) == [2010, 2014]
    assert floating[2014].observed == pytest.approx(298.0e6 * 0.5)
    assert floating[2010].observed == pytest.approx(261.39e6 * 0.5)
    # 15 % tolerance, 7.5 % discrepancy, 3 % observation error of the converted value.
    assert floating[2014].tolerance == pytest.approx(0.15 * 149.0e6)
    assert floating[2014].discrepancy_sd == pytest.approx(0.075 * 149.0e6)
    assert floating[2014].source == "NBS 2014"
    assert floating[2014].quantity.columns == ("floating_population",)


def test_interprovince_share_is_anchored_at_the_census_level(tmp_path: Path) -> None:
    rows = (
        "migrant_workers_interprovincial,2011,60,10k persons,d,s,\n"
        "migrant_workers_intraprovincial,2011,40,10k persons,d,s,\n"
        "migrant_workers_interprovincial_share_of_outmigrant,2015,50,%,d,s,\n"
    )
    share = {
        t.year: t.observed
        for t in build_targets(_official(tmp_path, rows), SCOPES)
        if t.name == "interprovince_share"
    }
    k = 60.0 / 160.0  # intra-province in-migrants crossing a county border
    s2011 = 0.6 / (0.6 + 0.4 * k)  # 0.8
    s2015 = 0.5 / (0.5 + 0.5 * k)  # 0.7272...
    assert share[2010] == pytest.approx(0.4)
    assert share[2011] == pytest.approx(0.4)
    assert share[2015] == pytest.approx(0.4 * s2015 / s2011)
    assert set(share) == {2010, 2011, 2015}


def test_packaged_targets_use_no_year_after_2019_and_state_their_spreads() -> None:
    targets = build_targets()
    assert max(t.year for t in targets) <= LAST_OBSERVED_YEAR
    names = {t.name for t in targets}
    for needed in ("resident_urbanization", "hukou_urbanization", "county_floating_population",
                   "interprovince_share", "outmigrant_workers_index",
                   "interprovince_workers_index", "permits_issued",
                   "settled_2013_2018", "natural_growth", "local_debt",
                   "interprovince_distribution"):  # fmt: skip
        assert needed in names
    table = targets_table(targets)
    assert table["target"].is_unique
    assert (table["tolerance"] > 0).all() and (table["discrepancy_sd"] > 0).all()
    assert (table["observation_sd"] >= 0).all()
    hukou = table.set_index("target").loc["hukou_urbanization@2019"]
    assert hukou["observed"] == pytest.approx(0.4438) and hukou["tolerance"] == 0.01
    fitted, held_out = split_years(targets, 2015)
    assert max(t.year for t in fitted) == 2015 and min(t.year for t in held_out) == 2016
    assert len(fitted) + len(held_out) == len(targets)


def test_packaged_official_file_is_the_documented_copy() -> None:
    digest = hashlib.sha256(official_path().read_bytes()).hexdigest()
    readme = (official_path().parent / "README.md").read_text(encoding="utf-8")
    assert digest in readme


def test_model_side_by_hand() -> None:
    national = pd.DataFrame(
        {"year": [2010, 2011, 2012], "a": [1.0, 2.0, 4.0], "b": [3.0, 2.0, 4.0],
         "births": [0.0, 12.0, 0.0], "deaths": [0.0, 7.0, 0.0], "residents": [1e3, 1e3, 1e3]}
    )  # fmt: skip
    assert model_value(_target(Quantity("column", ("a",)), 2011), national) == 2.0
    assert model_value(_target(Quantity("share", ("a", "b")), 2010), national) == 0.25
    index = Quantity("index", ("a", "b"), 2010)
    assert model_value(_target(index, 2012), national) == pytest.approx(8.0 / 4.0)
    assert model_value(_target(Quantity("per_1000_natural", ()), 2011), national) == 5.0
    # 2011 and 2012 once each: 2 + 4.
    period = Quantity("period_sum", ("a",), 2011)
    assert model_value(_target(period, 2012), national) == 6.0
    with pytest.raises(KeyError, match="no year \\[2009\\]"):
        model_value(_target(Quantity("period_sum", ("a",), 2009), 2011), national)
    # Several columns less a part: 2011 is 2 + 2 - 12, 2011-2012 adds 4 + 4 - 0.
    net = Quantity("column", ("a", "b"), subtract=("births",))
    assert model_value(_target(net, 2011), national) == -8.0
    net_sum = Quantity("period_sum", ("a", "b"), 2011, ("births",))
    assert model_value(_target(net_sum, 2012), national) == 0.0
    assert net.reads == ("a", "b", "births")
    assert net.describe() == "a + b - births"
    assert net_sum.describe() == "sum of (a + b - births) over 2011..year"
    assert period.describe() == "sum of a over 2011..year"
    with pytest.raises(ValueError, match="not share"):
        Quantity("share", ("a", "b"), subtract=("c",))


def test_settled_targets_count_conversions_under_the_settlement_rules() -> None:
    """Migrants settled and locals converted by the settlement rules, not by requisition."""
    national = pd.DataFrame(
        {"year": range(2013, 2019), "settled_migrants": [7.0, 1.0, 2.0, 3.0, 4.0, 5.0],
         "local_conversions": [1.0, 10.0, 10.0, 10.0, 10.0, 20.0],
         "requisition_conversions": [2.0, 4.0, 4.0, 4.0, 4.0, 8.0]}
    )  # fmt: skip
    by_key = {t.key: t for t in build_targets()}
    assert model_value(by_key["settled_in_year@2018"], national) == 5.0 + 20.0 - 8.0
    # From 2013, the year after the 18th Party Congress: 2013 adds 7 + 1 - 2.
    assert model_value(by_key["settled_2013_2018@2018"], national) == 22.0 + 61.0 - 26.0
    missing = missing_outputs([by_key["settled_in_year@2018"]], national=["settled_migrants"])
    assert missing == {"settled_in_year@2018": ["local_conversions", "requisition_conversions"]}


def test_province_distribution_by_hand() -> None:
    ref = pd.Series({11: 0.5, 44: 0.5})
    assert total_variation(pd.Series({11: 1.0, 44: 3.0}), ref) == pytest.approx(0.25)
    assert total_variation(pd.Series({11: 2.0, 44: 2.0}), ref) == 0.0
    assert total_variation(pd.Series({12: 1.0}), ref) == pytest.approx(1.0)
    places = pd.DataFrame(
        {"year": 2015, "place_id": [0, 1, 2], "name": "x", "value": [1.0, 2.0, 1.0]}
    )
    t = _target(Quantity("province_tvd", ("x",)), 2015)
    province_of = pd.Series({0: 11, 1: 44, 2: 44})
    got = model_value(t, pd.DataFrame({"year": [2015]}), places, province_of, ref)
    assert got == pytest.approx(0.25)  # shares 0.25 / 0.75 against 0.5 / 0.5


def test_missing_outputs_names_the_columns() -> None:
    base = _target(Quantity("column", ("c",)))
    targets = [
        Target("s", 2015, 0.0, Quantity("share", ("a", "b")), "-", 1.0, 0.5, 0.1, "", "", ""),
        base,
        Target("p", 2015, 0.0, Quantity("province_tvd", ("a",)), "-", 1.0, 0.5, 0.1, "", "", ""),
    ]
    # The place quantity looks among the place columns, the others among the national ones.
    got = missing_outputs(targets, national=["a", "c"], places=["b"])
    assert got == {"s@2015": ["b"], "p@2015": ["a"]}
    assert missing_outputs([base], national=["c"]) == {}
    assert np.isfinite([t.observed for t in build_targets()]).all()


def test_the_workers_index_compares_the_models_out_migrant_workers() -> None:
    """Growth since 2011 of the survey's workers who left their county (inter-provincial plus
    the census's cross-county part of the intra-provincial) against the model's out-migrant
    workers, with the stated discrepancy in every year that has the split."""
    k = census_scopes().intra_county_level_share
    workers = [t for t in build_targets() if t.name == "outmigrant_workers_index"]
    # 2012 has no split; 2014 and 2016 take the intra-provincial part as the total less the
    # inter-provincial, 2015 both from the inter-provincial share.
    assert [t.year for t in workers] == [2013, 2014, 2015, 2016, 2017, 2018, 2019]
    assert {t.quantity for t in workers} == {Quantity("index", ("outmigrant_workers",), 2011)}
    assert {t.discrepancy_sd for t in workers} == {0.03}
    by_year = {t.year: t.observed for t in workers}
    assert by_year[2019] == pytest.approx((7508.0 + k * 9917.0) / (7473.0 + k * 8390.0))
    assert by_year[2015] == pytest.approx(
        (0.459 * 16884.0 + k * 0.541 * 16884.0) / (7473.0 + k * 8390.0)
    )


def test_the_floating_index_is_the_growth_of_the_township_series() -> None:
    """Growth since 2011 of the NBS persons away from their hukou township (the county-level
    share cancels) against the model's floating persons, in the years the series has."""
    index = [t for t in build_targets() if t.name == "county_floating_index"]
    assert [t.year for t in index] == [2014, 2015, 2016, 2017, 2018, 2019]
    assert {t.quantity for t in index} == {Quantity("index", ("floating_population",), 2011)}
    by_year = {t.year: t.observed for t in index}
    assert by_year[2014] == pytest.approx(298.0 / 271.0)
    assert by_year[2019] == pytest.approx(280.0 / 271.0)


def test_return_rate_by_hand() -> None:
    """Returns of 2011-2015 over the floating persons at the start of each year."""
    national = pd.DataFrame(
        {"year": range(2010, 2016), "return_migrants": [9.0, 1.0, 2.0, 3.0, 4.0, 5.0],
         "floating_population": [100.0, 50.0, 50.0, 100.0, 200.0, 1e9]}
    )  # fmt: skip
    rate = Quantity("period_rate", ("return_migrants", "floating_population"), 2011)
    # (1 + 2 + 3 + 4 + 5) / (100 + 50 + 50 + 100 + 200): the 2010 returns and 2015 stock unused.
    assert model_value(_target(rate, 2015), national) == pytest.approx(15.0 / 500.0)
    assert model_value(_target(rate, 2011), national) == pytest.approx(1.0 / 100.0)
    assert rate.describe() == (
        "sum of return_migrants over 2011..year / sum of floating_population over 2010..year-1"
    )
    with pytest.raises(KeyError, match="no year \\[2009\\]"):
        model_value(_target(Quantity("period_rate", rate.columns, 2010), 2011), national)
    with pytest.raises(ValueError, match="starts in 2012, after the year"):
        model_value(_target(Quantity("period_rate", rate.columns, 2012), 2011), national)
    with pytest.raises(ValueError, match="a flow and a stock"):
        Quantity("period_rate", ("return_migrants",), 2011)
    with pytest.raises(ValueError, match="a flow and a stock"):
        Quantity("period_rate", rate.columns)
    # The yearly rate: the year's returns over the stock at the end of the year before.
    yearly = Quantity("rate", rate.columns)
    assert model_value(_target(yearly, 2013), national) == pytest.approx(3.0 / 50.0)
    assert model_value(_target(yearly, 2015), national) == pytest.approx(5.0 / 200.0)
    assert yearly.describe() == "return_migrants[year] / floating_population[year-1]"
    with pytest.raises(ValueError, match="no base year"):
        Quantity("rate", rate.columns, 2011)
    # The packaged targets: about 3 % in each year of 2011-2015 (a steady hazard, not a
    # first-year burst), from studies (named as their source), fitted in both the full and the
    # out-of-sample fit.
    targets = [t for t in build_targets() if t.name == "return_rate"]
    assert [t.year for t in targets] == [2011, 2012, 2013, 2014, 2015]
    target = targets[0]
    assert (target.observed, target.tolerance) == (0.03, 0.015)
    assert target.quantity == yearly and "Bai, Wang and Zhang (2018)" in target.source
    # History matching rules out a model without returns (implausibility beyond the cutoff 3,
    # even before emulator and run-to-run variance), not one at 1 % or 5 %.
    sd = math.hypot(target.discrepancy_sd, target.observation_sd)
    assert abs(target.observed - 0.0) / sd > CUTOFF
    assert abs(target.observed - 0.01) / sd < CUTOFF and abs(target.observed - 0.05) / sd < CUTOFF


def test_the_interprovincial_workers_index_compares_those_outside_their_province() -> None:
    """Growth since 2011 of the survey's inter-provincial out-migrant workers (no cut: every
    one of them left their county) against the model's out-migrant workers living in another
    province than their hukou place; 2015 from the share and the total."""
    far = [t for t in build_targets() if t.name == "interprovince_workers_index"]
    assert [t.year for t in far] == [2013, 2014, 2015, 2016, 2017, 2018, 2019]
    columns = ("outmigrant_workers_interprovince",)
    assert {t.quantity for t in far} == {Quantity("index", columns, 2011)}
    assert {(t.tolerance, t.discrepancy_sd, t.observation_sd) for t in far} == {(0.05, 0.03, 0.01)}
    by_year = {t.year: t.observed for t in far}
    assert by_year[2019] == pytest.approx(7508.0 / 7473.0)
    assert by_year[2013] == pytest.approx(7739.0 / 7473.0)
    assert by_year[2015] == pytest.approx(0.459 * 16884.0 / 7473.0)


def test_the_interprovincial_index_takes_the_share_where_the_count_is_missing(
    tmp_path: Path,
) -> None:
    rows = (
        "migrant_workers_interprovincial,2011,60,10k persons,d,s,\n"
        "migrant_workers_interprovincial_share_of_outmigrant,2015,50,%,d,s,\n"
        "migrant_workers_outmigrant,2015,150,10k persons,d,s,\n"
        "migrant_workers_outmigrant,2016,160,10k persons,d,s,\n"
    )
    far = {
        t.year: t.observed
        for t in build_targets(_official(tmp_path, rows), SCOPES)
        if t.name == "interprovince_workers_index"
    }
    # 2015: 50 % of 150 against 60; 2016 has neither the count nor the share.
    assert far == {2015: pytest.approx(75.0 / 60.0)}


def test_ratio_and_undefined_quantities_by_hand() -> None:
    """A ratio is one column over another in the year; a quantity whose denominator is 0 in a
    run (a run left without floating persons: no share of them, no recent arrivals among them,
    no index of a stock that was 0) is NaN, not an error that stops a calibration."""
    national = pd.DataFrame(
        {"year": [2013, 2014], "floating_recent_arrivals": [30.0, 0.0],
         "floating_population": [120.0, 0.0], "interprovince_floating_population": [60.0, 0.0],
         "intraprovince_floating_population": [60.0, 0.0]}
    )  # fmt: skip
    ratio = Quantity("ratio", ("floating_recent_arrivals", "floating_population"))
    assert ratio.describe() == "floating_recent_arrivals / floating_population"
    assert model_value(_target(ratio, 2013), national) == pytest.approx(0.25)
    assert math.isnan(model_value(_target(ratio, 2014), national))
    share = Quantity(
        "share", ("interprovince_floating_population", "intraprovince_floating_population")
    )
    assert model_value(_target(share, 2013), national) == pytest.approx(0.5)
    assert math.isnan(model_value(_target(share, 2014), national))
    index = Quantity("index", ("floating_population",), 2014)
    assert math.isnan(model_value(_target(index, 2013), national))
    with pytest.raises(ValueError, match="same year and no base year"):
        Quantity("ratio", ratio.columns, 2013)
    # The packaged recent-arrival target: 45 % in 2014, from the migrant survey.
    recent = [t for t in build_targets() if t.name == "recent_arrival_share"]
    assert [(t.year, t.observed) for t in recent] == [(2014, 0.45)]
    # The migrants' mean age, from the same survey: the years it gives and no other.
    ages = [t for t in build_targets() if t.name == "migrant_head_age"]
    assert [(t.year, t.observed) for t in ages] == [(2011, 33.1), (2013, 33.7)]
    assert ages[0].quantity == Quantity("column", ("floating_head_mean_age",))
