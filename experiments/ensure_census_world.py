"""Build ``worlds/census_2010.parquet`` from the census files if it is not there yet.

The census world's scenarios (``scenarios/china_census.toml`` and ``scenarios/policy/``) read
that file; it is built from data that are not in the repository (README, "Census world").
The experiments call this script as their first step, so ``urbsim reproduce`` works from a
fresh clone: the census files are looked for in ``$URBSIM_CENSUS_DATA``, by default
``../shared/data/census`` beside the checkout.

The world is built by ``python -m urbsim world build`` (the command's own checks and report);
the script then checks that the file exists. When the world cannot be built it prints one
``error:`` line and exits with code 2, so ``urbsim reproduce`` stops at this step instead of
running every sweep without a world.

Usage: python experiments/ensure_census_world.py [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "worlds" / "census_2010.parquet"
XLSX = "census_county_2010_v1.xlsx"
CENTROIDS = "prefecture_centroids.csv"
#: Exit code when the world cannot be built (a user error: missing or bad census files).
FAILED = 2


def census_folder() -> Path:
    """Where the census files are: ``$URBSIM_CENSUS_DATA``, else ``../shared/data/census``."""
    default = ROOT.parent / "shared" / "data" / "census"
    return Path(os.environ.get("URBSIM_CENSUS_DATA", default))


def _child_error(stderr: str) -> str:
    """The reason a failed ``urbsim world build`` gave, on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            # The command's error paragraph may wrap: keep it whole, on one line.
            return " ".join([line.removeprefix("error:").strip(), *lines[i + 1 :]])
    # No error paragraph: a crash; its last line names the exception.
    return lines[-1] if lines else "no message"


def build(world: Path, data: Path) -> str | None:
    """Build the world file; the reason on failure, None on success."""
    xlsx, centroids = data / XLSX, data / CENTROIDS
    missing = [p.name for p in (xlsx, centroids) if not p.is_file()]
    if missing:
        return (
            f"{', '.join(missing)} not found in {data}; get the census files as README "
            "'Census world' says and set URBSIM_CENSUS_DATA to their folder"
        )
    world.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "urbsim", "world", "build", "--census-xlsx", str(xlsx)]
    cmd += ["--centroids", str(centroids), "--out", str(world)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"urbsim world build exited with {proc.returncode}: {_child_error(proc.stderr)}"
    # Trust the file, not the exit code: a command that did nothing must not pass this step.
    if not world.is_file():
        return f"urbsim world build exited with 0 but wrote no {world}"
    sys.stdout.write(proc.stdout)
    return None


def main(argv: list[str] | None = None) -> int:
    """Build the census world when it is missing; 0 when it is there afterwards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WORLD, help="World file (default %(default)s).")
    args = parser.parse_args(argv)
    world: Path = args.out
    if world.is_file():
        print(f"census world present: {world}")
        return 0
    reason = build(world, census_folder())
    if reason is not None:
        print(f"error: cannot build the census world {world}: {reason}", file=sys.stderr)
        return FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
