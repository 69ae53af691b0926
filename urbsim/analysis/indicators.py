"""Indicators computed from a run's places table: city sizes, the Zipf exponent, regions.

Each function takes the tidy places table of :meth:`urbsim.model.UrbanizationModel.places_table`
(one row per place and year) and returns a small tidy frame with one row per year (and group).
Sweeps and experiments use them to reduce a run to the numbers they keep.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from urbsim.world.base import REGIONS

#: Smallest prefecture city (urban residents of its districts) in the Zipf regression: the
#: medium class and above of the 2014 standard. Rank-size laws hold for the upper tail only.
ZIPF_MIN_SIZE: Final[float] = 0.5e6


def _require(places: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in places.columns]
    if missing:
        raise ValueError(f"places table lacks columns {missing}")


def prefecture_city_sizes(places: pd.DataFrame) -> pd.DataFrame:
    """Urban residents of each prefecture city (the sum over its urban districts) per year.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``prefecture_code``, ``urban_residents``; cities without districts
        are absent.
    """
    _require(places, ("year", "kind", "prefecture_code", "urban_residents"))
    districts = places[places["kind"] == "urban district"]
    return districts.groupby(["year", "prefecture_code"], as_index=False)["urban_residents"].sum()


def zipf_exponent(places: pd.DataFrame, min_size: float = ZIPF_MIN_SIZE) -> pd.DataFrame:
    """Rank-size (Zipf) exponent of prefecture cities per year.

    The exponent ``alpha`` is the least-squares slope in ``log(rank - 1/2) = c - alpha *
    log(size)`` over cities of at least ``min_size`` urban residents; the ``-1/2`` shift removes
    most of the small-sample bias of the plain rank regression (Gabaix and Ibragimov 2011).
    ``alpha = 1`` is Zipf's law; a smaller exponent means population more concentrated in the
    largest cities.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``zipf_exponent`` (NaN when fewer than three cities qualify),
        ``cities``.
    """
    sizes = prefecture_city_sizes(places)
    rows = []
    for year, group in sizes.groupby("year", sort=True):
        s = np.sort(group["urban_residents"].to_numpy(dtype=np.float64))[::-1]
        s = s[s >= min_size]
        if s.shape[0] < 3:
            rows.append((int(year), np.nan, int(s.shape[0])))
            continue
        rank = np.arange(1, s.shape[0] + 1, dtype=np.float64)
        slope = np.polyfit(np.log(s), np.log(rank - 0.5), 1)[0]
        rows.append((int(year), float(-slope), int(s.shape[0])))
    return pd.DataFrame(rows, columns=["year", "zipf_exponent", "cities"])


def residents_by_region(places: pd.DataFrame) -> pd.DataFrame:
    """Residents and urban residents per NBS region and year.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``region`` (in the order of :data:`urbsim.world.REGIONS`),
        ``residents``, ``urban_residents``.
    """
    _require(places, ("year", "region", "residents", "urban_residents"))
    out = places.groupby(["year", "region"], as_index=False)[["residents", "urban_residents"]].sum()
    out["region"] = pd.Categorical(out["region"], categories=list(REGIONS), ordered=True)
    return out.sort_values(["year", "region"], kind="stable").reset_index(drop=True)
