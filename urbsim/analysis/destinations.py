"""Where the inter-province migrants live and why that changes: one year's flows into and out
of each province's stock of floating persons whose hukou is in another province.

That stock, by province, is what the calibration's ``interprovince_distribution`` target
compares with the 2010 census (the ``inmigrants_other_province`` column of the place table,
summed over a province's places). When a run's distribution drifts from the census, a
modeller needs to know whether the provinces that gain receive more newcomers (from their
hukou places or onward from elsewhere) or lose fewer (fewer return home, take local hukou or
move on). :func:`destination_flows` splits one year's change of each province's stock into
those flows from the household arrays before and after the year; they add up to the change
exactly (:data:`ACCOUNTING`). The arrays before and after a step line up row by row
(:mod:`urbsim.analysis.household_years`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from urbsim.analysis.choice_check import full_logit_probabilities
from urbsim.analysis.household_years import exits, paired_rows
from urbsim.dynamics.destination_constants import predicted_shares
from urbsim.inputs import YearInputs
from urbsim.state import Households
from urbsim.world.base import MigrantStock

#: Columns of :func:`destination_flows` after ``province``: agent persons; the first five add to
#: the stock, the last four take from it (:data:`ACCOUNTING`).
FLOWS: Final[tuple[str, ...]] = (
    "stock_start",
    "arrived_from_home",
    "arrived_onward",
    "formed",
    "within",
    "returned",
    "settled",
    "dissolved",
    "left",
)
#: The identity the flows satisfy in every province.
ACCOUNTING: Final = (
    "stock_end = stock_start + arrived_from_home + arrived_onward + formed + within"
    " - returned - settled - dissolved - left"
)


def _counted(households: Households, province: np.ndarray) -> np.ndarray:
    """Households in the stock: alive, away from the hukou place, in another province."""
    h = households
    away = (h.persons > 0) & (h.place != h.hukou_place)
    return away & (province[h.place] != province[h.hukou_place])


def destination_stock(households: Households, province: np.ndarray) -> np.ndarray:
    """Persons of each province's inter-province migrant stock.

    Parameters
    ----------
    households
        The households.
    province
        Province index (0-based) of every place.

    Returns
    -------
    numpy.ndarray
        int64, one per province index (``province.max() + 1``): persons (agent units) of the
        floating households living in it whose hukou place is in another province.
    """
    return stock_corridors(households, province).sum(axis=0)


def destination_flows(before: Households, after: Households, province: np.ndarray) -> pd.DataFrame:
    """One year's flows of each province's inter-province migrant stock.

    Parameters
    ----------
    before
        The households at the start of the year.
    after
        The same households at its end (the rows of ``before`` first, as a step leaves them).
    province
        Province index (0-based) of every place.

    Returns
    -------
    pandas.DataFrame
        One row per province index (``province``) with :data:`FLOWS`, agent persons (multiply
        by the households per agent for national numbers):

        - ``stock_start``: persons of floating households living in the province at the start
          whose hukou place is in another province;
        - ``arrived_from_home``, ``arrived_onward``: persons in the stock at the end in
          households that were not in it at the start, by where they lived at the start: at
          their hukou place, or elsewhere (another province's stock, or away inside their own
          province);
        - ``formed``: persons of households formed in the year that are in the stock at its
          end;
        - ``within``: the change inside households in the stock at both ends (births,
          deaths, children leaving to form households of their own);
        - ``dissolved``, ``settled``, ``returned``, ``left``: persons at the start of the
          households out of the province's stock at its end, by the first that applies: no
          persons left; another hukou place (took local hukou); at the start's hukou place
          again; else (in another province, or in their hukou province away from home).

        The flows satisfy :data:`ACCOUNTING` (:func:`stock_end`).

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    size = int(province.max()) + 1
    c0 = _counted(before, province)
    c_end = _counted(after, province)
    c1 = c_end[:n]
    p0 = before.persons.astype(np.int64)
    p1 = after.persons[:n].astype(np.int64)
    d0 = province[before.place]
    d1 = province[after.place[:n]]
    stays = c0 & c1 & (d0 == d1)
    enters = c1 & ~stays
    # Leaving a province's stock includes moving on to another province's.
    out = exits(before, after, c0, stays)
    home = before.place == before.hukou_place

    def at(where: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(where[mask], values[mask], size)

    new = after.place[n:]
    table = pd.DataFrame(
        {
            "province": np.arange(size),
            "stock_start": at(d0, p0, c0),
            "arrived_from_home": at(d1, p1, enters & home),
            "arrived_onward": at(d1, p1, enters & ~home),
            "formed": at(province[new], after.persons[n:].astype(np.int64), c_end[n:]),
            "within": at(d0, p1 - p0, stays),
            "returned": at(d0, p0, out.returned),
            "settled": at(d0, p0, out.settled),
            "dissolved": at(d0, p0, out.dissolved),
            "left": at(d0, p0, out.other),
        }
    )
    table[list(FLOWS)] = table[list(FLOWS)].astype(np.int64)
    return table


def stock_end(table: pd.DataFrame) -> pd.Series:
    """Each province's stock at the end of the year by :data:`ACCOUNTING`."""
    gained, lost = table[list(FLOWS[:5])], table[list(FLOWS[5:])]
    return gained.sum(axis=1) - lost.sum(axis=1)


def share_changes(flows: pd.DataFrame) -> pd.DataFrame:
    """Each province's share of the national stock at the start of the first year and at the
    end of the last, and its flows summed over the years.

    Parameters
    ----------
    flows
        Yearly :func:`destination_flows` tables stacked, with a ``year`` column.

    Returns
    -------
    pandas.DataFrame
        One row per ``province`` with ``share_start``, ``share_end``, ``change`` (end less
        start) and every flow of :data:`FLOWS` but the stock summed over the years, with
        ``stock_start`` (first year) and ``stock_end`` (last year); sorted by the size of the
        change, largest first. The total variation distance between the two distributions is
        half the sum of the absolute changes.
    """
    first = flows[flows["year"] == flows["year"].min()].set_index("province")
    last = flows[flows["year"] == flows["year"].max()].set_index("province")
    summed = flows.groupby("province")[list(FLOWS[1:])].sum()
    end = stock_end(last.reset_index()).set_axis(last.index)
    table = pd.DataFrame(
        {
            "stock_start": first["stock_start"],
            "stock_end": end,
            "share_start": first["stock_start"] / first["stock_start"].sum(),
            "share_end": end / end.sum(),
        }
    )
    table["change"] = table["share_end"] - table["share_start"]
    table = table.join(summed)
    order = table["change"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index()


def _matrix(
    origin: np.ndarray, destination: np.ndarray, persons: np.ndarray, size: int
) -> np.ndarray:
    """Persons summed by (origin, destination) index pair into a ``(size, size)`` int64 table."""
    out = np.zeros((size, size), dtype=np.int64)
    np.add.at(out, (origin, destination), persons.astype(np.int64))
    return out


def stock_corridors(households: Households, province: np.ndarray) -> np.ndarray:
    """The inter-province migrant stock by hukou province and province lived in.

    Parameters
    ----------
    households
        The households.
    province
        Province index (0-based) of every place.

    Returns
    -------
    numpy.ndarray
        int64 ``(P, P)``, ``P = province.max() + 1``: persons (agent units) by hukou province
        (rows) and the province they live in (columns); the columns sum to
        :func:`destination_stock`.
    """
    c = _counted(households, province)
    h = households
    size = int(province.max()) + 1
    return _matrix(province[h.hukou_place[c]], province[h.place[c]], h.persons[c], size)


def leaving_corridors(before: Households, after: Households, province: np.ndarray) -> np.ndarray:
    """Where those who leave home for another province in a year go, by hukou province.

    Parameters
    ----------
    before, after
        The households at the start and the end of the year (as :func:`destination_flows`).
    province
        Province index (0-based) of every place.

    Returns
    -------
    numpy.ndarray
        int64 ``(P, P)``: persons (agent units, at the year's end) of the households that lived
        at their hukou place at the start and in another province at the end, by hukou
        province (rows) and the province they went to (columns); to compare with where their
        province's stock lives (:func:`stock_corridors`). The columns sum to
        ``arrived_from_home`` of :func:`destination_flows`.

    Raises
    ------
    ValueError
        When ``after`` has fewer rows than ``before``.
    """
    n = paired_rows(before, after)
    went = (before.place == before.hukou_place) & _counted(after, province)[:n]
    size = int(province.max()) + 1
    origin = province[before.hukou_place[went]]
    return _matrix(origin, province[after.place[:n][went]], after.persons[:n][went], size)


def corridor_concentration(stock: np.ndarray, leaving: np.ndarray) -> pd.DataFrame:
    """Per hukou province: how far the destinations of those leaving home are from those of
    its stock.

    Parameters
    ----------
    stock
        :func:`stock_corridors` at the start.
    leaving
        :func:`leaving_corridors`, one year's or summed over years.

    Returns
    -------
    pandas.DataFrame
        One row per province index with ``stock`` and ``leaving`` (persons), ``top`` (the
        province index that received most of the leavers; -1 without leavers), ``top_leaving``
        (its share of them), ``top_stock`` (its share of the province's stock) and
        ``variation`` (total variation distance between the leavers' and the stock's
        distributions over destinations; NaN without leavers or stock). Leavers spread over
        destinations as the stock give 0; all going where little of the stock lives, near 1.
    """
    s_total, l_total = stock.sum(axis=1), leaving.sum(axis=1)
    s_share = np.divide(
        stock, s_total[:, None], out=np.zeros(stock.shape), where=s_total[:, None] > 0
    )
    l_share = np.divide(
        leaving, l_total[:, None], out=np.zeros(stock.shape), where=l_total[:, None] > 0
    )
    top = np.where(l_total > 0, leaving.argmax(axis=1), -1)
    rows = np.arange(stock.shape[0])
    pick = np.maximum(top, 0)
    both = (l_total > 0) & (s_total > 0)
    return pd.DataFrame(
        {
            "province": rows,
            "stock": s_total,
            "leaving": l_total,
            "top": top,
            "top_leaving": np.where(l_total > 0, l_share[rows, pick], np.nan),
            "top_stock": np.where(l_total > 0, s_share[rows, pick], np.nan),
            "variation": np.where(both, 0.5 * np.abs(l_share - s_share).sum(axis=1), np.nan),
        }
    )


def full_logit_destinations(
    inputs: YearInputs, households: Households, rows: np.ndarray, province: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Where the utility sends households, without sampling: the mean over ``rows`` of their
    logit over the full choice set (:func:`urbsim.analysis.choice_check.full_logit_probabilities`).

    Parameters
    ----------
    inputs
        A year's inputs of the household engines (``UrbanizationModel.year_inputs``).
    households
        The households the inputs' network counts.
    rows
        The households whose choices are averaged (each as if it considered moving).
    province
        Province index (0-based) of every place.

    Returns
    -------
    move : float
        Mean probability of choosing an alternative at another place than the current one.
    far : float
        Mean probability of choosing a place in another province than the current place's.
    destinations : numpy.ndarray
        Mean probability of choosing each province (index ``province``; the current place's
        province 0), summed over its places: ``far`` in all. Divided by ``far``, where the
        households' moves to another province would go, to compare with where their
        province's stock lives (:func:`stock_corridors`).

    Raises
    ------
    ValueError
        When ``rows`` is empty.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        raise ValueError("rows is empty: no household to average over")
    move, far = 0.0, 0.0
    destinations = np.zeros(int(province.max()) + 1)
    for i in rows:
        alternatives, p = full_logit_probabilities(inputs, households, int(i))
        place = np.array([a[0] for a in alternatives])
        current = households.place[i]
        elsewhere = place != current
        across = elsewhere & (province[place] != province[current])
        move += float(p[elsewhere].sum())
        far += float(p[across].sum())
        np.add.at(destinations, province[place[across]], p[across])
    return move / rows.size, far / rows.size, destinations / rows.size


def constants_by_province(
    utilities: np.ndarray,
    constants: np.ndarray,
    stock: MigrantStock,
    province: np.ndarray,
    codes: np.ndarray,
) -> pd.DataFrame:
    """What the destination constants do, by province: where movers leaving every place in
    proportion to its out-migrants would go by the observed terms alone and with the constants
    (:func:`urbsim.dynamics.destination_constants.predicted_shares`), against where the
    in-migrants live.

    Parameters
    ----------
    utilities
        ``(n, n)`` destination utilities by the observed terms
        (:meth:`urbsim.model.UrbanizationModel.mover_utilities`).
    constants
        ``(2, n)`` the places' constants for movers from the province and from others (util).
    stock
        The start year's in- and out-migrants of every place (persons).
    province
        Province index of every place.
    codes
        Province code of every index.

    Returns
    -------
    pandas.DataFrame
        One row per province code, largest in-migrant share first: ``in_migrant_share`` (of
        all in-migrants, from other counties of the province and from other provinces),
        ``share_without_constants``, ``share_with_constants`` (of the movers' arrivals), the
        same three for the arrivals from other provinces only (``across_`` prefix: shares of
        all arrivals, so that their sum over provinces is the inter-province share), and
        ``mean_constant_within``, ``mean_constant_across`` (util, weighted by the in-migrants
        of the scope, less the national mean so weighted).
    """
    k = len(codes)
    m = np.asarray(stock.in_migrants, dtype=np.float64)
    without = predicted_shares(utilities, province, np.zeros_like(constants), stock.out_migrants)
    with_constants = predicted_shares(utilities, province, constants, stock.out_migrants)
    columns: dict[str, np.ndarray] = {"province_code": codes}
    for prefix, rows in (("", slice(None)), ("across_", slice(1, 2))):
        columns[f"{prefix}in_migrant_share"] = np.bincount(province, m[rows].sum(0), k) / m.sum()
        for name, shares in (("without", without), ("with", with_constants)):
            columns[f"{prefix}share_{name}_constants"] = np.bincount(
                province, shares[rows].sum(0), k
            )
    for scope, name in enumerate(("within", "across")):
        weight = np.bincount(province, m[scope], k)
        mean = np.bincount(province, m[scope] * constants[scope], k)
        national = (m[scope] @ constants[scope]) / m[scope].sum()
        columns[f"mean_constant_{name}"] = mean / np.where(weight > 0, weight, np.nan) - national
    table = pd.DataFrame(columns)
    return table.sort_values("in_migrant_share", ascending=False, ignore_index=True)
