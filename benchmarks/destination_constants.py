"""What fitting the destination constants costs at a run's start on the census world.

For the census scenario as it is and for each parameter set of the calibration's probes
(``experiments/calibration/probe_sets.csv``), builds the census world at ``--hpa`` households
per agent (seed 1), computes the senders' weights and fits the constants from them
(:func:`urbsim.dynamics.destination_constants.fit_constants`) ``--repeats`` times each, side
by side, as the model does and with Berry's accelerated step alone after the same
province-by-scope start (the within-province Newton stage switched off): seconds (median),
evaluations of the shares, and the largest difference between the two sets of constants.
Before that, the weights the fit starts from, ``exp(V - row max)`` of the places that send,
side by side from the NumPy matrix of utilities and from the compiled kernel the model uses
(:func:`urbsim.dynamics.destination_constants.sending_weights`), and their largest difference.
Ratios measured side by side hold under load; absolute seconds do not.

Writes ``benchmarks/results/destination_constants.json``.

Usage::

    .venv/bin/python benchmarks/destination_constants.py            # about 3 minutes
    .venv/bin/python benchmarks/destination_constants.py --quick    # the scenario only, once
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _timing as T

SCENARIO = T.ROOT / "scenarios" / "china_census.toml"
PROBE_SETS = T.ROOT / "experiments" / "calibration" / "probe_sets.csv"


def parameter_sets(quick: bool) -> dict[str, list[str]]:
    """Overrides of each measured set: the scenario's own, then every probe set's."""
    import pandas as pd

    sets: dict[str, list[str]] = {"china_census": []}
    if not quick:
        for _, row in pd.read_csv(PROBE_SETS, comment="#").iterrows():
            sets[str(row["name"])] = T.set_overrides(row)
    return sets


def measure(overrides: list[str], hpa: float, repeats: int) -> dict[str, Any]:
    """Seconds and evaluations of both solutions of one set's constants."""
    import numpy as np

    from urbsim.dynamics import destination_constants as D
    from urbsim.model import UrbanizationModel
    from urbsim.scenario import load_scenario

    loaded = load_scenario(SCENARIO, [*overrides, f"world.households_per_agent={hpa!r}", "seed=1"])
    model = UrbanizationModel(loaded)
    stock = model.start_migrants
    par, places = model._year_params(), model._year_places(np.zeros((2, model.n_places)))
    weight_seconds: dict[str, list[float]] = {"numpy": [], "kernel": []}
    for _ in range(repeats):
        start = time.perf_counter()
        utilities = model.mover_utilities()
        e = utilities[stock.out_migrants > 0]
        np.exp(e - e.max(axis=1, keepdims=True), out=e)
        weight_seconds["numpy"].append(time.perf_counter() - start)
        start = time.perf_counter()
        weights = D.sending_weights(
            par, places, model.network, model.network_province, stock.out_migrants
        )
        weight_seconds["kernel"].append(time.perf_counter() - start)
    weight_medians = {name: T.median(v) for name, v in weight_seconds.items()}
    args = (model.place_table.province_code, stock.out_migrants, stock.in_migrants)
    budget = D._NEWTON_BUDGET
    seconds: dict[str, list[float]] = {"three_stages": [], "berry_alone": []}
    evaluations: dict[str, int] = {}
    constants: dict[str, Any] = {}
    for _ in range(repeats):
        for name, newton in (("three_stages", budget), ("berry_alone", 0)):
            D._NEWTON_BUDGET = newton
            try:
                start = time.perf_counter()
                # As the model fits them (fit_constants overwrites its weights: a copy each).
                constants[name], evaluations[name] = D.fit_constants(weights.copy(), *args)
                seconds[name].append(time.perf_counter() - start)
            finally:
                D._NEWTON_BUDGET = budget
    medians = {name: T.median(v) for name, v in seconds.items()}
    return {
        "places": int(utilities.shape[0]),
        "weights_seconds": {name: T.summary(v) for name, v in weight_seconds.items()},
        "weights_speedup": weight_medians["numpy"] / weight_medians["kernel"],
        "weights_largest_difference": float(np.abs(weights - e).max()),
        "seconds": {name: T.summary(v) for name, v in seconds.items()},
        "median_seconds": medians,
        "evaluations": evaluations,
        "speedup": medians["berry_alone"] / medians["three_stages"],
        "largest_difference_util": float(
            np.abs(constants["three_stages"] - constants["berry_alone"]).max()
        ),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="fits of each kind per set (default 3)")
    p.add_argument("--hpa", type=float, default=1000.0, help="households per agent (default 1000)")
    p.add_argument("--quick", action="store_true", help="smoke test: the scenario's set, once")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 1
    load_before = T.load_average()
    results = {
        name: measure(overrides, args.hpa, args.repeats)
        for name, overrides in parameter_sets(args.quick).items()
    }
    fields = {"households_per_agent": args.hpa, "repeats": args.repeats, "sets": results}
    out = T.write_results("destination_constants", args.quick, fields, load_before, args.out)
    rows = [
        [
            set_name,
            f"{r['median_seconds']['three_stages']:.2f} ({r['evaluations']['three_stages']})",
            f"{r['median_seconds']['berry_alone']:.2f} ({r['evaluations']['berry_alone']})",
            f"{r['speedup']:.1f}",
            f"{r['largest_difference_util']:.1e}",
            f"{r['weights_seconds']['numpy']['median']:.2f} / "
            f"{r['weights_seconds']['kernel']['median']:.2f}",
        ]
        for set_name, r in results.items()
    ]
    header = ["set", "three stages, s (evaluations)", "Berry alone, s (evaluations)", "ratio"]
    header += ["largest difference, util", "weights NumPy / kernel, s"]
    print(T.table(rows, header))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
