"""Every step of the sensitivity experiment at a tiny budget: a smoke run of the machinery.

Runs the steps of ``experiment.toml`` into OUT from the ensemble ENSEMBLE_CSV (a file of the
layout ``experiments/calibration/history_match.py`` writes) with a budget small enough for a
test: ``--trajectories`` Morris trajectories, two replications, 40,000 households per agent
(about 10,000 agents), 2010-2035, the status quo and all the directions; writes
``OUT/stage_seconds.csv`` (the wall time of every step).
``tests/experiments/test_sensitivity_pipeline.py`` runs it.

Usage: python experiments/sensitivity/tiny.py ENSEMBLE_CSV OUT [--trajectories 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from tiny_runs import run_timed_steps, tiny_parser  # noqa: E402


def steps(ensemble: Path, out: Path, trajectories: int, hpa: float) -> list[tuple[str, list[str]]]:
    """The experiment's steps with the tiny budget: (name, command)."""
    py = sys.executable
    sweep = [py, "-m", "urbsim", "sweep", "--workers", "2", "--threads", "1", "--quiet"]
    return [
        ("make_sweeps", [py, str(HERE / "make_sweeps.py"), str(ensemble), "--write", "--folder",
                         str(out / "sweeps"), "--trajectories", str(trajectories),
                         "--replications", "2", "--households-per-agent", repr(hpa)]),
        ("status_quo", [*sweep, str(out / "sweeps" / "morris_status_quo.toml"), "--out",
                        str(out / "morris_status_quo")]),
        ("plot", [py, "-m", "urbsim", "plot-sweep", str(out / "morris_status_quo")]),
        ("all_four", [*sweep, str(out / "sweeps" / "morris_all_four.toml"), "--out",
                      str(out / "morris_all_four")]),
        ("effects", [py, str(HERE / "effects.py"), str(out / "morris_status_quo"),
                     str(out / "morris_all_four"), str(out / "sweeps" / "morris_all_four.toml"),
                     str(out / "morris_effects")]),
    ]  # fmt: skip


def main() -> int:
    parser = tiny_parser(__doc__.splitlines()[0], ("ensemble",), 40000.0)
    parser.add_argument("--trajectories", type=int, default=2)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tiny = steps(args.ensemble, args.out, args.trajectories, args.households_per_agent)
    run_timed_steps(tiny, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
