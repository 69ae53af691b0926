"""Public-service gaps of a run by city size class, from its places table.

The places table holds, per place and year, its service users of all types
(``service_users``) and the two gaps as shares of them: the *entitlement gap* (needs that the
users' status does not entitle) and the *capacity gap* (entitled needs beyond the capacity).
Weighted by users, their sums over the places of a size class are that class's gaps, and their
sum over all places the national columns of the same names.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

#: The two gaps (places columns), in the order they add up to ``service_gap``.
GAP_COLUMNS: Final[tuple[str, str]] = ("entitlement_gap", "capacity_gap")


def gaps_by_size_class(places: pd.DataFrame) -> pd.DataFrame:
    """Entitlement and capacity gaps per size class and year, weighted by service users, in %.

    Parameters
    ----------
    places
        A places table with ``year``, ``size_class``, ``service_users`` and the columns of
        :data:`GAP_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``size_class``, ``users`` (persons), ``entitlement_gap_pct``,
        ``capacity_gap_pct`` and ``service_gap_pct`` (their sum); size classes without users
        in a year are left out.
    """
    missing = [c for c in ("year", "size_class", "service_users", *GAP_COLUMNS) if c not in places]
    if missing:
        raise ValueError(f"places table lacks {missing}")
    users = places["service_users"].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "year": places["year"].to_numpy(),
            "size_class": places["size_class"].astype(str).to_numpy(),
            "users": users,
            **{c: places[c].astype(float).to_numpy() * users for c in GAP_COLUMNS},
        }
    )
    sums = frame.groupby(["year", "size_class"], as_index=False)[["users", *GAP_COLUMNS]].sum()
    sums = sums[sums["users"] > 0].reset_index(drop=True)
    for c in GAP_COLUMNS:
        sums[f"{c}_pct"] = 100.0 * sums[c] / sums["users"]
    sums["service_gap_pct"] = sums["entitlement_gap_pct"] + sums["capacity_gap_pct"]
    cols = ["year", "size_class", "users", "entitlement_gap_pct", "capacity_gap_pct"]
    return sums[[*cols, "service_gap_pct"]]


def national_gaps(places: pd.DataFrame) -> pd.DataFrame:
    """The same gaps for the whole country per year (they equal the national table's
    ``entitlement_gap`` and ``capacity_gap`` times 100)."""
    allc = places.assign(size_class="all")
    out = gaps_by_size_class(allc).drop(columns="size_class")
    return out.astype({"year": np.int64})
