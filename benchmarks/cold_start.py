"""Cold start of the ``urbsim`` command: how long a user waits before anything happens.

Measures, each in a fresh interpreter (the median of ``--repeats`` runs):

* ``urbsim --help``;
* ``urbsim check scenarios/baseline.toml``;
* a first ``urbsim run`` of a small baseline (``--hpa`` households per agent, 2010-2035)
  with an empty Numba cache (``NUMBA_CACHE_DIR`` set to a new empty folder: every kernel
  compiles) and the same run with that cache warm.

It also lists the heavy modules (numba, pandas, matplotlib, geopandas, pydantic, rich) that
``urbsim --help`` imports, which should be none of the first four.

Usage::

    .venv/bin/python benchmarks/cold_start.py            # ~3 minutes on 2 idle cores
    .venv/bin/python benchmarks/cold_start.py --quick    # 1 repeat of each

Writes ``benchmarks/results/cold_start.json`` (``cold_start_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import BASELINE, RESULTS, ROOT, machine_info, summary, table, write_json

#: Modules that ``urbsim --help`` must not import (each costs 0.1-1 s of start-up).
HEAVY = ("numba", "pandas", "matplotlib", "geopandas", "pydantic", "rich", "mesa", "pyarrow")

CLI = [sys.executable, "-m", "urbsim.cli"]


def _timed(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command in a fresh interpreter (fails loudly if the command does)."""
    # PYTHONPATH: the commands run this checkout's code, whatever the folder they run in.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    t = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall


def heavy_imports(args: list[str]) -> list[str]:
    """The modules of :data:`HEAVY` that the command imports (from ``python -X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    return [m for m in HEAVY if m in names]


def _run_args(out: Path, hpa: float) -> list[str]:
    # All the baseline's years: its policy timeline names years up to 2024.
    return [
        *CLI,
        "run",
        str(BASELINE),
        "--set",
        f"world.households_per_agent={hpa}",
        "--out",
        str(out),
    ]


def measure(repeats: int, hpa: float) -> dict[str, object]:
    """Median wall times of the four commands; see the module docstring."""
    times: dict[str, list[float]] = {"help": [], "check": [], "run_cold": [], "run_warm": []}
    for _ in range(repeats):
        times["help"].append(_timed([*CLI, "--help"], ROOT))
        times["check"].append(_timed([*CLI, "check", str(BASELINE)], ROOT))
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="urbsim-cold-") as tmp:
            cache = Path(tmp) / "numba-cache"
            cache.mkdir()
            env = {"NUMBA_CACHE_DIR": str(cache)}
            args = _run_args(Path(tmp) / "cold", hpa)
            times["run_cold"].append(_timed(args, Path(tmp), env))
            shutil.rmtree(Path(tmp) / "cold")
            times["run_warm"].append(_timed(args, Path(tmp), env))
    return {name: summary(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--hpa", type=float, default=40000.0, help="households per agent")
    parser.add_argument("--quick", action="store_true", help="one repeat of each")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    payload = {
        "machine": machine_info(),
        "settings": {"repeats": repeats, "hpa": args.hpa},
        "help_imports_heavy": heavy_imports([*CLI, "--help"]),
        "seconds": measure(repeats, args.hpa),
    }
    name = "cold_start_quick.json" if args.quick else "cold_start.json"
    path = write_json(args.out or RESULTS / name, payload)
    rows = [
        [cmd, f"{s['median']:.2f}", f"{s['min']:.2f}", f"{s['max']:.2f}"]
        for cmd, s in payload["seconds"].items()  # type: ignore[union-attr]
    ]
    print(table(rows, ["command", "median s", "min s", "max s"]))
    print(f"urbsim --help imports: {payload['help_imports_heavy'] or 'none of ' + str(HEAVY)}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
