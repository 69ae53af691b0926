"""What the calibration's scale costs in noise and bias: replications at two scales.

Runs the ensemble's most plausible parameter set (``scenario_block.most_plausible`` of
``ENSEMBLE_CSV``) on the census scenario 2010-2019 with ``--replications`` replications at the
scale of the history-matching runs (``--coarse`` households per agent) and at a finer one
(``--fine``), as two replicate sweeps written into ``OUT/noise_coarse`` and ``OUT/noise_fine``
(``sweep.toml`` and the sweep folder ``runs``; resumable), and writes ``OUT/scale_noise.csv``:
for every target the model can give (``urbsim.analysis.targets``; no place columns, so no
distribution target), the mean and the standard deviation over the replications at each scale,
their ratio, the coarse sd over the target's tolerance, and the shift of the mean from the
coarse to the fine scale (``mean_shift``), also over the error the fit allows the target
(``shift_over_error_sd``: over the root of its discrepancy and observation variances, the units
of an implausibility). A shift of the order of 1 or more means the calibration, run at the
coarse scale, fits another model than the one run at the fine scale.

Usage: python experiments/calibration/scale_noise.py ENSEMBLE_CSV OUT [--coarse 1000]
       [--fine 250] [--replications 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hm_runs import LAST_YEAR, SCENARIO, needed_columns, run_values
from scenario_block import most_plausible

from urbsim.analysis.targets import Target, build_targets, missing_outputs
from urbsim.sweep.driver import run_sweep
from urbsim.sweep.spec import NATIONAL_COLUMNS, toml_value


def kept_columns(targets: list[Target]) -> list[str]:
    """The national columns the targets read: every target but the distribution across
    provinces, which needs the place tables (read from the targets, so that a new target's
    column is not silently left out of the check)."""
    national, _, _ = needed_columns([t for t in targets if t.quantity.kind != "province_tvd"])
    return national


SEED = 20261202


def sweep_text(
    folder: Path, values: dict[str, float], reps: int, hpa: float, kept: list[str]
) -> str:
    """A replicate sweep of the census scenario with ``values`` set, at ``hpa``."""
    base = os.path.relpath(SCENARIO, folder)
    lines = [
        "# Written by experiments/calibration/scale_noise.py: the ensemble's most plausible set.",
        f"base = {toml_value(base)}",
        f"seed = {SEED}",
        f"replications = {reps}",
        f"households_per_agent = {toml_value(float(hpa))}",
        "",
        "[set]",
        *(f"{toml_value(k)} = {v!r}" for k, v in values.items()),
        "",
        "[design]",
        'kind = "replicate"',
        "",
        "[outputs]",
        f"national = {toml_value(kept)}",
        f"until = {LAST_YEAR}",
    ]
    return "\n".join(lines) + "\n"


def run_scale(
    folder: Path, values: dict[str, float], reps: int, hpa: float, workers: int, kept: list[str]
) -> Path:
    """Run (or resume) the replicate sweep of one scale into ``folder/runs``; that folder."""
    folder.mkdir(parents=True, exist_ok=True)
    text = sweep_text(folder, values, reps, hpa, kept)
    (folder / "sweep.toml").write_text(text, encoding="utf-8")
    outcome = run_sweep(
        folder / "sweep.toml", folder / "runs", workers=workers, threads=1, resume=True
    )
    if outcome.failed or outcome.missing:
        raise SystemExit(f"{folder}: {outcome.failed} runs failed")
    return folder / "runs"


def noise_table(
    usable: list[Target], coarse: np.ndarray, fine: np.ndarray, scales: tuple[float, float]
) -> pd.DataFrame:
    """Mean and sd between replications of every target at both scales, and the shift of the
    mean between them (module docstring)."""
    table = pd.DataFrame(
        {
            "target": [t.key for t in usable],
            "tolerance": [t.tolerance for t in usable],
            "coarse_households_per_agent": scales[0],
            "fine_households_per_agent": scales[1],
            "coarse_mean": coarse.mean(axis=0),
            "fine_mean": fine.mean(axis=0),
            "coarse_sd": coarse.std(axis=0, ddof=1),
            "fine_sd": fine.std(axis=0, ddof=1),
        }
    )
    table["sd_ratio"] = table["coarse_sd"] / table["fine_sd"].where(table["fine_sd"] > 0)
    table["coarse_sd_over_tolerance"] = table["coarse_sd"] / table["tolerance"]
    table["mean_shift"] = table["fine_mean"] - table["coarse_mean"]
    error_sd = np.hypot([t.discrepancy_sd for t in usable], [t.observation_sd for t in usable])
    table["shift_over_error_sd"] = table["mean_shift"] / np.where(error_sd > 0, error_sd, np.nan)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--coarse", type=float, default=1000.0)
    parser.add_argument("--fine", type=float, default=250.0)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    targets = list(build_targets())
    kept = kept_columns(targets)
    if not set(kept) <= set(NATIONAL_COLUMNS):
        raise SystemExit(f"not national columns: {sorted(set(kept) - set(NATIONAL_COLUMNS))}")
    values = most_plausible(pd.read_csv(args.ensemble))
    missing = missing_outputs(targets, kept, [])
    usable = [t for t in targets if t.key not in missing and t.year > 2010]
    runs = [
        run_values(run_scale(args.out / name, values, args.replications, hpa, args.workers, kept),
                   usable, None)
        for name, hpa in (("noise_coarse", args.coarse), ("noise_fine", args.fine))
    ]  # fmt: skip
    table = noise_table(usable, runs[0], runs[1], (args.coarse, args.fine))
    table.to_csv(args.out / "scale_noise.csv", index=False, float_format="%.6g")
    print(table[["target", "coarse_sd", "fine_sd", "sd_ratio", "shift_over_error_sd"]]
          .to_string(index=False))  # fmt: skip
    return 0 if np.isfinite(table["coarse_sd"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
