"""Local governments' settlement decisions of a run by city size class, from its places table.

With ``policy.local_response`` on, each local government scores its openness to new residents
every year and relaxes the central settlement rule of its places within the central bounds
(:mod:`urbsim.dynamics.local_policy`). The places table records, per place and year, the
government's ``openness`` and whether it relaxed the place's rule (``settlement_relaxed``);
this module counts them by size class so that a reader sees when and where the competition for
residents emerges (docs/ODD.md, section 7.19).
"""

from __future__ import annotations

import pandas as pd

from urbsim.world import KINDS, SIZE_CLASSES
from urbsim.world.base import DISTRICT

#: Places table columns the summary reads.
COLUMNS = (
    "year",
    "size_class",
    "kind",
    "urban_residents",
    "openness",
    "settlement_relaxed",
    "settlement_min_years",
)


def openness_by_size_class(places: pd.DataFrame, districts_only: bool = True) -> pd.DataFrame:
    """Per year and size class: places, places whose government relaxed their settlement rule,
    and the openness and residence years of the class.

    Parameters
    ----------
    places
        A places table (:data:`urbsim.output.columns.PLACES`) with the columns of
        :data:`COLUMNS`.
    districts_only
        Count urban districts only (county towns take the county-town rule, not their city's
        size class).

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``size_class``, ``places``, ``relaxed`` (places whose rule was
        relaxed), ``relaxed_pct`` (their share, %), ``mean_openness`` (weighted by urban
        residents) and ``mean_min_years`` (residence years required, weighted by urban
        residents); one row per year and size class with places, in size-class order.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    missing = [c for c in COLUMNS if c not in places]
    if missing:
        raise ValueError(f"places table lacks {missing}")
    frame = places[list(COLUMNS)]
    if districts_only:
        frame = frame[frame["kind"] == KINDS[DISTRICT]]
    weight = frame["urban_residents"].astype(float)
    work = pd.DataFrame(
        {
            "year": frame["year"],
            "size_class": frame["size_class"].astype(str),
            "places": 1,
            "relaxed": (frame["settlement_relaxed"] > 0).astype(int),
            "weight": weight,
            "open_w": frame["openness"].astype(float) * weight,
            "years_w": frame["settlement_min_years"].astype(float) * weight,
        }
    )
    keys = ["year", "size_class"]
    out = work.groupby(keys, as_index=False, sort=False).sum()
    out["relaxed_pct"] = 100.0 * out["relaxed"] / out["places"]
    positive = out["weight"] > 0
    out["mean_openness"] = (out["open_w"] / out["weight"]).where(positive, 0.0)
    out["mean_min_years"] = (out["years_w"] / out["weight"]).where(positive, 0.0)
    rank = {name: i for i, name in enumerate(SIZE_CLASSES)}
    out["rank"] = out["size_class"].map(rank).fillna(len(rank))
    out = out.sort_values(["year", "rank", "size_class"])
    cols = ["places", "relaxed", "relaxed_pct", "mean_openness", "mean_min_years"]
    return out[[*keys, *cols]].reset_index(drop=True)
