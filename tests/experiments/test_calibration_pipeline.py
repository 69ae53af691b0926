"""Every step of the calibration experiment runs end to end at a tiny budget and writes every
table, the README and the figure (experiments/calibration/tiny.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from pipeline_helpers import run_tiny

#: Two history-matching fits of three waves, the check runs and the noise sweeps: minutes.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calibration")
    run_tiny("calibration", folder, "--points", "5")
    return folder


def test_every_table_of_both_fits_is_written(out: Path) -> None:
    box = pd.read_csv(out / "box.csv")
    for fit in ("full", "out_of_sample"):
        ensemble = pd.read_csv(out / fit / "ensemble.csv")
        assert len(ensemble) == 12
        assert list(ensemble.columns[1:-1]) == list(box["parameter"])
        inside = (ensemble[box["parameter"]] >= box["low"].to_numpy()) & (
            ensemble[box["parameter"]] <= box["high"].to_numpy()
        )
        assert inside.to_numpy().all()
        waves = pd.read_csv(out / fit / "waves.csv")
        assert list(waves["wave"]) == [1, 2, 3]
        timing = pd.read_csv(out / fit / "timing.csv")
        assert set(timing["stage"]) == {"design", "simulate", "emulate"}
        assert (timing["seconds"] >= 0).all()


def test_the_fit_is_read_from_runs_and_years_are_held_out(out: Path) -> None:
    full = pd.read_csv(out / "full" / "fit.csv")
    oos = pd.read_csv(out / "out_of_sample" / "fit.csv")
    targets = pd.read_csv(out / "full" / "targets.csv")
    usable = targets[targets["role"].isin(["fitted", "held out"])]
    assert set(full["target"]) == set(usable["target"])
    assert set(full["role"]) == {"fitted"}
    assert set(oos.loc[oos["year"] > 2015, "role"]) == {"held out"}
    assert set(oos.loc[oos["year"] <= 2015, "role"]) == {"fitted"}
    # A range over runs holds its mean.
    assert ((full["lo95"] <= full["predicted"]) & (full["predicted"] <= full["hi95"])).all()
    check = pd.read_parquet(out / "full" / "check" / "runs" / "runs.parquet")
    assert len(check) == 3 * 2 and (check["status"] == "ok").all()


def test_report_block_and_noise(out: Path) -> None:
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "{" not in readme and "## Fit in sample and out of sample" in readme
    assert (out / "figures" / "fit.png").stat().st_size > 10_000
    side = pd.read_csv(out / "fit_in_and_out_of_sample.csv")
    assert side["out_of_sample_over_tolerance"].notna().any()
    block = tomllib.loads((out / "scenario_block.toml").read_text(encoding="utf-8"))
    assert set(block) == {"behaviour", "demography"}
    noise = pd.read_csv(out / "scale_noise.csv")
    assert (noise["coarse_sd"] >= 0).all() and noise["target"].is_unique
