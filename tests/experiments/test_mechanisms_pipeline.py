"""Every step of the mechanisms experiment runs end to end at a tiny budget on the calibrated
census model over an ensemble (experiments/mechanisms/tiny.py), and its tables agree with the
runs they are read from."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from pipeline_helpers import run_tiny_over

#: Six runs of 2010-2019 at 40,000 households per agent and their analysis: about a minute.
pytestmark = pytest.mark.slow

#: A small ensemble in the layout history_match.py writes (two parameters of box.csv).
ENSEMBLE = pd.DataFrame(
    {
        "parameter_set": [0, 1, 2],
        "behaviour.move_base": [0.03, 0.12, 0.06],
        "demography.insitu_base": [0.01, 0.004, 0.02],
        "max_implausibility": [1.2, 2.5, 0.8],
    }
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_tiny_over("mechanisms", ENSEMBLE, tmp_path_factory.mktemp("mechanisms"))


def test_the_sweep_runs_every_ensemble_set(out: Path) -> None:
    sweep = tomllib.loads((out / "sweeps" / "history.toml").read_text("utf-8"))
    values = {p["name"]: p["values"] for p in sweep["design"]["parameters"]}
    assert values == {p: ENSEMBLE[p].tolist() for p in values}
    assert set(values) == {"behaviour.move_base", "demography.insitu_base"}
    assert sweep["outputs"]["until"] == 2019
    runs = pd.read_parquet(out / "history" / "runs.parquet")
    assert len(runs) == 6 and (runs["status"] == "ok").all()


def test_decomposition_sums_to_the_urban_growth_of_the_runs(out: Path) -> None:
    table = pq_national(out)
    growth = table.groupby("run")["urban_residents"].agg(lambda s: s.iloc[-1] - s.iloc[0])
    d = pd.read_csv(out / "decomposition.csv", index_col="period", dtype={"period": str})
    # The identity of the model: the three sources add up to the change of urban residents.
    assert d.loc["2011-2019", "total_m"] == pytest.approx(growth.mean() / 1e6, rel=1e-5)
    # The official share exists for 2012 and 2015-2019 (the natural growth rate is missing for
    # 2013-2014, the year-end urbanization rate for 2010).
    official = d["official_natural_share"].dropna()
    assert list(official.index) == ["2012", "2015", "2016", "2017", "2018", "2019", "2011-2019"]


def test_the_natural_share_is_compared_over_the_official_years(out: Path) -> None:
    table = pq_national(out)
    years = table[table["year"].isin([2012, 2015, 2016, 2017, 2018, 2019])]
    sums = years.groupby("run")[["urban_growth_natural", "urban_residents"]].sum()
    change = (
        years.groupby("run")[["urban_growth_natural", "urban_growth_migration",
                               "urban_growth_reclassification"]].sum().sum(axis=1)
    )  # fmt: skip
    share = (sums["urban_growth_natural"] / change).mean()
    summary = pd.read_csv(out / "summary.csv", index_col="quantity")["value"]
    assert summary["natural_share_official_years"] == pytest.approx(share, rel=1e-5)
    assert summary["official_years"] == 6


def test_mobility_and_ages_are_read_from_the_runs(out: Path) -> None:
    table = pq_national(out)
    m = pd.read_csv(out / "mobility.csv", index_col="period", dtype={"period": str})
    y2015 = table[table["year"] == 2015]
    assert m.loc["2015", "moves_m"] == pytest.approx(y2015["moves"].mean() / 1e6, rel=1e-5)
    # The period's shares are ratios of each run's sums over 2011-2019.
    period = (
        table[table["year"].between(2011, 2019)]
        .groupby("run")[["province_moves", "moves", "return_migrants"]]
        .sum()
    )
    assert m.loc["2011-2019", "province_share"] == pytest.approx(
        (period["province_moves"] / period["moves"]).mean(), rel=1e-5
    )
    assert m.loc["2011-2019", "return_migrants_m"] == pytest.approx(
        period["return_migrants"].mean() / 9 / 1e6, rel=1e-5
    )
    ages = pd.read_csv(out / "age_profile.csv")
    assert set(ages["year"]) == {2010, 2015, 2019}
    places = pd.read_parquet(out / "history" / "results.parquet")
    young = places[(places["name"] == "migrants_head_15_29") & (places["year"] == 2019)]
    every = places[places["name"].str.startswith("migrants_head_") & (places["year"] == 2019)]
    share = young.groupby("run")["value"].sum() / every.groupby("run")["value"].sum()
    row = ages[(ages["year"] == 2019) & (ages["band"] == "15_29")].iloc[0]
    assert row["share"] == pytest.approx(share.mean(), rel=1e-5)


def test_mean_age_is_read_from_the_runs_and_set_against_the_survey(out: Path) -> None:
    table = pq_national(out)
    ages = pd.read_csv(out / "mean_age.csv", index_col="year")
    assert list(ages.index) == list(range(2010, 2020))
    by_year = table.groupby("year")["floating_head_mean_age"].mean()
    # The CSV keeps six significant digits.
    assert ages["floating_head_mean_age"].to_numpy() == pytest.approx(by_year.to_numpy(), rel=1e-5)
    # The survey's two years (the calibration's targets), and no other.
    assert ages["survey"].dropna().to_dict() == {2011: 33.1, 2013: 33.7}
    diff = ages.loc[2013, "floating_head_mean_age"] - 33.7
    assert ages.loc[2013, "model_minus_survey"] == pytest.approx(diff, abs=1e-4)
    assert bool(ages.loc[2013, "within_tolerance"]) == (abs(diff) <= 1.0)
    summary = pd.read_csv(out / "summary.csv", index_col="quantity")["value"]
    change = by_year[2013] - by_year[2011]
    assert summary["head_age_change"] == pytest.approx(change, abs=1e-4)
    assert summary["survey_age_change"] == pytest.approx(0.6, abs=1e-4)
    assert summary["head_age_end"] == pytest.approx(by_year[2019], rel=1e-5)


def test_readme_and_figures_are_written(out: Path) -> None:
    text = (out / "README.md").read_text("utf-8")
    assert "{" not in text and "2011-2019" in text
    summary = pd.read_csv(out / "summary.csv", index_col="quantity")["value"]
    assert f"{summary['natural_share']:.3f}" in text
    for name in ("decomposition", "mobility", "age_profile", "mean_age"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000


def pq_national(out: Path) -> pd.DataFrame:
    """The national rows of the history sweep, one row per run and year."""
    table = pd.read_parquet(out / "history" / "results.parquet")
    nat = table[table["kind"] == "national"]
    return nat.pivot_table(index=["run", "year"], columns="name", values="value").reset_index()
