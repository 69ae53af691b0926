"""The policy sweeps over the calibrated ensemble, one per scenario, with common random numbers.

Every scenario of :data:`analyze.SCENARIOS` runs the same parameter sets (the first ``--sets``
of the calibration's not-ruled-out ensemble, ``results/calibration/full/ensemble.csv``: random
draws of that space, so the first N are a random subsample) with the same replications and sweep
seed: run ``(parameter set p, replication r)`` has the same seed in every scenario (common
random numbers). ``--write`` writes ``sweeps/<scenario>.toml``; ``--check`` exits with status 1
when a committed sweep differs from what the ensemble gives, so that the experiment never runs
parameter sets the calibration no longer holds.

Usage: python experiments/policy_directions/make_sweeps.py [ENSEMBLE_CSV] (--write | --check)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from urbsim.analysis.history_matching import ENSEMBLE_NOT_PARAMETERS
from urbsim.sweep.spec import toml_value

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: this experiment's modules and the helpers shared by the
# experiments are found by path.
sys.path[:0] = [str(HERE), str(HERE.parent)]

from analyze import MECHANISMS, SCENARIOS  # noqa: E402
from sweep_files import points_design, sweep_file_parser, sweep_settings, write_or_check  # noqa: E402

SWEEPS = HERE / "sweeps"
SEED = 20200101
#: Parameter sets x replications: 40 x 3 = 120 runs per scenario (budget: README).
SETS, REPLICATIONS, SCALE = 40, 3, 1000.0
NATIONAL = ["urbanization_rate", "hukou_urbanization_rate", "service_gap", "entitlement_gap",
            "capacity_gap", "county_town_share", "settled_migrants", "floating_population",
            "public_spending", "local_debt", "agents",
            *(column for column, *_ in MECHANISMS.values())]  # fmt: skip
PLACES = ["residents", "urban_residents", "service_users", "service_gap", "entitlement_gap",
          "capacity_gap", "size_class_code"]  # fmt: skip


def sweep_text(
    name: str, ensemble: pd.DataFrame, sets: int, reps: int, scale: float, folder: Path = SWEEPS
) -> str:
    """The sweep file of one scenario, to be written into ``folder`` (by default the
    experiment's ``sweeps/``: the base scenario's path is relative to it)."""
    params = [c for c in ensemble.columns if c not in ENSEMBLE_NOT_PARAMETERS]
    chosen = ensemble.head(sets)
    lines = [
        f"# Scenario {name} over the first {len(chosen)} parameter sets of the calibrated",
        "# ensemble (results/calibration/full/ensemble.csv) x replications, the same in every",
        "# scenario (common random numbers). Written by make_sweeps.py --write: do not edit.",
        *sweep_settings(name, folder, SEED, reps, scale),
        *points_design(chosen, params),
    ]
    lines += ["", "[outputs]", f"national = {toml_value(NATIONAL)}",
              f"places = {toml_value(PLACES)}", "years = [2020, 2035]"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = sweep_file_parser(__doc__.splitlines()[0], SWEEPS, REPLICATIONS, SCALE)
    parser.add_argument("--sets", type=int, default=SETS)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    ensemble = pd.read_csv(args.ensemble)
    if len(ensemble) < args.sets:
        raise SystemExit(f"{args.ensemble}: {len(ensemble)} parameter sets, {args.sets} wanted")
    scale = args.households_per_agent
    texts = {
        args.folder / f"{name}.toml": sweep_text(
            name, ensemble, args.sets, args.replications, scale, args.folder
        )
        for name in SCENARIOS
    }
    return write_or_check(texts, args.write, args.ensemble)


if __name__ == "__main__":
    sys.exit(main())
