"""What the household step costs without the destination choice, and what the return hazard
costs: the demo side by side with and without households that consider moving, and without
the return hazard.

Runs ``scenarios/baseline.toml`` (the demo, about 1.0M agents at its 400 households per agent)
for ``--years`` years, in turn as it is, with ``behaviour.move_base = 0`` (no household
considers moving, so the step is its first pass alone: the draws, the demography, leaving
home, ageing and the stayers' year) and with ``behaviour.return_rate = 0``, ``--pairs`` times
in one process after a first run that loads the kernels. Reports the household step's ns per
living household-year of each (median over years 2.. and pairs), their ratio (the share of
the step that no faster destination choice can remove) and the share of the step the return
hazard takes (1 - without / as is; its returns also change who moves, so this is the whole
effect of the rule, not its arithmetic alone). Ratios measured side by side hold under load;
absolute ns do not.

Writes ``benchmarks/results/step_parts.json``.

Usage::

    .venv/bin/python benchmarks/step_parts.py               # about three minutes
    .venv/bin/python benchmarks/step_parts.py --quick       # smoke test (10k agents)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import _timing as T

#: The variants: the demo as it is, with nobody considering a move, and without the return
#: hazard (whose logistic is evaluated for every household away).
VARIANTS: dict[str, list[str]] = {
    "as_is": [],
    "no_move_considered": ["behaviour.move_base=0.0"],
    "no_return_hazard": ["behaviour.return_rate=0.0"],
}


def household_ns(hpa: float, years: int, overrides: list[str]) -> list[float]:
    """ns per living household-year of the household step in each year after the first."""
    from urbsim.scenario import load_scenario

    loaded = load_scenario(T.BASELINE, [f"world.households_per_agent={hpa!r}", *overrides])
    run = T.measure_run(loaded, years)
    return [T.ns_per(y["household"], y["alive"]) for y in run["years"][1:]]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=3, help="alternating pairs of runs (default 3)")
    p.add_argument("--years", type=int, default=6, help="years per run (default 6)")
    p.add_argument("--hpa", type=float, default=400.0, help="households per agent (default 400)")
    p.add_argument("--quick", action="store_true", help="smoke test: 10k agents, 3 years, 1 pair")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = p.parse_args(argv)
    if args.quick:
        args.pairs, args.years, args.hpa = 1, 3, 40000.0
    load_before = T.load_average()
    household_ns(args.hpa, 2, [])  # loads the kernels: not measured
    per: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.pairs):
        for name, overrides in VARIANTS.items():
            per[name] += household_ns(args.hpa, args.years, overrides)
    medians = {name: T.median(v) for name, v in per.items()}
    ratio = medians["no_move_considered"] / medians["as_is"]
    hazard_share = 1.0 - medians["no_return_hazard"] / medians["as_is"]
    fields: dict[str, Any] = {
        "households_per_agent": args.hpa,
        "years_per_run": args.years,
        "pairs": args.pairs,
        "household_ns_per_household_year": {k: T.summary(v) for k, v in per.items()},
        "median_ns": medians,
        "share_without_choice": ratio,
        "share_of_return_hazard": hazard_share,
    }
    out = T.write_results("step_parts", args.quick, fields, load_before, args.out)
    print(
        T.table(
            [[k, T.fmt(v)] for k, v in medians.items()]
            + [["ratio", f"{ratio:.2f}"], ["hazard share", f"{hazard_share:.3f}"]],
            ["variant", "household step, ns per household-year (median)"],
        )
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
