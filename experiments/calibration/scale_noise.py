"""What the calibration's scale costs in noise: replication spread at two scales.

Reads the replicate sweeps ``noise_coarse.toml`` (the scale of the history-matching runs) and
``noise_fine.toml`` (a finer one) and writes ``OUT/scale_noise.csv``: for every target the
model can give (``urbsim.analysis.targets``), the mean and the standard deviation over the
replications at each scale, their ratio, and the coarse sd over the target's tolerance.

Usage: python experiments/calibration/scale_noise.py COARSE_DIR FINE_DIR OUT
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hm_runs import run_values

from urbsim.analysis.targets import build_targets, missing_outputs
from urbsim.sweep.driver import load_sweep_dir


def scale_of(folder: Path) -> float:
    """Households per agent of a finished sweep."""
    return float(load_sweep_dir(folder)["spec"]["sweep"]["households_per_agent"])


def _kept(folder: Path) -> list[str]:
    """National columns a finished sweep kept."""
    return list(load_sweep_dir(folder)["spec"]["sweep"]["outputs"]["national"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("coarse", "fine", "out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    targets = build_targets()
    # The targets both sweeps can give: columns they kept (no place columns: no distribution).
    kept = set(_kept(args.coarse)) & set(_kept(args.fine))
    missing = missing_outputs(targets, sorted(kept), [])
    usable = [t for t in targets if t.key not in missing and t.year > 2010]
    coarse = run_values(args.coarse, usable, None)
    fine = run_values(args.fine, usable, None)
    table = pd.DataFrame(
        {
            "target": [t.key for t in usable],
            "tolerance": [t.tolerance for t in usable],
            "coarse_households_per_agent": scale_of(args.coarse),
            "fine_households_per_agent": scale_of(args.fine),
            "coarse_mean": coarse.mean(axis=0),
            "fine_mean": fine.mean(axis=0),
            "coarse_sd": coarse.std(axis=0, ddof=1),
            "fine_sd": fine.std(axis=0, ddof=1),
        }
    )
    table["sd_ratio"] = table["coarse_sd"] / table["fine_sd"].where(table["fine_sd"] > 0)
    table["coarse_sd_over_tolerance"] = table["coarse_sd"] / table["tolerance"]
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "scale_noise.csv", index=False, float_format="%.6g")
    print(table[["target", "coarse_sd", "fine_sd", "sd_ratio"]].to_string(index=False))
    return 0 if np.isfinite(table["coarse_sd"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
