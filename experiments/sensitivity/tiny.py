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

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--trajectories", type=int, default=2)
    parser.add_argument("--households-per-agent", type=float, default=40000.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, command in steps(args.ensemble, args.out, args.trajectories,
                               args.households_per_agent):  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        rows.append({"step": name, "seconds": time.perf_counter() - start})
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
            raise SystemExit(f"step {name} failed (exit {done.returncode})")
    pd.DataFrame(rows).to_csv(args.out / "stage_seconds.csv", index=False, float_format="%.1f")
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
