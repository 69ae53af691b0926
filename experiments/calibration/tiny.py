"""Every step of the calibration experiment at a tiny budget: a smoke run of the machinery.

Runs the steps of ``experiment.toml`` (the out-of-sample fit, the full fit continuing it,
the scenario block, the
scale noise, the report) into OUT with a budget small enough for a test: three parameters of
``box.csv`` (their bounds marked hard, so that a wide not-ruled-out space is reported instead of
refused), three waves of ``--points`` points with two replications, 20,000 households per agent
(about 20,000 agents), an implausibility cutoff so large that nothing is ruled out (the tiny
emulators say nothing; the run checks that every table and figure is made, not the fit), and
writes ``OUT/stage_seconds.csv``: the wall time of every stage, from which the README
extrapolates the real budget. ``tests/experiments/test_calibration_pipeline.py`` runs it.

Usage: python experiments/calibration/tiny.py OUT [--points 6] [--households-per-agent 20000]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from tiny_runs import run_timed_steps, tiny_parser  # noqa: E402

#: Parameters of box.csv the tiny run varies (move propensity, land value, reclassification).
PARAMETERS = ("behaviour.move_base", "behaviour.land_value", "demography.insitu_base")


def tiny_box(out: Path) -> Path:
    """``box.csv`` cut to :data:`PARAMETERS`, every bound hard."""
    box = pd.read_csv(HERE / "box.csv", comment="#")
    box = box[box["parameter"].isin(PARAMETERS)].assign(hard_low=True, hard_high=True)
    if len(box) != len(PARAMETERS):
        raise SystemExit(f"box.csv lacks one of {PARAMETERS}")
    path = out / "box.csv"
    box.to_csv(path, index=False)
    return path


def steps(out: Path, points: int, hpa: float) -> list[tuple[str, list[str]]]:
    """The experiment's steps with the tiny budget: (name, command)."""
    fit = ["--points", f"{points},{points},{points}", "--replications", "2",
           "--households-per-agent", repr(hpa), "--final-sample", "12", "--verify-points", "12",
           "--candidates", "60", "--cutoff", "1e9",
           "--box", str(out / "box.csv")]  # fmt: skip
    py, ensemble = sys.executable, str(out / "full" / "ensemble.csv")
    script = [py, str(HERE / "history_match.py")]
    continued = ["--continue-from", str(out / "out_of_sample"), "--max-waves", "4"]
    # The out-of-sample fit asks one set more than it verifies: its ensemble is refused, and
    # the steps after it go on (--allow-refused), as the experiment's do when that happens.
    check = ["--last-fit-year", "2015", "--max-waves", "3", "--allow-refused", *fit,
             "--final-sample", "13", "--verify-batches", "1"]  # fmt: skip
    return [
        ("out_of_sample", [*script, str(out / "out_of_sample"), *check]),
        ("full", [*script, str(out / "full"), *continued, *fit]),
        (
            "scenario_block",
            [
                py,
                str(HERE / "scenario_block.py"),
                ensemble,
                "--block",
                str(out / "scenario_block.toml"),
            ],
        ),
        (
            "scale_noise",
            [
                py,
                str(HERE / "scale_noise.py"),
                ensemble,
                str(out),
                "--coarse",
                repr(2 * hpa),
                "--fine",
                repr(hpa),
                "--replications",
                "3",
            ],
        ),
        ("report", [py, str(HERE / "report.py"), str(out)]),
    ]


def main() -> int:
    parser = tiny_parser(__doc__.splitlines()[0], (), 20000.0)
    parser.add_argument("--points", type=int, default=6)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tiny_box(args.out)
    run_timed_steps(steps(args.out, args.points, args.households_per_agent), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
