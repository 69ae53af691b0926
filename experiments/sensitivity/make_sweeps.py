"""Morris sweeps of the calibrated census model over the not-ruled-out ranges of its parameters.

Every parameter of the calibration's ensemble (``results/calibration/full/ensemble.csv``: every
behavioural, settlement, reclassification and debt parameter history matching fitted) varies
over the range the ensemble spans (its smallest to its largest value: the bounding box of the
space history matching did not rule out). Two sweeps share the design, the seed and therefore
every run's parameters and seed (common random numbers):

* ``morris_status_quo.toml``: the status quo (``scenarios/policy/status_quo.toml``, the 2019
  policy held to 2035): sensitivity of the *levels* of 2019 and 2035;
* ``morris_all_four.toml``: all the directions of new-type urbanization
  (``scenarios/policy/all_four.toml``): with the status quo, the *effects* of the policy
  (``effects.py``: Morris indices of the run-by-run difference).

``--write`` writes both files into ``--folder`` (the experiment writes them into its results
folder, so that they always follow the ensemble); ``--check`` exits with status 1 when the
files there differ from what the ensemble gives.

Usage: python experiments/sensitivity/make_sweeps.py [ENSEMBLE_CSV] (--write | --check)
       [--trajectories 16] [--replications 2] [--households-per-agent 1000]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import pandas as pd

from urbsim.sweep.spec import toml_value

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from sweep_files import sweep_file_parser, sweep_settings, write_or_check  # noqa: E402

from urbsim.analysis.history_matching import ENSEMBLE_NOT_PARAMETERS  # noqa: E402

#: Scenario of each sweep (in scenarios/policy/): the reference first.
SCENARIOS: Final[dict[str, str]] = {"status_quo": "status_quo", "all_four": "all_four"}
SEED: Final = 20261203
TRAJECTORIES, REPLICATIONS, SCALE, LEVELS = 16, 2, 1000.0, 4
#: Scalar outputs of every run: levels in 2019 (the last calibrated year) and 2035.
METRICS: Final[dict[str, tuple[str, int]]] = {
    "resident_urbanization_2019": ("urbanization_rate", 2019),
    "hukou_urbanization_2019": ("hukou_urbanization_rate", 2019),
    "floating_population_2019": ("floating_population", 2019),
    "resident_urbanization": ("urbanization_rate", 2035),
    "hukou_urbanization": ("hukou_urbanization_rate", 2035),
    "service_gap": ("service_gap", 2035),
    "floating_population": ("floating_population", 2035),
    "local_debt": ("local_debt", 2035),
}


def ranges(ensemble: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Each parameter's smallest and largest value in the ensemble.

    Raises
    ------
    SystemExit
        When a parameter does not vary in the ensemble (no range to screen).
    """
    params = [c for c in ensemble.columns if c not in ENSEMBLE_NOT_PARAMETERS]
    out = {p: (float(ensemble[p].min()), float(ensemble[p].max())) for p in params}
    flat = [p for p, (lo, hi) in out.items() if not hi > lo]
    if flat:
        raise SystemExit(f"parameters that do not vary in the ensemble: {flat}")
    return out


def sweep_text(
    scenario: str,
    bounds: dict[str, tuple[float, float]],
    trajectories: int,
    reps: int,
    scale: float,
    folder: Path = HERE,
) -> str:
    """The Morris sweep of one scenario over ``bounds``, to be written into ``folder``."""
    lines = [
        f"# Morris screening of scenarios/policy/{scenario}.toml over the range of every parameter",
        "# in the calibrated ensemble (results/calibration/full/ensemble.csv). Written by",
        "# make_sweeps.py --write: do not edit. Same design and seed in every scenario (common",
        "# random numbers): effects.py differences the runs.",
        *sweep_settings(scenario, folder, SEED, reps, scale),
        "",
        "[design]",
        'kind = "morris"',
        f"n = {trajectories}",
        f"levels = {LEVELS}",
    ]
    for name, (lo, hi) in bounds.items():
        lines += ["", "[[design.parameters]]", f"name = {toml_value(name)}",
                  f"low = {lo!r}", f"high = {hi!r}"]  # fmt: skip
    national = sorted({column for column, _ in METRICS.values()})
    lines += ["", "[outputs]", f"national = {toml_value(national)}", "", "[outputs.metrics]"]
    lines += [f'{m} = {{ column = "{c}", year = {y} }}' for m, (c, y) in METRICS.items()]
    lines += ["", "[analysis]", f"metrics = {toml_value(list(METRICS))}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = sweep_file_parser(__doc__.splitlines()[0], HERE, REPLICATIONS, SCALE)
    parser.add_argument("--trajectories", type=int, default=TRAJECTORIES)
    args = parser.parse_args()
    bounds = ranges(pd.read_csv(args.ensemble))
    args.folder.mkdir(parents=True, exist_ok=True)
    scale = args.households_per_agent
    texts = {
        args.folder / f"morris_{name}.toml": sweep_text(
            scenario, bounds, args.trajectories, args.replications, scale, args.folder
        )
        for name, scenario in SCENARIOS.items()
    }
    return write_or_check(texts, args.write, args.ensemble)


if __name__ == "__main__":
    sys.exit(main())
