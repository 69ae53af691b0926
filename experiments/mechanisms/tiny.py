"""Every step of the mechanisms experiment at a tiny budget: a smoke run of the machinery.

Runs the steps of ``experiment.toml`` into OUT from the ensemble ENSEMBLE_CSV (a file of the
layout ``experiments/calibration/history_match.py`` writes) with a budget small enough for a
test: every set of the ensemble, two replications, 40,000 households per agent (about 10,000
agents), 2010-2019; writes ``OUT/stage_seconds.csv`` (the wall time of every step).
``tests/experiments/test_mechanisms_pipeline.py`` runs it.

Usage: python experiments/mechanisms/tiny.py ENSEMBLE_CSV OUT [--households-per-agent 40000]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from tiny_runs import run_timed_steps, tiny_parser  # noqa: E402


def steps(ensemble: Path, out: Path, hpa: float) -> list[tuple[str, list[str]]]:
    """The experiment's steps with the tiny budget: (name, command)."""
    py = sys.executable
    return [
        ("make_sweeps", [py, str(HERE / "make_sweeps.py"), str(ensemble), "--write", "--folder",
                         str(out / "sweeps"), "--replications", "2", "--households-per-agent",
                         repr(hpa)]),
        ("history", [py, "-m", "urbsim", "sweep", str(out / "sweeps" / "history.toml"), "--out",
                     str(out / "history"), "--workers", "2", "--threads", "1", "--quiet"]),
        ("analyze", [py, str(HERE / "analyze.py"), str(out)]),
    ]  # fmt: skip


def main() -> int:
    args = tiny_parser(__doc__.splitlines()[0], ("ensemble",), 40000.0).parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_timed_steps(steps(args.ensemble, args.out, args.households_per_agent), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
