"""Every step of the scale study runs end to end at a tiny budget (experiments/scale/tiny.py),
and its verdicts follow from the runs they are read from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import run_tiny
from scipy.stats import t as student_t

#: Four runs of 2010-2012 at 40,000 and 20,000 households per agent and their analysis.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale")
    run_tiny("scale", folder)
    return folder


def test_every_scale_and_seed_ran_with_its_cost(out: Path) -> None:
    runs = pd.read_csv(out / "runs" / "runs.csv")
    assert sorted(runs["households_per_agent"].unique()) == [20000.0, 40000.0]
    assert runs.groupby("households_per_agent")["seed"].apply(sorted).map(tuple).nunique() == 1
    assert (runs["wall_s"] > 0).all() and (runs["peak_rss_bytes"] > 1e8).all()
    for folder in runs["folder"]:
        run = out / "runs" / folder
        assert (run / "flows.parquet").exists() and (run / "national.parquet").exists()
        # Only what the analysis reads is kept: the prefectures' residents in the first and
        # last year instead of the places table, and no figures.
        assert not (run / "places.parquet").exists() and not (run / "figures").exists()
        prefectures = pd.read_parquet(run / "prefectures.parquet")
        assert sorted(prefectures["year"].unique()) == [2010, 2012]
        assert prefectures.groupby("year")["residents"].sum().gt(0).all()


def test_national_verdicts_follow_from_the_runs(out: Path) -> None:
    runs = pd.read_csv(out / "runs" / "runs.csv")
    rates = {
        (r.households_per_agent, r.seed): pd.read_parquet(
            out / "runs" / r.folder / "national.parquet"
        ).set_index("year")["urbanization_rate"][2012]
        for r in runs.itertuples()
    }
    coarse = np.array([v for (s, _), v in rates.items() if s == 40000.0])
    fine = np.array([v for (s, _), v in rates.items() if s == 20000.0])
    z = (coarse.mean() - fine.mean()) / np.sqrt(
        coarse.var(ddof=1) / coarse.size + fine.var(ddof=1) / fine.size
    )
    # Welch's t: Student's critical value at the Welch-Satterthwaite degrees of freedom.
    a, b = coarse.var(ddof=1) / coarse.size, fine.var(ddof=1) / fine.size
    dof = (a + b) ** 2 / (a**2 / (coarse.size - 1) + b**2 / (fine.size - 1))
    critical = student_t.ppf(0.975, dof)
    table = pd.read_csv(out / "national.csv", index_col="key")
    row = table.loc["urbanization_rate_2012_40000"]
    assert row["z"] == pytest.approx(z, rel=1e-5)
    assert row["critical"] == pytest.approx(critical, rel=1e-5)
    assert bool(row["stable"]) == (abs(z) <= critical)
    # The finest scale is the reference: stable by construction.
    assert table.loc["urbanization_rate_2012_20000", "z"] == 0.0
    stable = pd.read_csv(out / "stable_from.csv", index_col="output")
    expected = 40000 if abs(z) <= critical else 20000
    assert int(stable.loc["urbanization_rate_2012", "stable_from"]) == expected


def test_vector_outputs_compare_means_over_seeds(out: Path) -> None:
    vectors = pd.read_csv(out / "vectors.csv", index_col="key")
    assert set(vectors["output"]) == {"province_flows", "prefecture_growth"}
    assert vectors.loc["province_flows_20000", "rms_difference"] == 0.0
    coarse = vectors.loc["prefecture_growth_40000"]
    # Each of the three is written with 6 significant digits: the quotient of two rounded values
    # can differ from the rounded ratio by about 1e-6 of it (1.1e-6 measured), so 1e-5.
    ratio = coarse["rms_difference"] / coarse["rms_noise"]
    assert coarse["ratio"] == pytest.approx(ratio, rel=1e-5)
    assert bool(coarse["stable"]) == (coarse["ratio"] <= 1.5)


def test_the_readme_is_generated_with_its_figures(out: Path) -> None:
    text = (out / "README.md").read_text("utf-8")
    assert "{" not in text and "stable" in text
    for figure in ("national.png", "prefecture_growth.png"):
        assert (out / "figures" / figure).stat().st_size > 10_000
