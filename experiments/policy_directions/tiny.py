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

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: this experiment's modules and the helpers shared by the
# experiments are found by path.
sys.path[:0] = [str(HERE), str(HERE.parent)]

from analyze import SCENARIOS  # noqa: E402
from tiny_runs import run_timed_steps, tiny_parser  # noqa: E402


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
    parser = tiny_parser(__doc__.splitlines()[0], ("ensemble",), 40000.0)
    parser.add_argument("--sets", type=int, default=2)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_timed_steps(steps(args.ensemble, args.out, args.sets, args.households_per_agent), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
