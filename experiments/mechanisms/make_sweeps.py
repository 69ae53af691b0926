"""The history sweep of the mechanism diagnostics: the calibrated ensemble over 2010-2019.

Every parameter set of the calibration's not-ruled-out ensemble
(``results/calibration/full/ensemble.csv``; the first ``--sets`` when given) runs on the census
world of the calibration (``scenarios/china_census.toml``) from 2010 to 2019, the years fitted,
with ``--replications`` replications, keeping the national columns the diagnostics read
(:mod:`urbsim.analysis.mechanisms`, the floating heads' mean age among them) and the migrants by
the head's age band in 2010, 2015 and
2019. ``--write`` writes ``history.toml`` into ``--folder`` (the experiment writes it into its
results folder, so that it always follows the ensemble); ``--check`` exits with status 1 when
the file there differs from what the ensemble gives.

Usage: python experiments/mechanisms/make_sweeps.py [ENSEMBLE_CSV] (--write | --check)
       [--sets N] [--replications 2] [--households-per-agent 1000]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

import pandas as pd

from urbsim.analysis.history_matching import ENSEMBLE_NOT_PARAMETERS
from urbsim.analysis.mechanisms import (
    AGE_COLUMNS,
    GROWTH_COLUMNS,
    MEAN_AGE_COLUMN,
    MOBILITY_COLUMNS,
)
from urbsim.sweep.spec import toml_value

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from sweep_files import ROOT, points_design, sweep_file_parser, write_or_check  # noqa: E402

#: The calibrated scenario: the world, rules and settings history matching ran.
SCENARIO: Final = ROOT / "scenarios" / "china_census.toml"
SEED: Final = 20261204
#: The years fitted; the place columns are kept at the first, middle and last of them.
FIRST_YEAR, LAST_YEAR = 2010, 2019
PLACE_YEARS: Final = [2010, 2015, 2019]
REPLICATIONS, SCALE = 2, 1000.0
#: The national columns kept: those the diagnostics read, each once, in order.
NATIONAL: Final = list(
    dict.fromkeys(
        ["urbanization_rate", "urban_residents", "floating_population", *GROWTH_COLUMNS,
         *MOBILITY_COLUMNS, MEAN_AGE_COLUMN]
    )
)  # fmt: skip


def sweep_text(ensemble: pd.DataFrame, reps: int, scale: float, folder: Path) -> str:
    """The history sweep over every row of ``ensemble``, to be written into ``folder``."""
    params = [c for c in ensemble.columns if c not in ENSEMBLE_NOT_PARAMETERS]
    if ensemble.empty or not params:
        raise SystemExit("the ensemble has no parameter sets or no parameter columns")
    lines = [
        f"# The calibrated ensemble's {len(ensemble)} parameter sets x replications on the census",
        f"# world, {FIRST_YEAR}-{LAST_YEAR} (results/calibration/full/ensemble.csv). Written by",
        "# make_sweeps.py --write: do not edit.",
        f"base = {toml_value(os.path.relpath(SCENARIO, folder))}",
        f"seed = {SEED}",
        f"replications = {reps}",
        f"households_per_agent = {toml_value(scale)}",
        *points_design(ensemble, params),
    ]
    lines += [
        "",
        "[outputs]",
        f"national = {toml_value(NATIONAL)}",
        f"places = {toml_value(list(AGE_COLUMNS))}",
        f"years = {toml_value(PLACE_YEARS)}",
        f"until = {LAST_YEAR}",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = sweep_file_parser(__doc__.splitlines()[0], HERE, REPLICATIONS, SCALE)
    parser.add_argument("--sets", type=int, default=None, help="the first N sets (default all)")
    args = parser.parse_args()
    ensemble = pd.read_csv(args.ensemble)
    if args.sets is not None:
        ensemble = ensemble.head(args.sets)
    args.folder.mkdir(parents=True, exist_ok=True)
    text = sweep_text(ensemble, args.replications, args.households_per_agent, args.folder)
    return write_or_check({args.folder / "history.toml": text}, args.write, args.ensemble)


if __name__ == "__main__":
    sys.exit(main())
