"""Packaged outlines of the 2020 prefectures and provinces, and the 2010 -> 2020 code table.

The outlines are those of the census data set of Dong, Du and Liu (2022, MIT licence; see
``urbsim/data/README.md``), simplified once by ``docs/build_boundaries.py``. They follow the
**2020** administrative division, while the census worlds carry the **2010** prefecture codes:
``urbsim/data/prefecture_codes_2010_2020.csv`` lists every 2010 prefecture whose code has no
2020 outline of its own (Chaohu split in 2011, Laiwu merged into Jinan in 2019, prefectures
re-coded as cities, county-level units administered by their province) and the 2010
prefectures a new 2020 unit was carved from. A 2010 code listed there maps to exactly its
listed 2020 codes; any other code maps to the outline of the same code.

A split or a merger makes the correspondence many-to-many, so maps draw *map units*: the
groups of 2010 prefectures and 2020 outlines connected through the table (Chaohu, Hefei, Wuhu
and Ma'anshan are one unit; Laiwu and Jinan another). A unit's value is that of all its 2010
prefectures together, painted on all its outlines, so nothing is counted twice or split by a
guess.

Files are read on first use and cached; callers get copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from urbsim.errors import UrbsimError

if TYPE_CHECKING:
    import geopandas as gpd

#: Albers equal-area conic for maps of China: standard parallels 25 and 47 degrees N, central
#: meridian 105 degrees E (the usual choice of Chinese atlases; areas are true, shapes nearly so
#: from Hainan to Heilongjiang).
ALBERS_CHINA: Final[str] = (
    "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +datum=WGS84 +units=m"
)

_PREFECTURES: Final[str] = "prefectures.parquet"
_PROVINCES: Final[str] = "provinces.parquet"
_CODE_TABLE: Final[str] = "prefecture_codes_2010_2020.csv"


class BoundaryCodeError(UrbsimError, ValueError):
    """Prefecture codes that neither have a 2020 outline nor a row in the code table."""


@cache
def _read_geoparquet(name: str) -> gpd.GeoDataFrame:
    import geopandas as gpd

    with resources.as_file(resources.files("urbsim") / "data" / name) as path:
        return gpd.read_parquet(path)


def load_prefectures() -> gpd.GeoDataFrame:
    """The 369 prefecture-level outlines of the 2020 division (lon/lat, EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code`` (6-digit 2020 code), ``name``, ``province_code`` (2 digits),
        ``province`` and ``geometry`` (simplified polygons sharing their borders exactly).
        Hong Kong and Macao are one row each; Taiwan is not in the data set.
    """
    return _read_geoparquet(_PREFECTURES).copy()


def load_provinces() -> gpd.GeoDataFrame:
    """The 33 provincial-level outlines (lon/lat, EPSG:4326): unions of their prefectures.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``province_code`` (2 digits), ``province`` and ``geometry``.
    """
    return _read_geoparquet(_PROVINCES).copy()


@lru_cache(maxsize=1)
def _read_code_table() -> pd.DataFrame:
    resource = resources.files("urbsim") / "data" / _CODE_TABLE
    with resource.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"code_2010": np.int64, "code_2020": np.int64})
    return table


def code_table() -> pd.DataFrame:
    """The explicit 2010 -> 2020 prefecture code table (``prefecture_codes_2010_2020.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``code_2010``, ``code_2020``, ``name`` (2010 name) and ``note`` (what changed
        and when); one row per pair, so a split 2010 prefecture has several rows.
    """
    return _read_code_table().copy()


def _edges(codes: Iterable[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """(2010 code, 2020 code) pairs of ``codes``, and the codes that have none."""
    table = _read_code_table()
    listed = table.groupby("code_2010")["code_2020"].apply(list).to_dict()
    outlines = set(_read_geoparquet(_PREFECTURES)["code"].astype(np.int64).tolist())
    edges: list[tuple[int, int]] = []
    missing: list[int] = []
    for code in sorted({int(c) for c in codes}):
        if code in listed:
            edges.extend((code, int(c2020)) for c2020 in listed[code])
        elif code in outlines:
            edges.append((code, code))
        else:
            missing.append(code)
    return edges, missing


def unmatched_codes(codes: Iterable[int]) -> list[int]:
    """The prefecture codes among ``codes`` that map to no 2020 outline, sorted.

    Parameters
    ----------
    codes
        2010 prefecture codes (6 digits), e.g. a places table's ``prefecture_code`` column.
    """
    return _edges(codes)[1]


def _components(edges: list[tuple[int, int]]) -> dict[int, int]:
    """2020 code -> smallest 2020 code connected to it through a shared 2010 code."""
    parent: dict[int, int] = {c2020: c2020 for _, c2020 in edges}

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]  # path halving keeps the trees flat
            c = parent[c]
        return c

    first: dict[int, int] = {}
    for c2010, c2020 in edges:
        a, b = root(first.setdefault(c2010, c2020)), root(c2020)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {c: root(c) for c in parent}


def prefecture_units(codes: Iterable[int]) -> pd.DataFrame:
    """The map units of 2010 prefecture codes: which outlines each is drawn on, and with whom.

    Parameters
    ----------
    codes
        2010 prefecture codes (6 digits); duplicates are fine.

    Returns
    -------
    pandas.DataFrame
        One row per (2010 code, 2020 outline) pair: ``code_2010``, ``code_2020`` and ``unit``
        (the smallest 2020 code of the group connected through splits and mergers), sorted.

    Raises
    ------
    BoundaryCodeError
        If a code has neither an outline nor a row in the code table.
    """
    edges, missing = _edges(codes)
    if missing:
        shown = ", ".join(str(c) for c in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise BoundaryCodeError(
            f"{len(missing)} prefecture code(s) have no 2020 outline and no row in "
            f"urbsim/data/{_CODE_TABLE}: {shown}"
        )
    unit = _components(edges)
    frame = pd.DataFrame(edges, columns=["code_2010", "code_2020"], dtype=np.int64)
    frame["unit"] = frame["code_2020"].map(unit).astype(np.int64)
    return frame.sort_values(["code_2010", "code_2020"], kind="stable").reset_index(drop=True)
