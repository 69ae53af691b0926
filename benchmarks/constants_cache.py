"""What the cache of fitted destination constants saves a census run that shares its constants.

For the census scenario as it is and for the hand-placed set of
``experiments/calibration/probe_sets_s32.csv`` (a set of the kind the calibration keeps), runs
2010-``--until`` at ``--hpa`` households per agent with one Numba and one BLAS thread, in turn
without a cache and with one that holds the run's constants (filled by a first run), ``--pairs``
times: seconds of each (median), their ratio, the cost of naming an entry (hashing the fit's
inputs), and whether the tables are the same to the last bit (they must be). A run that misses
the cache costs what a run without one does plus the naming. Ratios measured side by side hold
under load; absolute seconds do not.

Writes ``benchmarks/results/constants_cache.json``.

Usage::

    .venv/bin/python benchmarks/constants_cache.py            # about 4 minutes
    .venv/bin/python benchmarks/constants_cache.py --quick    # the scenario's set, 2010-2012, once
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import _timing as T

SCENARIO = T.ROOT / "scenarios" / "china_census.toml"
PROBE_SETS = T.ROOT / "experiments" / "calibration" / "probe_sets_s32.csv"


def parameter_sets(quick: bool) -> dict[str, list[str]]:
    """Overrides of each measured set: the scenario's own, then the probe set's."""
    import pandas as pd

    sets: dict[str, list[str]] = {"china_census": []}
    if not quick:
        row = pd.read_csv(PROBE_SETS, comment="#").iloc[0]
        sets[str(row["name"])] = T.set_overrides(row)
    return sets


def measure(overrides: list[str], hpa: float, until: int, pairs: int) -> dict[str, Any]:
    """Seconds of runs without and with the cache (a hit), and the naming's cost."""
    import pandas as pd

    from urbsim.constants_cache import ConstantsCache, fit_key
    from urbsim.model import UrbanizationModel
    from urbsim.runner import simulate
    from urbsim.scenario import load_scenario

    loaded = load_scenario(SCENARIO, [*overrides, f"world.households_per_agent={hpa!r}"])
    none = ConstantsCache(None)
    with tempfile.TemporaryDirectory() as folder:
        cache = ConstantsCache(Path(folder))
        reference = simulate(loaded, until=until, constants_cache=cache)  # fills the cache
        seconds: dict[str, list[float]] = {"no_cache": [], "hit": []}
        same = True
        for _ in range(pairs):
            for name, used in (("no_cache", none), ("hit", cache)):
                start = time.perf_counter()
                result = simulate(loaded, until=until, constants_cache=used)
                seconds[name].append(time.perf_counter() - start)
                for got, want in ((result.national, reference.national),
                                  (result.places, reference.places)):  # fmt: skip
                    try:
                        pd.testing.assert_frame_equal(got, want, check_exact=True)
                    except AssertionError:
                        same = False
        inputs = UrbanizationModel(loaded, constants_cache=cache).constants_inputs()
    naming = []
    for _ in range(5):
        start = time.perf_counter()
        fit_key(*inputs)
        naming.append(time.perf_counter() - start)
    medians = {name: T.median(v) for name, v in seconds.items()}
    return {
        "seconds": {name: T.summary(v) for name, v in seconds.items()},
        "median_seconds": medians,
        "speedup": medians["no_cache"] / medians["hit"],
        "naming_seconds": T.summary(naming),
        "weights_megabytes": inputs[0].nbytes / 1e6,
        "tables_identical": same,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=3, help="runs of each kind per set (default 3)")
    p.add_argument("--hpa", type=float, default=1000.0, help="households per agent (default 1000)")
    p.add_argument("--until", type=int, default=2035, help="last year simulated (default 2035)")
    p.add_argument("--quick", action="store_true", help="smoke test: the scenario's set, 2 years")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = p.parse_args(argv)
    if args.quick:
        args.pairs, args.until = 1, 2012
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from threadpoolctl import threadpool_limits

    load_before = T.load_average()
    with threadpool_limits(limits=1, user_api="blas"):
        results = {
            name: measure(overrides, args.hpa, args.until, args.pairs)
            for name, overrides in parameter_sets(args.quick).items()
        }
    fields = {"households_per_agent": args.hpa, "until": args.until, "pairs": args.pairs}
    out = T.write_results(
        "constants_cache", args.quick, {**fields, "sets": results}, load_before, args.out
    )
    rows = [
        [
            set_name,
            f"{r['median_seconds']['no_cache']:.2f}",
            f"{r['median_seconds']['hit']:.2f}",
            f"{r['speedup']:.2f}",
            f"{r['naming_seconds']['median'] * 1000:.0f}",
            "yes" if r["tables_identical"] else "NO",
        ]
        for set_name, r in results.items()
    ]
    header = ["set", "no cache (s)", "hit (s)", "ratio", "naming (ms)", "same tables"]
    print(T.table(rows, header))
    print(f"wrote {out}")
    return 0 if all(r["tables_identical"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
