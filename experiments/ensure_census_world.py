"""Build ``worlds/census_2010.parquet`` from the census files if it is not there yet.

The census world's scenarios (``scenarios/china_census.toml`` and ``scenarios/policy/``) read
that file; it is built from data that are not in the repository (README, "Census world").
The experiments call this script as their first step, so ``urbsim reproduce`` works from a
fresh clone: the census files are looked for in ``$URBSIM_CENSUS_DATA``, by default
``../shared/data/census`` beside the checkout.

Usage: python experiments/ensure_census_world.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "worlds" / "census_2010.parquet"


def main() -> int:
    if WORLD.is_file():
        print(f"census world present: {WORLD.relative_to(ROOT)}")
        return 0
    data = Path(os.environ.get("URBSIM_CENSUS_DATA", ROOT.parent / "shared" / "data" / "census"))
    xlsx = data / "census_county_2010_v1.xlsx"
    centroids = data / "prefecture_centroids.csv"
    if not (xlsx.is_file() and centroids.is_file()):
        print(
            f"error: the census files are not in {data}; get them as README 'Census world' says "
            "and set URBSIM_CENSUS_DATA to their folder",
            file=sys.stderr,
        )
        return 2
    WORLD.parent.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "urbsim.cli",
        "world",
        "build",
        "--census-xlsx",
        str(xlsx),
        "--centroids",
        str(centroids),
        "--out",
        str(WORLD),
    ]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
