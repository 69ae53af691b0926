"""Build the packaged boundary files from the prefecture outlines of the census data set.

Usage (from the repository root)::

    .venv/bin/python docs/build_boundaries.py ../shared/data/boundaries/prefectures.csv

reads ``prefectures.csv`` (369 prefecture-level units of the 2020 division, outlines as WKT in
lon/lat; Dong, Du and Liu 2022, MIT licence) and writes two GeoParquet files into
``urbsim/data/``:

* ``prefectures.parquet``: one row per unit (``code``, ``name``, ``province_code``,
  ``province``, ``geometry``), the outlines simplified as one polygon *coverage* with a
  tolerance of :data:`TOLERANCE_DEG` degrees (about 3 km): shared borders are simplified once,
  so neighbours keep a common edge (no slivers, no overlaps), and every outline stays valid.
* ``provinces.parquet``: the provinces as the union of their simplified prefectures
  (``province_code``, ``province``, ``geometry``).

The sha256 and sizes printed at the end go into ``urbsim/data/README.md``. The files hold
lon/lat (EPSG:4326); maps project them when drawing (:mod:`urbsim.geo`).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Tolerance of the coverage simplification (degrees): about 3 km, a fraction of a pixel of a
#: 1200-pixel-wide map of China (about 0.05 degrees per pixel).
TOLERANCE_DEG: Final[float] = 0.03
DATA: Final[Path] = Path(__file__).resolve().parents[1] / "urbsim" / "data"


def read_outlines(path: Path) -> gpd.GeoDataFrame:
    """The outlines of ``prefectures.csv`` with the package's column names and code widths."""
    raw = pd.read_csv(path, dtype={"city_code": np.int32, "province_code": np.int32})
    geometry = shapely.from_wkt(raw["wkt"].to_numpy())
    if not shapely.coverage_is_valid(geometry):
        raise SystemExit(f"{path}: the outlines overlap; a coverage simplification needs none")
    frame = pd.DataFrame(
        {
            "code": raw["city_code"].astype(np.int32),
            "name": raw["city"].astype(str),
            # Two digits, as the places tables of urbsim hold them.
            "province_code": (raw["province_code"] // 10000).astype(np.int16),
            "province": raw["province"].astype(str),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def simplify(outlines: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """Simplify the outlines as one coverage; fail if an outline became invalid or empty."""
    simple = outlines.copy()
    simple["geometry"] = shapely.coverage_simplify(outlines.geometry.to_numpy(), tolerance)
    broken = simple[~simple.is_valid | simple.is_empty]
    if not broken.empty:
        raise SystemExit(f"simplification broke the outlines of {broken['code'].tolist()}")
    return simple


def provinces(prefectures: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Province outlines: the union of their prefectures' (a coverage, so the union is exact)."""
    rows = []
    for (code, name), group in prefectures.groupby(["province_code", "province"], sort=True):
        rows.append((code, name, shapely.coverage_union_all(group.geometry.to_numpy())))
    frame = pd.DataFrame(rows, columns=["province_code", "province", "geometry"])
    frame["province_code"] = frame["province_code"].astype(np.int16)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def write(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write GeoParquet and print the file's size and sha256 for the data README."""
    frame.to_parquet(path, compression="zstd", index=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path.name}: {len(frame)} rows, {path.stat().st_size:,} bytes, sha256 {digest}")


def main() -> None:
    """Read the outlines, simplify them, write the two packaged files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="prefectures.csv of the boundary data")
    parser.add_argument("--out", type=Path, default=DATA, help="folder to write into")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE_DEG, help="degrees")
    args = parser.parse_args()
    outlines = read_outlines(args.csv)
    simple = simplify(outlines, args.tolerance)
    before = int(shapely.get_num_coordinates(outlines.geometry.to_numpy()).sum())
    after = int(shapely.get_num_coordinates(simple.geometry.to_numpy()).sum())
    print(f"tolerance {args.tolerance} degrees: {before:,} -> {after:,} vertices")
    write(simple, args.out / "prefectures.parquet")
    write(provinces(simple), args.out / "provinces.parquet")


if __name__ == "__main__":
    main()
