"""Derive ``prefecture_centroids.csv`` (the census world's coordinates) from the outlines.

Usage (from the repository root)::

    .venv/bin/python docs/build_centroids.py ../shared/data/boundaries/prefectures.csv OUT.csv

reads ``prefectures.csv`` (369 prefecture-level units of the **2020** division, outlines as WKT
in lon/lat; Dong, Du and Liu 2022, MIT licence) and writes one row per unit with the columns
of ``../shared/data/census/prefecture_centroids.csv``, which ``urbsim world build --centroids``
reads: ``city_code, city, province_code, province, lon, lat``.

The centroid is that of the unit's *filled* outline: every part of a multipolygon counts with
its area, and holes are filled (an enclave of another unit inside the outline counts as part of
it), computed in lon/lat degrees (planar, as shapely does) and rounded to 4 decimals (about
10 m). With holes filled, the point stays where the unit's territory surrounds it; 36 units
have holes (for example Hulunbuir, Kashgar, Tacheng), and some centroids move by up to 0.05
degrees if the holes are left out. This rule reproduces the shared file exactly: it is this
script's output byte for byte (``tests/world/test_centroids.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import shapely

#: Decimals of the written coordinates: 1e-4 degrees is about 11 m, far below a county's size.
DECIMALS: Final[int] = 4
COLUMNS: Final[tuple[str, ...]] = ("city_code", "city", "province_code", "province", "lon", "lat")


def filled(geometry: shapely.Geometry) -> shapely.MultiPolygon:
    """The outline with every hole filled (each polygon part reduced to its exterior ring)."""
    parts = geometry.geoms if isinstance(geometry, shapely.MultiPolygon) else [geometry]
    return shapely.MultiPolygon([shapely.Polygon(part.exterior) for part in parts])


def centroids(outlines: pd.DataFrame) -> pd.DataFrame:
    """Centroid table of the outlines of ``prefectures.csv``.

    Parameters
    ----------
    outlines : pandas.DataFrame
        ``city, city_code, province, province_code, wkt`` as in ``prefectures.csv``.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, in the order of the input rows.
    """
    geometry = [filled(g) for g in shapely.from_wkt(outlines["wkt"].to_numpy())]
    points = shapely.centroid(np.asarray(geometry, dtype=object))
    out = outlines[["city_code", "city", "province_code", "province"]].copy()
    out["lon"] = shapely.get_x(points).round(DECIMALS)
    out["lat"] = shapely.get_y(points).round(DECIMALS)
    return out[list(COLUMNS)]


def main(argv: list[str] | None = None) -> None:
    """Read the outlines, write the centroid table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefectures", type=Path, help="prefectures.csv (outlines as WKT)")
    parser.add_argument("out", type=Path, help="centroid table to write (CSV)")
    args = parser.parse_args(argv)
    table = centroids(pd.read_csv(args.prefectures))
    table.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(table)} prefecture-level units")


if __name__ == "__main__":
    main()
