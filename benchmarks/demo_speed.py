"""Speed of the demo run: ``scenarios/baseline.toml`` as it is (about 1.0M agents, 2010-2035).

Measures, each run in a fresh Python process:

(a) cold: the whole run with an empty Numba cache (``NUMBA_CACHE_DIR`` set to a new temporary
    folder), so it includes compiling every kernel, building the world and the model, all years
    and the output tables;
(b) warm: the same with the cache that (a) filled, ``--repeats`` times (median reported);
(c) per year, from the warm runs: the household step (the engine's ``step``: all household
    behaviour of the year), the shared place and government updates
    (``model._start_year_updates``), counting (``model._count``) and recording
    (``model._record``); the household step also in ns per household per year (median over
    years and repeats).

Writes ``benchmarks/results/demo_speed.json`` and prints a short table. See
``benchmarks/README.md``.

Usage::

    .venv/bin/python benchmarks/demo_speed.py            # the measurement (a few minutes)
    .venv/bin/python benchmarks/demo_speed.py --quick    # smoke test: 10k agents, 3 years
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _timing as T

SCRIPT = Path(__file__).resolve()


# --- worker (a fresh process) -------------------------------------------------------------------
def worker(spec: dict[str, Any]) -> None:
    """One whole run in this process; writes times, memory and Numba's runtime settings."""
    import os

    cache = os.environ.get("NUMBA_CACHE_DIR")
    cache_files_at_start = _count_files(cache) if cache else None
    t = time.perf_counter()
    import urbsim.engines.numba_engine
    import urbsim.model  # noqa: F401  (imports numpy, pandas, mesa, numba; compiles nothing)
    from urbsim.households import bytes_per_household

    import_s = time.perf_counter() - t
    loaded = T.load_baseline(spec["hpa"])
    run = T.measure_run(loaded, spec["years"])
    del run["national"]
    n = run["n_households"]
    result = {
        "mode": spec["mode"],
        "import_s": import_s,
        **run,
        "cache_files_at_start": cache_files_at_start,
        "peak_rss_bytes": T.peak_rss_bytes(),
        "bytes_per_household_declared": bytes_per_household(),
        "household_arrays_bytes_per_household": run["household_arrays_bytes"] / n,
        "scenario_sha256": loaded.sha256,
        "agents_per_household": loaded.scenario.world.households_per_agent,
        **T.numba_runtime(),
    }
    T.write_worker_result(spec, result)


