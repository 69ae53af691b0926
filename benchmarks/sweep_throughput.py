"""Sweep throughput: runs per minute with each executor, and the driver's peak memory.

Each configuration runs a grid sweep over ``behaviour.move_base`` on ``scenarios/baseline.toml``
(2010-2035) in a fresh driver process, so that its peak RSS (``resource.getrusage``) is the
driver's own: the serial executor runs the model in the driver, the process pool and Dask in
worker processes. Scales: small (40,000 households per agent, about 10k agents) and demo (400,
about 1.0M agents). Runs per minute count the whole sweep: executor start-up (worker processes
importing urbsim, loading the Numba cache), runs, and assembly of the results. A larger small-
scale sweep shows that the driver's memory does not grow with the number of runs.

    .venv/bin/python benchmarks/sweep_throughput.py          # several minutes
    .venv/bin/python benchmarks/sweep_throughput.py --quick  # smoke test, numbers meaningless

Writes ``benchmarks/results/sweep_throughput.json`` (``sweep_throughput_quick.json``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import machine_info, run_worker, table, write_json

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
RESULTS = Path(__file__).resolve().parent / "results"

SWEEP = """\
base = "{base}"
seed = 1
replications = {reps}
households_per_agent = {hpa}
{end}

[design]
kind = "grid"

[[design.parameters]]
name = "behaviour.move_base"
values = {values}

[outputs]
national = ["urbanization_rate", "hukou_urbanization_rate", "service_gap"]

[outputs.metrics]
resident_urbanization = {{ column = "urbanization_rate", year = {year} }}
"""


def worker(spec: dict[str, Any]) -> None:
    """Run one sweep in this (fresh) process and write its measures to ``spec["out"]``."""
    import pandas as pd

    from urbsim.sweep import run_sweep

    with tempfile.TemporaryDirectory(prefix="urbsim-sweep-bench-") as tmp:
        start = time.perf_counter()
        outcome = run_sweep(
            spec["file"],
            Path(tmp) / "sweep",
            executor=spec["executor"],
            workers=spec["workers"],
            threads=spec["threads"],
            progress=False,
        )
        wall = time.perf_counter() - start
        assert outcome.complete and outcome.failed == 0, outcome
        runs = pd.read_parquet(Path(tmp) / "sweep" / "runs.parquet")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "runs": outcome.total,
        "sweep_wall_s": wall,
        "runs_per_minute": 60.0 * outcome.total / wall,
        "run_wall_median_s": statistics.median(runs["wall_seconds"]),
        "driver_peak_rss_mb": usage.ru_maxrss / 1024.0,
        "results_sha256": outcome.results_sha256,
    }
    Path(spec["out"]).write_text(json.dumps(result))


def write_sweep(folder: Path, name: str, hpa: float, points: int, reps: int, quick: bool) -> Path:
    values = [round(0.08 + 0.12 * i / max(points - 1, 1), 4) for i in range(points)]
    # The baseline's timeline reaches 2024, so a quick run stops there.
    end, year = ("[set]\nend_year = 2024", 2024) if quick else ("", 2035)
    text = SWEEP.format(
        base=BASELINE.as_posix(), reps=reps, hpa=hpa, values=values, end=end, year=year
    )
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny sweeps")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    quick = args.quick
    machine = machine_info()
    tmp = Path(tempfile.mkdtemp(prefix="urbsim-sweep-bench-"))
    scales = {
        # name: (households per agent, points, replications)
        "small": (40000.0, 6 if quick else 12, 2),
        "small_x4": (40000.0, 6 if quick else 24, 4),
        "demo": (4000.0 if quick else 400.0, 2, 2 if quick else 4),
    }
    files = {
        name: write_sweep(tmp, name, hpa, points, reps, quick)
        for name, (hpa, points, reps) in scales.items()
    }
    configs = [
        ("small", "serial", 1, 2),
        ("small", "local", 2, 1),
        ("small", "dask", 2, 1),
        ("small_x4", "local", 2, 1),
        ("demo", "serial", 1, 2),
        ("demo", "local", 2, 1),
        ("demo", "dask", 2, 1),
    ]
    rows: list[dict[str, Any]] = []
    for scale, executor, workers, threads in configs:
        print(f"[sweep_throughput] {scale} {executor} {workers}x{threads} ...", flush=True)
        spec = {
            "file": str(files[scale]),
            "executor": executor,
            "workers": workers,
            "threads": threads,
        }
        result = run_worker(Path(__file__).resolve(), spec)
        hpa = scales[scale][0]
        rows.append(
            {
                "scale": scale,
                "households_per_agent": hpa,
                "executor": executor,
                "workers": workers,
                "threads": threads,
                **result,
            }
        )
        print(
            f"    {result['runs']} runs in {result['sweep_wall_s']:.1f} s: "
            f"{result['runs_per_minute']:.1f} runs/min, driver peak "
            f"{result['driver_peak_rss_mb']:.0f} MB",
            flush=True,
        )
    # Same sweep, same results, whatever the executor.
    for scale in scales:
        hashes = {r["results_sha256"] for r in rows if r["scale"] == scale}
        assert len(hashes) == 1, f"{scale}: executors disagree: {hashes}"

    print()
    print(
        table(
            [
                [
                    r["scale"],
                    f"{r['households_per_agent']:g}",
                    r["executor"],
                    f"{r['workers']}x{r['threads']}",
                    str(r["runs"]),
                    f"{r['sweep_wall_s']:.1f}",
                    f"{r['runs_per_minute']:.1f}",
                    f"{r['run_wall_median_s']:.2f}",
                    f"{r['driver_peak_rss_mb']:.0f}",
                ]
                for r in rows
            ],
            [
                "scale",
                "hh/agent",
                "executor",
                "workers x threads",
                "runs",
                "sweep s",
                "runs/min",
                "run s (median)",
                "driver peak MB",
            ],
        )
    )
    name = "sweep_throughput_quick.json" if quick else "sweep_throughput.json"
    path = write_json(RESULTS / name, {"machine": machine, "quick": quick, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
