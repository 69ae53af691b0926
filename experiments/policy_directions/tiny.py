"""Every step of the policy experiment at a tiny budget: a smoke run of the machinery.

Writes the scenarios' sweeps from the ensemble ENSEMBLE_CSV (the layout
``experiments/calibration/history_match.py`` writes) into ``OUT/sweeps`` with ``--sets``
parameter sets, two replications and 40,000 households per agent (about 10,000 agents), runs
each into ``OUT/runs/<scenario>`` and analyses them into OUT (``analyze.py``: every table, the
figures and the README generated from the template), and writes ``OUT/stage_seconds.csv``.
``tests/experiments/test_policy_pipeline.py`` runs it.

Usage: python experiments/policy_directions/tiny.py ENSEMBLE_CSV OUT [--sets 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from analyze import SCENARIOS  # noqa: E402


def steps(ensemble: Path, out: Path, sets: int, hpa: float) -> list[tuple[str, list[str]]]:
    """The experiment's steps with the tiny budget: (name, command)."""
    py = sys.executable
    sweep = [py, "-m", "urbsim", "sweep", "--workers", "2", "--threads", "1", "--quiet"]
    make = [py, str(HERE / "make_sweeps.py"), str(ensemble), "--write", "--folder",
            str(out / "sweeps"), "--sets", str(sets), "--replications", "2",
            "--households-per-agent", repr(hpa)]  # fmt: skip
    runs = [
        (name, [*sweep, str(out / "sweeps" / f"{name}.toml"), "--out", str(out / "runs" / name)])
        for name in SCENARIOS
    ]
    return [("make_sweeps", make), *runs, ("analyze", [py, str(HERE / "analyze.py"), str(out)])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", type=int, default=2)
    parser.add_argument("--households-per-agent", type=float, default=40000.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, command in steps(args.ensemble, args.out, args.sets, args.households_per_agent):
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
