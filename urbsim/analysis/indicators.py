"""Indicators computed from a run's places table: city sizes, the Zipf exponent, regions.

Each function takes the tidy places table of :meth:`urbsim.model.UrbanizationModel.places_table`
(one row per place and year) and returns a small tidy frame with one row per year (and group).
Sweeps and experiments use them to reduce a run to the numbers they keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from urbsim.world.base import REGIONS

#: Smallest prefecture city (urban residents of its districts) in the Zipf regression: the
#: medium class and above of the 2014 standard. Rank-size laws hold for the upper tail only,
#: and the districts of the smallest prefectures are towns, not cities. The indicator, the
#: sweep reducer and the rank-size figure all use this threshold.
ZIPF_MIN_SIZE: Final[float] = 0.5e6


@dataclass(frozen=True)
class ZipfFit:
    """A Gabaix-Ibragimov rank-size fit (see :func:`gabaix_ibragimov`).

    Attributes
    ----------
    zeta : float
        The Zipf exponent (NaN with fewer than three cities).
    se : float
        Its asymptotic standard error ``zeta * sqrt(2 / n)``.
    intercept : float
        ``a`` of ``ln(rank - 1/2) = a - zeta ln(size)``.
    n : int
        Cities in the fit.
    """

    zeta: float
    se: float
    intercept: float
    n: int


def gabaix_ibragimov(sizes: ArrayLike, min_size: float = ZIPF_MIN_SIZE) -> ZipfFit:
    """Zipf exponent by the rank-1/2 regression of Gabaix and Ibragimov (2011).

    Ordinary least squares of ``ln(rank - 1/2) = a - zeta ln(size)`` over the sizes of at least
    ``min_size``, ranked from the largest (rank 1). The shift of 1/2 removes the leading
    small-sample bias of the plain log-rank regression; the standard error is
    ``zeta * sqrt(2 / n)`` (their eq. 5), not the OLS one, which is far too small because
    ranks are not independent. ``zeta = 1`` is Zipf's law; a smaller exponent means people more
    concentrated in the largest cities.

    Parameters
    ----------
    sizes
        City sizes (any order; values below ``min_size`` are left out).
    min_size
        Smallest size in the fit.

    Returns
    -------
    ZipfFit
        NaN exponent, error and intercept when fewer than three sizes qualify.
    """
    s = np.sort(np.asarray(sizes, dtype=np.float64))[::-1]
    s = s[s >= min_size]
    n = int(s.shape[0])
    if n < 3:
        return ZipfFit(np.nan, np.nan, np.nan, n)
    rank = np.arange(1, n + 1, dtype=np.float64)
    slope, intercept = np.polyfit(np.log(s), np.log(rank - 0.5), 1)
    zeta = float(-slope)
    return ZipfFit(zeta, zeta * float(np.sqrt(2.0 / n)), float(intercept), n)


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


def zipf_sample(places: pd.DataFrame, min_size: float = ZIPF_MIN_SIZE) -> pd.DataFrame:
    """The prefecture cities of the Zipf fit per year, ranked from the largest.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``prefecture_code``, ``urban_residents`` (of at least ``min_size``)
        and ``rank`` (1 = largest; ties broken by code so that ranks never depend on the sort
        algorithm), sorted by year and rank.
    """
    sizes = prefecture_city_sizes(places)
    sizes = sizes[sizes["urban_residents"] >= min_size]
    sizes = sizes.sort_values(
        ["year", "urban_residents", "prefecture_code"],
        ascending=[True, False, True],
        kind="stable",
    )
    sizes = sizes.assign(rank=sizes.groupby("year").cumcount() + 1)
    return sizes.reset_index(drop=True)


def zipf_exponent(places: pd.DataFrame, min_size: float = ZIPF_MIN_SIZE) -> pd.DataFrame:
    """Rank-size (Zipf) exponent of prefecture cities per year (:func:`gabaix_ibragimov`).

    A city is the urban residents of a prefecture's urban districts
    (:func:`prefecture_city_sizes`); cities below ``min_size`` (default
    :data:`ZIPF_MIN_SIZE`, 0.5 million) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``zipf_exponent`` (NaN when fewer than three cities qualify),
        ``zipf_se`` (Gabaix-Ibragimov standard error) and ``cities``.
    """
    sizes = prefecture_city_sizes(places)
    rows = []
    for year, group in sizes.groupby("year", sort=True):
        fit = gabaix_ibragimov(group["urban_residents"].to_numpy(), min_size)
        rows.append((int(year), fit.zeta, fit.se, fit.n))
    return pd.DataFrame(rows, columns=["year", "zipf_exponent", "zipf_se", "cities"])


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
