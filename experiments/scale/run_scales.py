"""The runs of the scale study: the calibrated census scenario at several scales x seeds.

Each run is ``urbsim run scenarios/china_census.toml --seed S --set
world.households_per_agent=X`` (end year ``--end-year``), in a process of its own, one after
the other (each uses every core through Numba's threads), into ``OUT/hpa-X/seed-S/``. Its wall
time and its peak resident memory (the kernel's account of that process, ``os.wait4``) go to
``OUT/runs.csv`` with its household rows at the end. A run whose folder already holds a
manifest is kept (a stopped study resumes).

Of each run the folder keeps what the analysis reads: the national and flows tables, the
manifest (which describes the run as urbsim wrote it) and ``prefectures.parquet``, each
prefecture's residents in the first and the last year, summed from the places table
(:func:`keep_what_is_read`). The places table (6-8 MB a run at 100 and 10 households per agent)
and the run's figures are removed: kept, the nine runs took 62 MB of the repository. The
command that wrote a run is in its manifest's scenario and seed; rerun it to see the rest.

The seeds are ``SEED + k`` for ``k = 0 .. --seeds - 1`` at every scale. Runs of one seed at
two scales are not paired (agent i is a different household at each scale): the analysis
treats the scales' runs as independent samples.

Usage: python experiments/scale/run_scales.py OUT [--scales 1000 100 10] [--seeds 3]
       [--end-year 2035]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import pandas as pd

ROOT: Final = Path(__file__).resolve().parents[2]
SCENARIO: Final = ROOT / "scenarios" / "china_census.toml"
SEED: Final = 20261206
SCALES: Final = (1000.0, 100.0, 10.0)


def run_folder(out: Path, scale: float, seed: int) -> Path:
    """Where the run of ``scale`` and ``seed`` writes its tables."""
    return out / f"hpa-{scale:g}" / f"seed-{seed}"


def run_one(out: Path, scale: float, seed: int, end_year: int) -> dict[str, object]:
    """Run one scale and seed in a process of its own; its cost row."""
    folder = run_folder(out, scale, seed)
    command = [
        sys.executable,
        "-m",
        "urbsim",
        "run",
        str(SCENARIO),
        "--seed",
        str(seed),
        "--set",
        f"world.households_per_agent={scale!r}",
        "--set",
        f"end_year={end_year}",
        "--out",
        str(folder),
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the run of scale {scale:g}, seed {seed} failed (exit {proc.returncode})")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    keep_what_is_read(folder)
    return {
        "households_per_agent": scale,
        "seed": seed,
        # Household rows at the end of the run (the households formed included).
        "rows_at_end": float(manifest["notes"]["agents"]),
        "wall_s": wall,
        # ru_maxrss is in kilobytes on Linux.
        "peak_rss_bytes": float(usage.ru_maxrss) * 1024.0,
        "folder": str(folder.relative_to(out)),
    }


def keep_what_is_read(folder: Path) -> None:
    """Reduce a finished run's folder to what ``analyze.py`` reads: ``prefectures.parquet``
    (year, prefecture_code, residents; the first and the last year) from ``places.parquet``,
    which is then removed with the run's figures (module docstring)."""
    places = pd.read_parquet(
        folder / "places.parquet", columns=["year", "prefecture_code", "residents"]
    )
    ends = places["year"].agg(["min", "max"]).tolist()
    table = (
        places[places["year"].isin(ends)]
        .groupby(["year", "prefecture_code"], as_index=False)["residents"]
        .sum()
    )
    partial = folder / "prefectures.parquet.tmp"
    table.to_parquet(partial, index=False)
    partial.replace(folder / "prefectures.parquet")
    (folder / "places.parquet").unlink()
    shutil.rmtree(folder / "figures", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scales", type=float, nargs="+", default=list(SCALES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--end-year", type=int, default=2035)
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (the replication noise needs two runs)")
    if len(set(args.scales)) < 2 or min(args.scales) <= 0:
        parser.error("--scales must give at least two positive scales")
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "runs.csv"
    done = pd.read_csv(table) if table.exists() else pd.DataFrame()
    rows = []
    for scale in sorted(args.scales, reverse=True):
        for seed in range(SEED, SEED + args.seeds):
            folder = run_folder(args.out, scale, seed)
            kept = done[done["folder"] == str(folder.relative_to(args.out))] if len(done) else done
            if (folder / "manifest.json").exists() and len(kept):
                rows.append(kept.iloc[0].to_dict())
                continue
            rows.append(run_one(args.out, scale, seed, args.end_year))
            print(f"scale {scale:g}, seed {seed}: {rows[-1]['wall_s']:.0f} s", flush=True)
            pd.DataFrame(rows).to_csv(table, index=False, float_format="%.6g")
    # Runs of scales not asked for this time stay in the table (a study extended by a scale).
    folders = {str(r["folder"]) for r in rows}
    others = (
        [r for r in done.to_dict("records") if str(r["folder"]) not in folders] if len(done) else []
    )
    pd.DataFrame([*others, *rows]).to_csv(table, index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    sys.exit(main())
