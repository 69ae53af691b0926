"""Every step of the calibration experiment runs end to end at a tiny budget and writes every
table, the README and the figure (experiments/calibration/tiny.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
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
    # The out-of-sample fit asks 13 sets of its 12 verified: refused, its tables written, and
    # the calibration goes on (--allow-refused).
    refusal = (out / "out_of_sample" / "refused.txt").read_text(encoding="utf-8")
    assert "12 parameter sets accepted, fewer than --final-sample 13" in refusal
    assert not (out / "out_of_sample" / "ensemble.csv").exists()
    assert not (out / "full" / "refused.txt").exists()
    for fit, name in (("full", "ensemble.csv"), ("out_of_sample", "ensemble_refused.csv")):
        ensemble = pd.read_csv(out / fit / name)
        assert len(ensemble) == 12
        assert list(ensemble.columns[1:-2]) == list(box["parameter"])
        assert list(ensemble.columns[-2:]) == ["max_implausibility", "run_max_implausibility"]
        verified = pd.read_csv(out / fit / "verification.csv")
        assert len(verified) == 12 and verified["accepted"].all()
        assert not verified["refused"].any()
        assert (
            verified["run_max_implausibility"].tolist()
            == ensemble["run_max_implausibility"].tolist()
        )
        profiles = pd.read_csv(out / fit / "profiles.csv")
        assert set(profiles["parameter"]) == set(box["parameter"])
        assert profiles["share_not_ruled_out"].between(0, 1).all()
        parameters = pd.read_csv(out / fit / "parameters.csv")
        assert {"constrained", "profile_min", "profile_max", "at_bound"} <= set(parameters)
        inside = (ensemble[box["parameter"]] >= box["low"].to_numpy()) & (
            ensemble[box["parameter"]] <= box["high"].to_numpy()
        )
        assert inside.to_numpy().all()
        waves = pd.read_csv(out / fit / "waves.csv")
        assert list(waves["wave"]) == [1, 2, 3]  # the cutoff of 1e9 stops after the planned 3
        # The full fit's three are the out-of-sample fit's designs; nothing is ruled out.
        given = "given design" if fit == "full" else "design"
        assert (waves["source"] == given).all() and (waves["design_in_space"] == 1.0).all()
        assert (waves["run_plausible_share"] == 1.0).all()
        assert (waves["refused_sets"] == 0).all()
        timing = pd.read_csv(out / fit / "timing.csv")
        assert set(timing["stage"]) == {"design", "simulate", "emulate"}
        assert (timing["seconds"] >= 0).all()
        # The fitted emulators kept for a resume are gone once the fit has ended.
        assert not (out / fit / ".fits").exists()


def test_the_full_fit_continues_the_out_of_sample_fits_waves_on_every_target(
    out: Path,
) -> None:
    import json

    def source(fit: str, wave: str) -> str:
        meta = json.loads((out / fit / wave / "runs" / "sweep.json").read_text(encoding="utf-8"))
        return meta["sweep_path"]

    # Every wave of the full fit is one of the out-of-sample fit's (the cutoff of 1e9 ends
    # both after the planned three): the same sweep, its runs copied, not run again.
    for wave in ("wave1", "wave2", "wave3"):
        mine = (out / "full" / wave / "sweep.toml").read_text(encoding="utf-8")
        assert mine == (out / "out_of_sample" / wave / "sweep.toml").read_text(encoding="utf-8")
        assert source("full", wave).startswith(str(out / "out_of_sample")), wave
        a = pd.read_parquet(out / "full" / wave / "runs" / "results.parquet")
        b = pd.read_parquet(out / "out_of_sample" / wave / "runs" / "results.parquet")
        pd.testing.assert_frame_equal(a, b)
    # Judged on every target: the full fit's emulators include the years after 2015.
    years = pd.read_csv(out / "full" / "emulator_loo.csv")["target"].str.split("@").str[1]
    assert years.astype(int).max() == 2019
    years = pd.read_csv(out / "out_of_sample" / "emulator_loo.csv")["target"].str.split("@")
    assert years.str[1].astype(int).max() == 2015
    # Its verification is copied only when it is the same sweep (at this budget, where nothing
    # is ruled out, both fits can draw the same sets).
    same = (out / "full" / "verify" / "sweep.toml").read_text(encoding="utf-8") == (
        out / "out_of_sample" / "verify" / "sweep.toml"
    ).read_text(encoding="utf-8")
    assert source("full", "verify").startswith(str(out / ("out_of_sample" if same else "full")))


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
    # The fit is read from the verification runs of the accepted sets (12 sets, 2 runs each).
    verify = pd.read_parquet(out / "full" / "verify" / "runs" / "runs.parquet")
    assert len(verify) == 12 * 2 and (verify["status"] == "ok").all()


def test_report_block_and_noise(out: Path) -> None:
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "{" not in readme and "## Fit in sample and out of sample" in readme
    words = " ".join(readme.split())
    assert "The first 3 are the design waves of the fit to 2010-2015" in words
    assert "its ensemble was refused, and the errors are those of the sets it accepted" in words
    assert (out / "figures" / "fit.png").stat().st_size > 10_000
    side = pd.read_csv(out / "fit_in_and_out_of_sample.csv")
    assert side["out_of_sample_over_tolerance"].notna().any()
    block = tomllib.loads((out / "scenario_block.toml").read_text(encoding="utf-8"))
    assert set(block) == {"behaviour", "demography"}
    noise = pd.read_csv(out / "scale_noise.csv")
    assert (noise["coarse_sd"] >= 0).all() and noise["target"].is_unique
    # The difference of the means as written (six significant digits each).
    shift = noise["fine_mean"] - noise["coarse_mean"]
    written = 1e-5 * np.maximum(noise["fine_mean"].abs(), noise["coarse_mean"].abs())
    assert ((noise["mean_shift"] - shift).abs() <= written).all()
    assert np.isfinite(noise["shift_over_error_sd"]).all()
    assert (np.sign(noise["shift_over_error_sd"]) == np.sign(noise["mean_shift"])).all()


def test_every_wave_is_checked_on_later_runs(out: Path) -> None:
    # Later waves' designs and the verification batches: the last wave has its batches.
    loo = pd.read_csv(out / "full" / "emulator_loo.csv")
    assert (loo["held_out_points"] > 0).all()
    assert (loo["variance_inflation"] >= 1.0).all()
    # A factor above 1 only where the errors at the later runs were too large.
    assert (loo.loc[loo["variance_inflation"] > 1.0, "held_out_rms"] > 1.0).all()


def test_run_errors_say_which_targets_rule_the_runs_out(out: Path) -> None:
    errors = pd.read_csv(out / "full" / "run_errors.csv")
    waves = pd.read_csv(out / "full" / "waves.csv")
    targets = pd.read_csv(out / "full" / "targets.csv")
    assert set(errors["wave"]) == set(waves["wave"])
    assert set(errors["target"]) == set(targets.loc[targets["role"] == "fitted", "target"])
    assert errors["within_cutoff"].between(0, 1).all()
    assert (errors["error_q10"] <= errors["error_median"]).all()
    assert (errors["error_median"] <= errors["error_q90"]).all()
    # The points of each wave, the same on every target, are the runs its emulators were
    # fitted on.
    assert (errors.groupby("wave")["points"].nunique() == 1).all()
    points = errors.groupby("wave")["points"].first()
    assert (points.to_numpy() == waves.set_index("wave").loc[points.index, "emulator_points"]
            .to_numpy()).all()  # fmt: skip
    # At the tiny run's cutoff of 1e9 every run is inside on every target, as waves.csv says.
    assert (errors["within_cutoff"] == 1.0).all() and (waves["run_plausible_share"] == 1.0).all()
    assert errors["error_median"].abs().max() > 0.0


def test_the_emulators_precision_on_each_verification_batch(out: Path) -> None:
    """A row per verification batch and fitted target, judged by the wave the batch was drawn
    under (the design waves and the refocusing waves before it)."""
    precision = pd.read_csv(out / "full" / "emulator_precision.csv")
    verification = pd.read_csv(out / "full" / "verification.csv")
    waves = pd.read_csv(out / "full" / "waves.csv")
    targets = pd.read_csv(out / "full" / "targets.csv")
    fitted = set(targets.loc[targets["role"] == "fitted", "target"])
    assert set(precision["batch"]) == set(verification["batch"])
    for batch, rows in precision.groupby("batch"):
        assert set(rows["target"]) == fitted
        designed = int(waves["source"].isin(["design", "given design"]).sum())
        assert (rows["wave"] == designed + batch - 1).all()
        sets = verification.loc[(verification["batch"] == batch) & ~verification["refused"]]
        assert (rows["sets"] == len(sets)).all()
    assert precision["error_share_beyond_3"].between(0, 1).all()
    assert precision["kept_but_ruled_out_by_runs"].between(0, 1).all()
    assert (precision[["emulator_sd_over_base", "run_sd_over_base"]] >= 0).all().all()
