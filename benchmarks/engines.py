"""The two household engines side by side: Numba kernels and Mesa agents, by world size.

The scenario is ``scenarios/baseline.toml``, stepped ``--years`` years from 2010 (default 10,
i.e. 2010-2020; the scenario itself is unchanged, the run simply stops early) with
``world.households_per_agent`` set for each size: 10k, 100k and 1M agents are 40000, 4000 and
400 households per agent (hpa = 4e8 / agents). The Numba engine runs at every size, the much
slower Mesa engine at 10k and 100k only.

For each engine and size, in a fresh process whose Numba cache is already filled:

* ns per household per year of the household step (the engine's ``step``), of the shared place
  and government updates (``model._start_year_updates``), of counting and recording, and of the
  whole run (world build, model and engine build, all years, tables);
* memory: household arrays and the engine's own state per household (``tracemalloc`` around
  building the engine), ``urbsim.households.bytes_per_household()``, peak RSS of the process and
  its growth per household between the smallest and the largest size.

Then the Mesa/Numba ratio of the household step where both ran; the Numba compile time (a fresh
process with an empty ``NUMBA_CACHE_DIR``: a small run, then the same run again in the same
process; the difference is compilation) and the time of loading the compiled kernels from the
cache; and whether both engines gave identical national tables
(``pandas.testing.assert_frame_equal(check_exact=True)``) at each size where both ran.

Writes ``benchmarks/results/engines.json`` and prints a table. See ``benchmarks/README.md``.

Usage::

    .venv/bin/python benchmarks/engines.py          # the measurement (under ~15 min on 2 cores)
    .venv/bin/python benchmarks/engines.py --quick  # smoke: 3 years, numba 10k/100k, mesa 10k
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _timing as T

SCRIPT = Path(__file__).resolve()
#: Agents of the scenario at 400 households per agent are about 1.0M: hpa = HPA_AGENTS / agents.
HPA_AGENTS = 4.0e8
#: Households per agent of the warm-up run (about 1,000 agents).
WARMUP_HPA = 400000.0
#: Size of the compile probe (10k agents).
PROBE_HPA = 40000.0


def parse_size(text: str) -> int:
    """'10k', '100K', '1m', '250000' -> nominal agents."""
    t = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    number = float(t[:-1] if scale > 1 else t)
    agents = round(number * scale)
    if agents < 1:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return agents


def size_label(agents: int) -> str:
    if agents % 1_000_000 == 0:
        return f"{agents // 1_000_000}M"
    if agents % 1_000 == 0:
        return f"{agents // 1_000}k"
    return str(agents)


# --- workers (fresh processes) ------------------------------------------------------------------
def worker(spec: dict[str, Any]) -> None:
    if spec["kind"] == "probe":
        probe_worker(spec)
    else:
        engine_worker(spec)


def probe_worker(spec: dict[str, Any]) -> None:
    """The same small run twice in one process: the first compiles (or loads from the cache)."""
    import os

    cache = os.environ["NUMBA_CACHE_DIR"]
    files_at_start = sum(1 for p in Path(cache).rglob("*") if p.is_file())
    t = time.perf_counter()
    import urbsim.engines.numba_engine
    import urbsim.model  # noqa: F401

    import_s = time.perf_counter() - t
    loaded = T.load_baseline(spec["hpa"], "numba")
    runs = []
    for _ in range(2):
        r = T.measure_run(loaded, spec["years"])
        del r["national"]
        runs.append(r)
    first, second = runs

    def part(r: dict[str, Any]) -> dict[str, float]:
        return {
            "init_s": r["init_s"],
            "first_household_step_s": r["years"][0]["household"],
            "years_s": r["steps_s"],
            "run_s": r["run_s"],
        }

    result = {
        "cache_files_at_start": files_at_start,
        "import_s": import_s,
        "n_households": first["n_households"],
        "years": spec["years"],
        "first": part(first),
        "second": part(second),
        "difference_s": first["run_s"] - second["run_s"],
        **T.numba_runtime(),
    }
    T.write_worker_result(spec, result)


def engine_worker(spec: dict[str, Any]) -> None:
    """Warm up, measure the state's memory, then ``repeats`` timed runs of one engine and size."""
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from urbsim.households import bytes_per_household

    engine = spec["engine"]
    label = spec["label"]
    t = time.perf_counter()
    # Load the kernels from the cache (both engines count households with a Numba kernel).
    T.measure_run(T.load_baseline(WARMUP_HPA, "numba"), 1)
    if engine == "mesa":
        T.measure_run(T.load_baseline(WARMUP_HPA, "mesa"), 1)
    warmup_s = time.perf_counter() - t
    loaded = T.load_baseline(spec["hpa"], engine)
    memory = T.measure_state_memory(loaded)

    def progress(year: int, seconds: float) -> None:
        print(f"[engines]     {engine} {label} {year}: {seconds:.1f} s", flush=True)

    runs = []
    first_table: pd.DataFrame | None = None
    repeats_identical = True
    for k in range(spec["repeats"]):
        r = T.measure_run(loaded, spec["years"], progress=progress if engine == "mesa" else None)
        table = r.pop("national")
        if first_table is None:
            first_table = table
            table.to_pickle(spec["table_out"])
        else:
            try:
                assert_frame_equal(first_table, table, check_exact=True)
            except AssertionError:
                repeats_identical = False
        runs.append(r)
        print(
            f"[engines]   {engine} {label}: repeat {k + 1}/{spec['repeats']} "
            f"{r['run_s']:.2f} s (household step {sum(y['household'] for y in r['years']):.2f} s)",
            flush=True,
        )
        gc.collect()
    result = {
        "engine": engine,
        "label": label,
        "hpa": spec["hpa"],
        "warmup_s": warmup_s,
        "runs": runs,
        "repeats_identical": repeats_identical,
        "memory": memory,
        "bytes_per_household_declared": bytes_per_household(),
        "peak_rss_bytes": T.peak_rss_bytes(),
        "scenario_sha256": loaded.sha256,
        **T.numba_runtime(),
    }
    T.write_worker_result(spec, result)


