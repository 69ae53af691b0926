"""China at full scale: the census world 2010-2035 at 1,000, 100, 10 and 1 households per agent.

For each scale, in a fresh process whose Numba cache is already filled (a short run fills it
first), measures:

* wall time of the world build, the model build, all years and the national and places tables;
* the household step (the engine's ``step``) in ns per living household-year, median over years;
  the whole year (``model.step``) likewise;
* peak RSS of the process, the household arrays' bytes per household, and the resource guard's
  estimate of the peak (:func:`urbsim.resources.run_bytes`, what ``urbsim run`` checks before
  building anything) next to the measured peak.

A scale whose estimate exceeds the memory available is not run: its row says so, with the
estimate, rather than swapping or being killed. ``--threads`` sets ``NUMBA_NUM_THREADS``.

Writes ``benchmarks/results/full_scale.json`` and prints a table; see ``benchmarks/README.md``.

Usage::

    .venv/bin/python benchmarks/full_scale.py                     # 1000, 100, 10, 1
    .venv/bin/python benchmarks/full_scale.py --scales 1000 100   # a subset
    .venv/bin/python benchmarks/full_scale.py --quick             # smoke: 4000 hpa, 2 years
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import _timing as T

SCRIPT = Path(__file__).resolve()
CENSUS = T.ROOT / "scenarios" / "china_census.toml"
DEFAULT_SCALES = (1000.0, 100.0, 10.0, 1.0)


# --- worker (a fresh process) -------------------------------------------------------------------
def worker(spec: dict[str, Any]) -> None:
    """One run of the census world at ``spec['hpa']`` households per agent in this process."""
    from urbsim.scenario import load_scenario

    override = [f"world.households_per_agent={float(spec['hpa'])!r}"]
    loaded = load_scenario(CENSUS, override)
    run = T.measure_run(loaded, spec["years"])
    del run["national"]
    per_year = run.pop("years")
    result = {
        **run,
        "household_ns_per_household_year": T.median(
            T.ns_per(y["household"], y["alive"]) for y in per_year
        ),
        "step_ns_per_household_year": T.median(T.ns_per(y["step"], y["alive"]) for y in per_year),
        "households_first_year": per_year[0]["alive"],
        "households_last_year": per_year[-1]["alive"],
        "rows_last_year": per_year[-1]["rows"],
        "peak_rss_bytes": T.peak_rss_bytes(),
        # The peak so far after each year: with the world's and the init's, where it is reached.
        "peak_rss_by_year_bytes": [y["peak_rss_bytes"] for y in per_year],
        "per_year": per_year,
        **T.numba_runtime(),
    }
    T.write_worker_result(spec, result)


# --- the measurement ----------------------------------------------------------------------------
def _plan(hpa: float) -> dict[str, Any]:
    """The resource guard's view of a scale: agents, estimated peak, memory available."""
    from urbsim import resources
    from urbsim.scenario import load_scenario

    loaded = load_scenario(CENSUS, [f"world.households_per_agent={hpa!r}"])
    world = loaded.scenario.world
    agents = resources.run_agents(world.name, world.world_file, hpa)
    return {
        "households_per_agent": hpa,
        "agents": agents,
        "estimate_bytes": resources.run_bytes(agents),
        "available_bytes": resources.available_memory(),
    }


def _measure(hpa: float, years: int | None, env: dict[str, str]) -> dict[str, Any]:
    plan = _plan(hpa)
    room = plan["available_bytes"]
    if room is not None and plan["estimate_bytes"] > room:
        return {
            **plan,
            "run": False,
            "reason": "estimated peak memory exceeds the memory available",
        }
    print(f"[full_scale] {hpa:g} households per agent: {plan['agents']:,} agents ...", flush=True)
    r = T.run_worker(SCRIPT, {"hpa": hpa, "years": years}, env)
    r.pop("per_year")
    n_years = r["n_years"]
    return {
        **plan,
        "run": True,
        **r,
        "steps_s_per_year": r["steps_s"] / n_years,
        "household_arrays_bytes_per_household": r["household_arrays_bytes"] / r["rows_last_year"],
        "estimate_over_peak": plan["estimate_bytes"] / r["peak_rss_bytes"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=float, nargs="+", default=list(DEFAULT_SCALES))
    p.add_argument("--years", type=int, default=None, help="years to simulate (default: all)")
    p.add_argument("--threads", type=int, default=None, help="NUMBA_NUM_THREADS for the runs")
    p.add_argument("--quick", action="store_true", help="smoke test: 4000 hpa, 2 years")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.scales, args.years = [4000.0], 2
    out = args.out or T.RESULTS / ("full_scale_quick.json" if args.quick else "full_scale.json")
    machine = T.machine_info()
    env: dict[str, str] = {}
    if args.threads is not None:
        env["NUMBA_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory(prefix="urbsim-numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        print("[full_scale] filling the Numba cache (a short run) ...", flush=True)
        T.run_worker(SCRIPT, {"hpa": 40000.0, "years": 1}, env)
        rows = [_measure(hpa, args.years, env) for hpa in args.scales]
    result = {
        "benchmark": "full_scale",
        "quick": args.quick,
        "scenario": str(CENSUS.relative_to(T.ROOT)),
        "definitions": {
            "household_ns_per_household_year": "engine.step seconds / living households, "
            "median over years",
            "step_ns_per_household_year": "model.step seconds / living households, median "
            "over years",
            "run_s": "world build + model init + all years + tables, in-process",
            "estimate_bytes": "urbsim.resources.run_bytes: the resource guard's estimate",
        },
        "scales": rows,
        "machine": machine,
        "load": T.load_summary([r for r in rows if r["run"]], machine["cpus_available"]),
    }
    T.write_json(out, result)
    _print(result)
    print(f"\nwrote {out.relative_to(T.ROOT) if out.is_relative_to(T.ROOT) else out}")
    return 0


def _print(r: dict[str, Any]) -> None:
    rows = []
    for s in r["scales"]:
        est = T.fmt(s["estimate_bytes"] / 1024**3, 2)
        if not s["run"]:
            rows.append(
                [f"{s['households_per_agent']:g}", f"{s['agents']:,}", "not run", *["-"] * 6, est]
            )
            continue
        rows.append(
            [
                f"{s['households_per_agent']:g}",
                f"{s['agents']:,}",
                T.fmt(s["run_s"], 1),
                T.fmt(s["world_s"], 1),
                T.fmt(s["steps_s_per_year"], 2),
                T.fmt(s["household_ns_per_household_year"], 1),
                T.fmt(s["step_ns_per_household_year"], 1),
                T.fmt(s["household_arrays_bytes_per_household"], 1),
                T.fmt(s["peak_rss_bytes"] / 1024**3, 2),
                est,
            ]
        )
    head = [
        "hpa",
        "agents",
        "run s",
        "world s",
        "s/year",
        "hh step ns",
        "year ns",
        "B/household",
        "peak GiB",
        "estimate GiB",
    ]
    print(f"census world {r['scenario']}, ns per living household-year (medians over years)")
    print(T.table(rows, head))
    load = r["load"]
    if load["one_minute_max"] is not None and load["busy"]:
        print("the machine was shared during the runs: times are upper bounds")


if __name__ == "__main__":
    sys.exit(main())
