"""How much memory the household step takes beyond the state it starts from, year by year.

Builds the census world (``scenarios/china_census.toml``) at ``--hpa`` households per agent and
runs ``--years`` years in this process. Around each year's household step (the engine's
``step``) it reads the process's resident memory before, the peak within (Linux's ``VmHWM``,
reset just before the step by writing ``5`` to ``/proc/self/clear_refs``) and the resident
memory after. The peak within less the memory before is what the step itself needs (its
buffers, lists and copies); the memory after less before is what stays between years. A year
of the same world at 40,000 households per agent runs first, so that compiling or loading the
kernels is not counted.

Whole-run peaks (``full_scale.py``) move by 0.05-0.1 GiB between runs of the same code at 10
households per agent (the world build's peak and the heap's layout vary with the threads'
timing), more than a change of a byte per household there; the step's own increase repeats
to the MiB, so changes to the step's memory are compared with this script, side by side.
Linux only (``/proc``).

Writes ``benchmarks/results/step_memory.json``.

Usage::

    .venv/bin/python benchmarks/step_memory.py                 # 10 hpa, 3 years, ~2 minutes
    .venv/bin/python benchmarks/step_memory.py --quick         # smoke test (1,000 hpa, 2 years)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import _timing as T

CENSUS = T.ROOT / "scenarios" / "china_census.toml"
GIB = 2**30


def _status_bytes(key: str) -> int:
    """A ``kB`` line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _reset_peak() -> None:
    """Set the process's peak resident memory (``VmHWM``) to its current resident memory."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def measure(hpa: float, years: int) -> list[dict[str, Any]]:
    """Resident memory before, at the peak within and after each year's household step."""
    from urbsim.model import UrbanizationModel, build_world
    from urbsim.scenario import load_scenario

    warm = load_scenario(CENSUS, ["world.households_per_agent=40000.0"])
    UrbanizationModel(warm, build_world(warm)).step()
    loaded = load_scenario(CENSUS, [f"world.households_per_agent={hpa!r}"])
    model = UrbanizationModel(loaded, build_world(loaded))
    engine_step = model.engine.step
    rows: list[dict[str, Any]] = []

    def step(inputs: Any, households: Any) -> Any:
        _reset_peak()
        before = _status_bytes("VmRSS")
        result = engine_step(inputs, households)
        rows.append(
            {
                "year": int(inputs.year),
                "rows": len(households),
                "rss_before_bytes": before,
                "peak_within_bytes": _status_bytes("VmHWM"),
                "rss_after_bytes": _status_bytes("VmRSS"),
            }
        )
        return result

    # An instance attribute: the model calls its engine's step, this wraps it for this run.
    model.engine.step = step
    for _ in range(years):
        model.step()
    for r in rows:
        r["step_peak_above_start_bytes"] = r["peak_within_bytes"] - r["rss_before_bytes"]
        r["kept_after_step_bytes"] = r["rss_after_bytes"] - r["rss_before_bytes"]
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hpa", type=float, default=10.0, help="households per agent (default 10)")
    p.add_argument("--years", type=int, default=3, help="years to run (default 3)")
    p.add_argument("--quick", action="store_true", help="smoke test: 1,000 hpa, 2 years")
    p.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = p.parse_args(argv)
    if args.quick:
        args.hpa, args.years = 1000.0, 2
    if not Path("/proc/self/clear_refs").exists():
        print("error: step_memory.py needs Linux's /proc/self/clear_refs", file=sys.stderr)
        return 2
    load_before = T.load_average()
    rows = measure(args.hpa, args.years)
    fields = {"households_per_agent": args.hpa, "years": rows}
    out = T.write_results("step_memory", args.quick, fields, load_before, args.out)
    print(
        T.table(
            [
                [
                    str(r["year"]),
                    f"{r['rows']:,}",
                    T.fmt(r["rss_before_bytes"] / GIB, 3),
                    T.fmt(r["step_peak_above_start_bytes"] / GIB, 3),
                    T.fmt(r["kept_after_step_bytes"] / GIB, 3),
                ]
                for r in rows
            ],
            ["year", "rows", "RSS before GiB", "step's peak above it GiB", "kept after GiB"],
        )
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