# --- summaries ----------------------------------------------------------------------------------
def summarise(res: dict[str, Any]) -> dict[str, Any]:
    """Medians of one engine and size (pooled over years and repeats for per-year phases)."""
    runs = res["runs"]
    n = runs[0]["n_households"]
    n_years = runs[0]["n_years"]
    out: dict[str, Any] = {
        "engine": res["engine"],
        "size": res["label"],
        "households_per_agent": res["hpa"],
        "n_households": n,
        "n_years": n_years,
        "repeats": len(runs),
    }
    for phase in T.PHASES:
        s = T.summary(y[phase] for r in runs for y in r["years"])
        out[phase] = {"seconds_per_year": s, "ns_per_household_year": T.ns_per(s["median"], n)}
    cr = T.summary(y["count"] + y["record"] for r in runs for y in r["years"])
    out["count_record"] = {
        "seconds_per_year": cr,
        "ns_per_household_year": T.ns_per(cr["median"], n),
    }
    run = T.summary(r["run_s"] for r in runs)
    out["whole_run"] = {
        "seconds": run,
        "ns_per_household_year": T.ns_per(run["median"], n * n_years),
    }
    for part in ("world_s", "init_s", "engine_build_s", "steps_s", "tables_s"):
        out[part] = T.summary(r[part] for r in runs)
    mem = res["memory"]
    arrays = mem["household_arrays_bytes"] / n
    engine_bytes = mem["engine_retained_bytes"] / n
    out["memory"] = {
        "bytes_per_household_declared": res["bytes_per_household_declared"],
        "household_arrays_bytes_per_household": arrays,
        "engine_state_bytes_per_household_tracemalloc": engine_bytes,
        "engine_build_peak_bytes_per_household_tracemalloc": mem["engine_peak_bytes"] / n,
        "state_bytes_per_household": arrays + engine_bytes,
        "peak_rss_bytes": res["peak_rss_bytes"],
    }
    out["repeats_identical"] = res["repeats_identical"]
    return out


def compare_tables(numba_path: Path, mesa_path: Path) -> dict[str, Any]:
    import pandas as pd
    from pandas.testing import assert_frame_equal

    a = pd.read_pickle(numba_path)
    b = pd.read_pickle(mesa_path)
    try:
        assert_frame_equal(a, b, check_exact=True)
    except AssertionError as exc:
        return {"identical": False, "difference": str(exc)[:2000], "rows": len(a)}
    return {"identical": True, "rows": len(a), "columns": len(a.columns)}


