"""Wages and housing costs of a run by city size class, from its places table.

The places table holds, per place and year, the urban wage and housing cost and the urban
residents. A size class's wage or housing cost is the mean over its places weighted by urban
residents (at least 1, so that a class of empty urban zones still has a mean). Places are
grouped by the size class of their city in a fixed year (the start year by default): the
class in force changes as cities grow, and growth measured over changing membership mixes
price growth with reclassification. This is the table of docs/ODD.md, section 7.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from urbsim.world.base import SIZE_CLASSES

#: Place columns averaged by default.
MARKET_COLUMNS: Final[tuple[str, str]] = ("housing_cost", "wage")


def size_class_means(
    places: pd.DataFrame,
    columns: Sequence[str] = MARKET_COLUMNS,
    class_year: int | None = None,
) -> pd.DataFrame:
    """Means of ``columns`` per size class and year, weighted by urban residents.

    Parameters
    ----------
    places
        A places table with ``year``, ``place_id``, ``size_class``, ``urban_residents`` and
        ``columns``.
    columns
        Place columns to average.
    class_year
        Year whose size class each place keeps throughout; None: the first year of the table.

    Returns
    -------
    pandas.DataFrame
        One row per size class (largest first) and year: ``size_class``, ``year``,
        ``urban_residents`` (persons) and the weighted mean of each column.

    Raises
    ------
    ValueError
        If a column is missing or ``class_year`` is not a year of the table.
    """
    missing = [
        c
        for c in ("year", "place_id", "size_class", "urban_residents", *columns)
        if c not in places
    ]
    if missing:
        raise ValueError(f"places table lacks {missing}")
    year = int(places["year"].min()) if class_year is None else class_year
    fixed = places.loc[places["year"] == year].set_index("place_id")["size_class"]
    if fixed.empty:
        raise ValueError(f"class_year={class_year}: not a year of the places table")
    weight = np.maximum(places["urban_residents"].to_numpy(dtype=float), 1.0)
    frame = pd.DataFrame(
        {
            "size_class": places["place_id"].map(fixed).to_numpy(),
            "year": places["year"].to_numpy(),
            "urban_residents": places["urban_residents"].to_numpy(dtype=float),
            "_w": weight,
            **{c: places[c].to_numpy(dtype=float) * weight for c in columns},
        }
    )
    sums = frame.groupby(["size_class", "year"]).sum()
    out = sums[["urban_residents"]].copy()
    for c in columns:
        out[c] = sums[c] / sums["_w"]
    out = out.reset_index()
    rank = out["size_class"].map({name: i for i, name in enumerate(SIZE_CLASSES)})
    out = out.assign(_rank=rank).sort_values(["_rank", "year"]).drop(columns="_rank")
    return out.reset_index(drop=True)


def growth_by_size_class(means: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Levels in ``start`` and ``end`` and their ratio, per size class, for every column of
    :func:`size_class_means` but the urban residents.

    Returns
    -------
    pandas.DataFrame
        Indexed by size class (largest first); columns ``<column>_<start>``,
        ``<column>_<end>`` and ``<column>_growth`` (the ratio).
    """
    values = [c for c in means.columns if c not in ("size_class", "year", "urban_residents")]
    wide = means.pivot(index="size_class", columns="year", values=values)
    present = [c for c in SIZE_CLASSES if c in wide.index]
    out = pd.DataFrame(index=pd.Index(present, name="size_class"))
    for c in values:
        out[f"{c}_{start}"] = wide[(c, start)]
        out[f"{c}_{end}"] = wide[(c, end)]
        out[f"{c}_growth"] = wide[(c, end)] / wide[(c, start)]
    return out