# --- the measurement ----------------------------------------------------------------------------
def _phase_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-year phase times pooled over years and runs: seconds, and ns per household-year
    (each year's time over that year's living households; per row of the household arrays,
    dissolved households included, as well)."""
    out: dict[str, Any] = {}
    for phase in T.PHASES:
        years = [y for r in runs for y in r["years"] if phase in y]
        s = T.summary(y[phase] for y in years)
        out[phase] = {
            "seconds_per_year": s,
            "ns_per_household_year_median": T.median(T.ns_per(y[phase], y["alive"]) for y in years),
            "ns_per_row_year_median": T.median(T.ns_per(y[phase], y["rows"]) for y in years),
        }
    # The first simulated year of a fresh process also loads the kernels from the cache.
    out["household_first_year_s"] = T.summary(r["years"][0]["household"] for r in runs)
    return out


def _count_files(folder: str) -> int:
    return sum(1 for p in Path(folder).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="warm runs (default 3)")
    p.add_argument(
        "--hpa",
        type=float,
        default=None,
        help="override world.households_per_agent (default: the scenario's 400 = about 1.0M)",
    )
    p.add_argument("--years", type=int, default=None, help="years to simulate (default: all)")
    p.add_argument("--threads", type=int, default=None, help="NUMBA_NUM_THREADS for the runs")
    p.add_argument(
        "--quick", action="store_true", help="smoke test: 10k agents (hpa 40000), 3 years, 2 warm"
    )
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.hpa = 40000.0 if args.hpa is None else args.hpa
        args.years = 3 if args.years is None else args.years
        args.repeats = min(args.repeats, 2)
    out = args.out or T.RESULTS / ("demo_speed_quick.json" if args.quick else "demo_speed.json")

    machine = T.machine_info()
    env: dict[str, str] = {}
    if args.threads is not None:
        env["NUMBA_NUM_THREADS"] = str(args.threads)
    spec = {"hpa": args.hpa, "years": args.years}
    with tempfile.TemporaryDirectory(prefix="urbsim-numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        print(f"[demo] cold run (empty NUMBA_CACHE_DIR {cache}) ...", flush=True)
        cold = T.run_worker(SCRIPT, {**spec, "mode": "cold"}, env)
        cache_files = _count_files(cache)
        warm = []
        for k in range(args.repeats):
            print(f"[demo] warm run {k + 1}/{args.repeats} ...", flush=True)
            warm.append(T.run_worker(SCRIPT, {**spec, "mode": "warm"}, env))
    if cold["cache_files_at_start"] != 0:
        raise RuntimeError("the cold run did not start from an empty Numba cache")

    n = cold["n_households"]
    n_years = cold["n_years"]
    hh_years = n * n_years
    warm_run = T.summary(r["run_s"] for r in warm)
    warm_proc = T.summary(r["process_wall_s"] for r in warm)
    phases = _phase_summary(warm)
    machine.update({k: cold[k] for k in ("numba_threads", "numba_threading_layer")})
    parts = ("import_s", "world_s", "init_s", "engine_build_s", "steps_s", "tables_s", "run_s")
    result = {
        "benchmark": "demo_speed",
        "quick": args.quick,
        "scenario": str(T.BASELINE.relative_to(T.ROOT)),
        "scenario_sha256": cold["scenario_sha256"],
        "households_per_agent": cold["agents_per_household"],
        "n_households": n,
        "n_places": cold["n_places"],
        "years": f"{cold['first_year']}-{cold['last_year']}",
        "n_years": n_years,
        "repeats_warm": args.repeats,
        "definitions": {
            "run_s": "world build + model init (incl. engine) + all years + national/places "
            "tables, in-process (imports excluded)",
            "process_wall_s": "fresh interpreter start to exit, seen from the parent",
            "household": "engine.step: all household behaviour of a year",
            "shared": "model._start_year_updates: policy, places, governments",
            "count": "model._count",
            "record": "model._record",
            "step": "model.step as a whole",
            "compile_estimate_s": "cold run_s - median warm run_s (warm runs still load the "
            "kernels from the cache)",
        },
        "cold": {
            **{k: cold[k] for k in parts},
            "process_wall_s": cold["process_wall_s"],
            "household_first_year_s": cold["years"][0]["household"],
            "peak_rss_bytes": cold["peak_rss_bytes"],
            "numba_cache_files_written": cache_files,
        },
        "warm": {
            **{k: T.summary(r[k] for r in warm) for k in parts},
            "process_wall_s": warm_proc,
            "run_ns_per_household_year_median": T.ns_per(warm_run["median"], hh_years),
            "peak_rss_bytes": T.summary(r["peak_rss_bytes"] for r in warm),
        },
        "compile_estimate_s": cold["run_s"] - warm_run["median"],
        "per_year": phases,
        "memory": {
            "bytes_per_household_declared": cold["bytes_per_household_declared"],
            "household_arrays_bytes_per_household": cold["household_arrays_bytes_per_household"],
            "peak_rss_bytes_warm_median": T.median(r["peak_rss_bytes"] for r in warm),
            "peak_rss_bytes_per_household_warm": T.median(r["peak_rss_bytes"] for r in warm) / n,
        },
        "raw": {"cold": cold, "warm": warm},
        "machine": machine,
        "load": T.load_summary([cold, *warm], machine["cpus_available"]),
    }
    T.write_json(out, result)
    _print(result)
    print(f"\nwrote {out.relative_to(T.ROOT) if out.is_relative_to(T.ROOT) else out}")
    return 0


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    cold, warm, ph = r["cold"], r["warm"], r["per_year"]
    print(
        f"\ndemo speed: {r['scenario']} {r['years']} ({r['n_years']} years), "
        f"{r['n_households']:,} households, {r['n_places']:,} places"
        + ("  [QUICK: smoke test, not a measurement]" if r["quick"] else "")
    )
    print(
        f"{m['cpu_model']}, {m['cpus_available']} cpus, numba {m['versions']['numba']} "
        f"{m['numba_threads']} threads ({m['numba_threading_layer']}), commit "
        f"{(m['git_commit'] or '?')[:10]}{' (dirty)' if m['git_dirty'] else ''}\n"
    )
    rows = [
        [
            "process wall",
            T.fmt(cold["process_wall_s"], 2),
            T.fmt(warm["process_wall_s"]["median"], 2),
        ],
        ["whole run", T.fmt(cold["run_s"], 2), T.fmt(warm["run_s"]["median"], 2)],
        ["  world build", T.fmt(cold["world_s"], 2), T.fmt(warm["world_s"]["median"], 2)],
        ["  model init", T.fmt(cold["init_s"], 2), T.fmt(warm["init_s"]["median"], 2)],
        ["  years", T.fmt(cold["steps_s"], 2), T.fmt(warm["steps_s"]["median"], 2)],
        ["  tables", T.fmt(cold["tables_s"], 2), T.fmt(warm["tables_s"]["median"], 2)],
        ["imports", T.fmt(cold["import_s"], 2), T.fmt(warm["import_s"]["median"], 2)],
        [
            "first household step",
            T.fmt(cold["household_first_year_s"], 2),
            T.fmt(ph["household_first_year_s"]["median"], 2),
        ],
    ]
    print(T.table(rows, ["seconds", "cold", f"warm (median of {r['repeats_warm']})"]))
    print(f"compile estimate (cold - warm whole run): {r['compile_estimate_s']:.2f} s\n")
    names = {
        "household": "household step",
        "shared": "place + government updates",
        "count": "counting",
        "record": "recording",
        "step": "whole year (model.step)",
    }
    rows = []
    for phase, label in names.items():
        s = ph[phase]["seconds_per_year"]
        rows.append(
            [
                label,
                T.fmt(s["median"] * 1e3, 1),
                T.fmt(s["min"] * 1e3, 1),
                T.fmt(s["max"] * 1e3, 1),
                T.fmt(ph[phase]["ns_per_household_year_median"], 1),
                T.fmt(ph[phase]["ns_per_row_year_median"], 1),
            ]
        )
    print("per year, warm runs (median over years and repeats):")
    head = ["phase", "ms median", "ms min", "ms max", "ns/household/year", "ns/row/year"]
    print(T.table(rows, head))
    load = r["load"]
    if load["one_minute_max"] is not None:
        print(
            f"\nload average (1 min) up to {load['one_minute_max']:.1f} on "
            f"{m['cpus_available']} cpus"
            + (": the machine was shared, times are upper bounds" if load["busy"] else "")
        )
    mem = r["memory"]
    print(
        f"\nmemory: household state {mem['bytes_per_household_declared']} B/household declared "
        f"({mem['household_arrays_bytes_per_household']:.1f} measured); peak RSS "
        f"{mem['peak_rss_bytes_warm_median'] / 2**20:,.0f} MiB "
        f"({mem['peak_rss_bytes_per_household_warm']:,.0f} B/household, fixed costs included)"
    )


if __name__ == "__main__":
    sys.exit(main())
