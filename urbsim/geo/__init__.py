"""Packaged boundaries of China's prefectures and provinces, and the map projection.

* :mod:`urbsim.geo.boundaries`: the simplified outlines of the 2020 division (GeoParquet in
  ``urbsim/data/``, built by ``docs/build_boundaries.py``), the explicit table from the 2010
  census's prefecture codes to the 2020 outlines, and the map units a places table is drawn
  on.

Nothing is read, and neither geopandas nor shapely is imported, at import time.
"""

from urbsim.geo.boundaries import (
    ALBERS_CHINA,
    BoundaryCodeError,
    code_table,
    load_prefectures,
    load_provinces,
    prefecture_units,
    unmatched_codes,
)

__all__ = [
    "ALBERS_CHINA",
    "BoundaryCodeError",
    "code_table",
    "load_prefectures",
    "load_provinces",
    "prefecture_units",
    "unmatched_codes",
]