# --- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Numba vs Mesa household engines by world size (see benchmarks/README.md)."
    )
    p.add_argument("--years", type=int, default=None, help="years from 2010 (default 10)")
    p.add_argument(
        "--numba-sizes",
        nargs="+",
        type=parse_size,
        default=None,
        help="agents, e.g. 10k 100k 1m (default: 10k 100k 1m)",
    )
    p.add_argument(
        "--mesa-sizes", nargs="*", type=parse_size, default=None, help="(default: 10k 100k)"
    )
    p.add_argument("--repeats", type=int, default=3, help="Numba runs per size (default 3)")
    p.add_argument(
        "--mesa-repeats", type=int, default=None, help="Mesa runs below 100k agents (default 3)"
    )
    p.add_argument(
        "--mesa-large-repeats", type=int, default=1, help="Mesa runs from 100k agents (default 1)"
    )
    p.add_argument("--threads", type=int, default=None, help="NUMBA_NUM_THREADS for the runs")
    p.add_argument(
        "--quick", action="store_true", help="smoke test: numba 10k 100k, mesa 10k, 3 years"
    )
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.years = 3 if args.years is None else args.years
        args.numba_sizes = args.numba_sizes or [10_000, 100_000]
        args.mesa_sizes = [10_000] if args.mesa_sizes is None else args.mesa_sizes
        args.mesa_repeats = 1 if args.mesa_repeats is None else args.mesa_repeats
    years = 10 if args.years is None else args.years
    numba_sizes = sorted(set(args.numba_sizes or [10_000, 100_000, 1_000_000]))
    mesa_sizes = sorted(set([10_000, 100_000] if args.mesa_sizes is None else args.mesa_sizes))
    mesa_repeats = 3 if args.mesa_repeats is None else args.mesa_repeats
    out = args.out or T.RESULTS / ("engines_quick.json" if args.quick else "engines.json")

    machine = T.machine_info()
    env: dict[str, str] = {}
    if args.threads is not None:
        env["NUMBA_NUM_THREADS"] = str(args.threads)
    started = time.perf_counter()
    results: dict[str, dict[int, dict[str, Any]]] = {"numba": {}, "mesa": {}}
    comparisons: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="urbsim-numba-cache-") as cache,
        tempfile.TemporaryDirectory(prefix="urbsim-bench-tables-") as tables,
    ):
        env["NUMBA_CACHE_DIR"] = cache
        print(f"[engines] compile probe, empty NUMBA_CACHE_DIR {cache} ...", flush=True)
        probe_spec = {"kind": "probe", "hpa": PROBE_HPA, "years": min(years, 3)}
        cold = T.run_worker(SCRIPT, probe_spec, env)
        if cold["cache_files_at_start"] != 0:
            raise RuntimeError("the compile probe did not start from an empty Numba cache")
        print("[engines] cache-load probe (cache filled) ...", flush=True)
        warm = T.run_worker(SCRIPT, probe_spec, env)
        machine.update({k: cold[k] for k in ("numba_threads", "numba_threading_layer")})

        plan = [("numba", s, args.repeats) for s in numba_sizes] + [
            ("mesa", s, mesa_repeats if s < 100_000 else args.mesa_large_repeats)
            for s in mesa_sizes
        ]
        for engine, agents, repeats in plan:
            label = size_label(agents)
            print(f"[engines] {engine} {label} ({repeats} run(s), {years} years) ...", flush=True)
            spec = {
                "kind": "engine",
                "engine": engine,
                "label": label,
                "hpa": HPA_AGENTS / agents,
                "years": years,
                "repeats": repeats,
                "table_out": str(Path(tables) / f"{engine}-{agents}.pkl"),
            }
            results[engine][agents] = T.run_worker(SCRIPT, spec, env)
        for agents in sorted(set(numba_sizes) & set(mesa_sizes)):
            comparisons[size_label(agents)] = compare_tables(
                Path(tables) / f"numba-{agents}.pkl", Path(tables) / f"mesa-{agents}.pkl"
            )

    summaries = {
        engine: {size_label(a): summarise(r) for a, r in sorted(by_size.items())}
        for engine, by_size in results.items()
    }
    ratios = {}
    for label, cmp in comparisons.items():
        nb, ms = summaries["numba"][label], summaries["mesa"][label]
        ratios[label] = {
            "household_step": ms["household"]["ns_per_household_year"]
            / nb["household"]["ns_per_household_year"],
            "whole_run": ms["whole_run"]["ns_per_household_year"]
            / nb["whole_run"]["ns_per_household_year"],
            "identical": cmp["identical"],
        }
    rss_slope = {}
    for engine, by_size in summaries.items():
        if len(by_size) >= 2:
            lo, hi = (
                min(by_size.values(), key=lambda s: s["n_households"]),
                max(by_size.values(), key=lambda s: s["n_households"]),
            )
            rss_slope[engine] = (
                hi["memory"]["peak_rss_bytes"] - lo["memory"]["peak_rss_bytes"]
            ) / (hi["n_households"] - lo["n_households"])
    any_run = next(r for by in results.values() for r in by.values())["runs"][0]
    first_year, last_year = any_run["first_year"], any_run["last_year"]
    result = {
        "benchmark": "engines",
        "quick": args.quick,
        "scenario": str(T.BASELINE.relative_to(T.ROOT)),
        "years": f"{first_year}-{last_year}",
        "n_years": years,
        "note": (
            f"baseline scenario unchanged, stepped {years} years ({first_year}-{last_year}) "
            "instead of to 2035 to keep the Mesa runs feasible"
        ),
        "sizes": {
            "numba": [size_label(a) for a in numba_sizes],
            "mesa": [size_label(a) for a in mesa_sizes],
        },
        "households_per_agent": {
            size_label(a): HPA_AGENTS / a for a in set(numba_sizes) | set(mesa_sizes)
        },
        "definitions": {
            "household": "engine.step: all household behaviour of a year",
            "shared": "model._start_year_updates: policy, places and governments (cost per "
            "place, so its ns per household falls with size)",
            "count_record": "model._count + model._record",
            "whole_run": "world build + model and engine build + all years + tables, "
            "in a process with the kernels already loaded; per household-year",
            "compile_s": "first minus second identical run in a fresh process with an empty "
            "NUMBA_CACHE_DIR",
            "cache_load_s": "the same with the cache filled",
            "engine_state_bytes_per_household_tracemalloc": "allocations left by building the "
            "engine (Mesa agents; the Numba engine's flag), per household",
            "state_bytes_per_household": "household arrays + engine state",
            "rss_slope_bytes_per_household": "(peak RSS at the largest size - at the smallest) "
            "/ (households difference); fixed costs cancel",
        },
        "compile": {
            "compile_s": cold["difference_s"],
            "cache_load_s": warm["difference_s"],
            "probe_households": cold["n_households"],
            "probe_years": cold["years"],
            "cold_probe": cold,
            "warm_probe": warm,
        },
        "results": summaries,
        "mesa_over_numba": ratios,
        "identical_national_tables": comparisons,
        "rss_slope_bytes_per_household": rss_slope,
        "raw": {e: {size_label(a): r for a, r in by.items()} for e, by in results.items()},
        "total_wall_s": time.perf_counter() - started,
        "machine": machine,
    }
    T.write_json(out, result)
    _print(result)
    print(f"\nwrote {out.relative_to(T.ROOT) if out.is_relative_to(T.ROOT) else out}")
    return 0


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(
        f"\nengines: {r['scenario']} {r['years']} ({r['note']})"
        + ("\n[QUICK: smoke test, not a measurement]" if r["quick"] else "")
    )
    print(
        f"{m['cpu_model']}, {m['cpus_available']} cpus, numba {m['versions']['numba']} "
        f"{m['numba_threads']} threads ({m['numba_threading_layer']}), mesa "
        f"{m['versions']['mesa']}, commit {(m['git_commit'] or '?')[:10]}"
        f"{' (dirty)' if m['git_dirty'] else ''}\n"
    )
    rows = []
    for engine in ("numba", "mesa"):
        for label, s in r["results"][engine].items():
            mem = s["memory"]
            rows.append(
                [
                    f"{engine} {label}",
                    f"{s['n_households']:,}",
                    str(s["repeats"]),
                    T.fmt(s["household"]["ns_per_household_year"], 0),
                    T.fmt(s["shared"]["ns_per_household_year"], 1),
                    T.fmt(s["shared"]["seconds_per_year"]["median"] * 1e3, 1),
                    T.fmt(s["count_record"]["ns_per_household_year"], 1),
                    T.fmt(s["whole_run"]["ns_per_household_year"], 0),
                    T.fmt(s["whole_run"]["seconds"]["median"], 2),
                    T.fmt(mem["state_bytes_per_household"], 1),
                    T.fmt(mem["peak_rss_bytes"] / 2**20, 0),
                ]
            )
    header = [
        "engine size",
        "households",
        "runs",
        "hh step ns/hh/yr",
        "shared ns/hh/yr",
        "shared ms/yr",
        "count+rec ns/hh/yr",
        "run ns/hh/yr",
        "run s",
        "state B/hh",
        "peak RSS MiB",
    ]
    print(T.table(rows, header))
    print()
    for label, q in r["mesa_over_numba"].items():
        print(
            f"Mesa/Numba at {label}: household step x{q['household_step']:,.0f}, whole run "
            f"x{q['whole_run']:,.0f}; national tables identical: "
            f"{str(q['identical']).lower()}"
        )
    c = r["compile"]
    print(
        f"Numba compile: {c['compile_s']:.2f} s (empty cache); loading from the cache: "
        f"{c['cache_load_s']:.2f} s  [probe: {c['probe_households']:,} households, "
        f"{c['probe_years']} years, first minus second run in one process]"
    )
    declared = next(iter(r["results"]["numba"].values()))["memory"]["bytes_per_household_declared"]
    slopes = ", ".join(f"{e} {v:,.0f}" for e, v in r["rss_slope_bytes_per_household"].items())
    print(
        f"bytes_per_household() (Numba state): {declared} B; peak RSS growth per household: "
        f"{slopes or '-'} B"
    )
    print(f"total wall time {r['total_wall_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
