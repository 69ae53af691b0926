"""What fitting the destination constants costs at a run's start on the census world.

For the census scenario as it is, for each parameter set of the calibration's probes
(``experiments/calibration/probe_sets.csv``) and for ``--box-points`` sets drawn uniformly
from the calibration's box (``experiments/calibration/box.csv``, seed 1), builds the census
world at ``--hpa`` households per agent (seed 1), computes the senders' weights and fits the
constants from them (:func:`urbsim.dynamics.destination_constants.fit_constants`)
``--repeats`` times each, side by side in three ways: as the model does; with one handover to
the within-province Newton stage at a largest log error of 0.01 (the schedule until 2026-12-06
evening; its one Newton stage, the last, now has every evaluation left where it had 300 and
Berry's step went on after them: the same wherever 300 sufficed); and with Berry's
accelerated step alone after the same
province-by-scope start (the Newton stage switched off). For each: seconds (median),
evaluations of the shares, and the largest difference from the model's constants; over the
box's sets, their totals.
Before that, the weights the fit starts from, ``exp(V - row max)`` of the places that send,
side by side from the NumPy matrix of utilities and from the compiled kernel the model uses
(:func:`urbsim.dynamics.destination_constants.sending_weights`), and their largest difference.
Ratios measured side by side hold under load; absolute seconds do not.

Writes ``benchmarks/results/destination_constants.json``.

Usage::

    .venv/bin/python benchmarks/destination_constants.py            # about 20 minutes
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
BOX = T.ROOT / "experiments" / "calibration" / "box.csv"
#: The fit's schedules measured: (Newton stage's first handover, its evaluations, stages).
SCHEDULES: dict[str, tuple[float, int, int] | None] = {
    "model": None,  # as the module sets them
    "one_handover": (1e-2, 300, 1),
    "berry_alone": (1e-2, 0, 1),
}


def parameter_sets(quick: bool, box_points: int) -> dict[str, list[str]]:
    """Overrides of each measured set: the scenario's own, every probe set's, then
    ``box_points`` drawn uniformly from the calibration's box (named ``box_1`` ...)."""
    import numpy as np
    import pandas as pd

    sets: dict[str, list[str]] = {"china_census": []}
    if quick:
        return sets
    for _, row in pd.read_csv(PROBE_SETS, comment="#").iterrows():
        sets[str(row["name"])] = T.set_overrides(row)
    box = pd.read_csv(BOX, comment="#")
    draws = np.random.default_rng(1).uniform(box["low"], box["high"], (box_points, len(box)))
    for k, values in enumerate(draws, start=1):
        sets[f"box_{k}"] = [
            f"{n}={float(v)!r}" for n, v in zip(box["parameter"], values, strict=True)
        ]
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
    kept = (D.HANDOVER, D._NEWTON_BUDGET, D._NEWTON_STAGES)
    seconds: dict[str, list[float]] = {name: [] for name in SCHEDULES}
    evaluations: dict[str, int] = {}
    constants: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for _ in range(repeats):
        for name, schedule in SCHEDULES.items():
            D.HANDOVER, D._NEWTON_BUDGET, D._NEWTON_STAGES = schedule or kept
            try:
                start = time.perf_counter()
                # As the model fits them (fit_constants overwrites its weights: a copy each).
                constants[name], evaluations[name] = D.fit_constants(weights.copy(), *args)
                seconds[name].append(time.perf_counter() - start)
            except ValueError as exc:  # no constants within the evaluations allowed
                errors[name] = str(exc)
            finally:
                D.HANDOVER, D._NEWTON_BUDGET, D._NEWTON_STAGES = kept
    if "model" in errors:  # a set the calibration rules out (the model refuses the run)
        return {"places": int(utilities.shape[0]), "errors": errors}
    done = [name for name in SCHEDULES if name not in errors]
    medians = {name: T.median(seconds[name]) for name in done}
    return {
        "places": int(utilities.shape[0]),
        "weights_seconds": {name: T.summary(v) for name, v in weight_seconds.items()},
        "weights_speedup": weight_medians["numpy"] / weight_medians["kernel"],
        "weights_largest_difference": float(np.abs(weights - e).max()),
        "seconds": {name: T.summary(seconds[name]) for name in done},
        "median_seconds": medians,
        "evaluations": evaluations,
        # Stopped by the limit at its best point (accepted below ACCEPTABLE, not TOLERANCE).
        "at_limit": [name for name in done if evaluations[name] >= D.MAX_ITERATIONS],
        "schedule_errors": errors,
        "speedup": {name: medians[name] / medians["model"] for name in done},
        "largest_difference_util": {
            name: float(np.abs(constants[name] - constants["model"]).max()) for name in done
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="fits of each kind per set (default 3)")
    p.add_argument("--hpa", type=float, default=1000.0, help="households per agent (default 1000)")
    p.add_argument("--box-points", type=int, default=12, help="sets from the box (default 12)")
    p.add_argument("--quick", action="store_true", help="smoke test: the scenario's set, once")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 1
    load_before = T.load_average()
    results = {
        name: measure(overrides, args.hpa, args.repeats)
        for name, overrides in parameter_sets(args.quick, args.box_points).items()
    }
    fitted = {k: r for k, r in results.items() if k.startswith("box_") and "errors" not in r}
    # Over the sets the model fits that every schedule fitted; a schedule's failures and the
    # sets where it stopped at the limit are counted apart (its total is then a lower bound).
    common = [r for r in fitted.values() if not r["schedule_errors"]]
    box = {
        "sets": len(fitted),
        "refused": sum(k.startswith("box_") and "errors" in r for k, r in results.items()),
        "compared": len(common),
        "seconds": {n: sum(r["median_seconds"][n] for r in common) for n in SCHEDULES},
        "evaluations": {n: sum(r["evaluations"][n] for r in common) for n in SCHEDULES},
        "failed": {n: sum(n in r["schedule_errors"] for r in fitted.values()) for n in SCHEDULES},
        "at_limit": {n: sum(n in r["at_limit"] for r in common) for n in SCHEDULES},
    }
    fields = {
        "households_per_agent": args.hpa,
        "repeats": args.repeats,
        "schedules": {k: list(v) if v else "the module's" for k, v in SCHEDULES.items()},
        "sets": results,
        "box_totals": box,
    }
    out = T.write_results("destination_constants", args.quick, fields, load_before, args.out)
    rows = []
    for set_name, r in results.items():
        if "errors" in r:
            rows.append([set_name, "refused", "", "", "", ""])
            continue
        cells = [
            f"{r['median_seconds'][n]:.2f} ({r['evaluations'][n]})"
            + ("*" if n in r["at_limit"] else "")
            if n in r["median_seconds"]
            else "failed"
            for n in SCHEDULES
        ]
        difference = max(r["largest_difference_util"].values())
        weights = r["weights_seconds"]
        cells += [f"{difference:.1e}", f"{weights['numpy']['median']:.2f} / "]
        cells[-1] += f"{weights['kernel']['median']:.2f}"
        rows.append([set_name, *cells])
    header = ["set", *(f"{n}, s (evaluations)" for n in SCHEDULES)]
    header += ["largest difference, util", "weights NumPy / kernel, s"]
    print(T.table(rows, header))
    print("* stopped at the evaluations' limit, at its best point")
    if fitted:
        print(
            f"box sets ({box['sets']} fitted, {box['refused']} refused; "
            f"{box['compared']} fitted by every schedule): "
            + ", ".join(
                f"{n} {box['seconds'][n]:.1f} s ({box['evaluations'][n]}; "
                f"{box['at_limit'][n]} at the limit, {box['failed'][n]} failed)"
                for n in SCHEDULES
            )
        )
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
