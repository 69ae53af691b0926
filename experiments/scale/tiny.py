"""Every step of the scale study at a tiny budget: a smoke run of the machinery.

Runs the steps of ``experiment.toml`` into OUT at 40,000 and 20,000 households per agent
(about 12,400 and 24,700 agents), two seeds, 2010-2012; writes ``OUT/stage_seconds.csv``.
``tests/experiments/test_scale_pipeline.py`` runs it.

Usage: python experiments/scale/tiny.py OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, not as a package: the helpers shared by the experiments are found by path.
sys.path.insert(0, str(HERE.parent))

from tiny_runs import run_timed_steps, tiny_parser  # noqa: E402


def steps(out: Path, hpa: float) -> list[tuple[str, list[str]]]:
    """The experiment's steps with the tiny budget: (name, command)."""
    py = sys.executable
    return [
        ("runs", [py, str(HERE / "run_scales.py"), str(out / "runs"), "--scales", repr(2 * hpa),
                  repr(hpa), "--seeds", "2", "--end-year", "2012"]),
        ("analyze", [py, str(HERE / "analyze.py"), str(out)]),
    ]  # fmt: skip


def main() -> int:
    args = tiny_parser(__doc__.splitlines()[0], (), 20000.0).parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_timed_steps(steps(args.out, args.households_per_agent), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
