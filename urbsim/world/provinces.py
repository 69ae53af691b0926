"""The embedded province table of the 2010 census (``urbsim/data/provinces_2010.csv``).

The table is read on demand by :func:`load_provinces` (never at import time) so that importing
:mod:`urbsim.world` stays cheap and a broken data file surfaces as a clear error at the call
site. See ``urbsim/data/README.md`` for the source and the definitions of the columns.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

import pandas as pd

from urbsim.world.base import REGIONS

#: Columns of the province table, in file order.
PROVINCE_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "province",
    "region",
    "capital_lon",
    "capital_lat",
    "residents_2010",
    "urban_2010",
    "hukou_2010",
    "nonagri_hukou_pct_2010",
    "households_2010",
    "inmigrants_other_province_2010",
    "county_units",
)
#: Number of provincial units of mainland China in the table.
N_PROVINCES: Final[int] = 31
#: Municipalities directly under the central government (one prefecture each in our worlds).
MUNICIPALITIES: Final[frozenset[int]] = frozenset({11, 12, 31, 50})

_INT_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "residents_2010",
    "urban_2010",
    "hukou_2010",
    "households_2010",
    "inmigrants_other_province_2010",
    "county_units",
)
_FLOAT_COLUMNS: Final[tuple[str, ...]] = ("capital_lon", "capital_lat", "nonagri_hukou_pct_2010")
_FILE: Final[str] = "provinces_2010.csv"


def load_provinces() -> pd.DataFrame:
    """Load and validate the 2010 province table.

    Returns
    -------
    pandas.DataFrame
        One row per province (31 rows, ordered by code) with the columns of
        :data:`PROVINCE_COLUMNS`; counts are ``int64``, coordinates and the percentage
        ``float64``, ``province`` and ``region`` strings. A fresh frame is returned on every call,
        so callers may modify it.

    Raises
    ------
    ValueError
        If the embedded file does not have the expected shape, columns or consistent values.
    """
    resource = resources.files("urbsim") / "data" / _FILE
    with resource.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"province": str, "region": str})

    if tuple(df.columns) != PROVINCE_COLUMNS:
        raise ValueError(f"{_FILE}: columns {list(df.columns)}, expected {list(PROVINCE_COLUMNS)}")
    if len(df) != N_PROVINCES:
        raise ValueError(f"{_FILE}: {len(df)} rows, expected {N_PROVINCES}")
    if df.isna().any().any():
        raise ValueError(f"{_FILE}: missing values")
    df = df.astype({c: "int64" for c in _INT_COLUMNS} | {c: "float64" for c in _FLOAT_COLUMNS})
    df = df.sort_values("code", ignore_index=True)

    if not df["code"].is_unique:
        raise ValueError(f"{_FILE}: duplicate province codes")
    bad_regions = sorted(set(df["region"]) - set(REGIONS))
    if bad_regions:
        raise ValueError(f"{_FILE}: unknown regions {bad_regions}")
    missing = MUNICIPALITIES - set(df["code"])
    if missing:
        raise ValueError(f"{_FILE}: municipalities {sorted(missing)} missing")
    positive = ["residents_2010", "urban_2010", "hukou_2010", "households_2010", "county_units"]
    if (df[positive] <= 0).any().any():
        raise ValueError(f"{_FILE}: counts must be positive")
    if (df["urban_2010"] > df["residents_2010"]).any():
        raise ValueError(f"{_FILE}: urban residents exceed residents")
    if (df["inmigrants_other_province_2010"] < 0).any() or (
        df["inmigrants_other_province_2010"] > df["residents_2010"]
    ).any():
        raise ValueError(f"{_FILE}: in-migrants out of range")
    if not df["nonagri_hukou_pct_2010"].between(0.0, 100.0).all():
        raise ValueError(f"{_FILE}: non-agricultural hukou percentage outside [0, 100]")
    if not (
        df["capital_lon"].between(73.0, 135.0).all() and df["capital_lat"].between(18.0, 54.0).all()
    ):
        raise ValueError(f"{_FILE}: capital coordinates outside China's bounding box")
    return df
