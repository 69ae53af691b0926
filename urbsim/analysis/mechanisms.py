"""Mechanism diagnostics of simulated histories: where urban growth comes from, who moves.

A calibrated model can meet national targets for the wrong reasons (in-situ reclassification
alone can produce the urbanization series), so the runs of the calibrated ensemble are read for
the mechanisms behind the targets:

* :func:`growth_decomposition`: each year's change of urban residents split into natural
  increase, net migration into urban zones and in-situ reclassification (the model's identity,
  :func:`urbsim.dynamics.indicators.urban_growth_decomposition`), per run and over a period;
* :func:`official_natural_share_bound`: the share of urban growth that natural increase can at
  most explain in the official series, by the residual method (urban growth minus urban natural
  increase is migration plus reclassification; United Nations 1974, *Manual VIII: Methods for
  Projections of Urban and Rural Population*, Population Studies 55). No official series splits
  the rest into migration and reclassification; the bound is what the data allow;
* :func:`mobility`: moves per year, the shares of them that cross a province border or go back
  to the hukou place, return migrants, households formed, the inter-province share of the
  floating population;
* :func:`age_profile`: the distribution of migrant households by the head's age band;
* :func:`across_runs`: ensemble mean and the central range of any of these over runs.

Inputs are tidy frames with one row per run and year (``run`` and ``year`` columns plus the
national columns of :data:`urbsim.output.columns.NATIONAL` the function reads). Nothing here
reads files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from urbsim.kernels.migrants import HEAD_AGE_BANDS

#: The three sources of urban growth, in the order of the national columns
#: ``urban_growth_<component>``.
COMPONENTS: Final[tuple[str, ...]] = ("natural", "migration", "reclassification")
#: National columns :func:`growth_decomposition` reads.
GROWTH_COLUMNS: Final[tuple[str, ...]] = tuple(f"urban_growth_{c}" for c in COMPONENTS)
#: National columns :func:`mobility` reads.
MOBILITY_COLUMNS: Final[tuple[str, ...]] = (
    "moves",
    "province_moves",
    "return_moves",
    "return_migrants",
    "households_formed",
    "interprovince_floating_population",
    "intraprovince_floating_population",
)
#: Place columns :func:`age_profile` reads: migrants by the head's age band.
AGE_COLUMNS: Final[tuple[str, ...]] = tuple(f"migrants_head_{b}" for b in HEAD_AGE_BANDS)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: no column {missing}")


def growth_decomposition(national: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """Urban growth by source, per run and year and summed over ``first_year..last_year``.

    Parameters
    ----------
    national
        One row per run and year: ``run``, ``year`` and :data:`GROWTH_COLUMNS` (persons per
        year; the start year's row, the initial state, holds zeros and is not a year of growth).
    first_year, last_year
        The years of growth summed in the period rows (both included).

    Returns
    -------
    pandas.DataFrame
        One row per run and year of the period, and one per run with ``year`` = 0 for the
        period's sum (``period`` says which): the three components (persons), ``total`` and
        each component's share of the total (``share_<component>``; NaN when the total is 0).
    """
    _require(national, ("run", "year", *GROWTH_COLUMNS), "growth_decomposition")
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    years = national[national["year"].between(first_year, last_year)]
    per_run = years.groupby("run")["year"].nunique()
    short = per_run[per_run != last_year - first_year + 1]
    if len(short) or years.empty:
        raise ValueError(f"runs without every year {first_year}-{last_year}: {list(short.index)}")
    parts = years[["run", "year", *GROWTH_COLUMNS]].rename(
        columns=dict(zip(GROWTH_COLUMNS, COMPONENTS, strict=True))
    )
    sums = parts.groupby("run", as_index=False)[list(COMPONENTS)].sum().assign(year=0)
    out = pd.concat(
        [parts.assign(period="year"), sums.assign(period=f"{first_year}-{last_year}")],
        ignore_index=True,
    )
    out["total"] = out[list(COMPONENTS)].sum(axis=1)
    total = out["total"].where(out["total"] != 0)
    for c in COMPONENTS:
        out[f"share_{c}"] = out[c] / total
    return out[["run", "period", "year", *COMPONENTS, "total", *(f"share_{c}" for c in COMPONENTS)]]


def official_natural_share_bound(official: pd.DataFrame) -> pd.DataFrame:
    """The largest share of each year's urban growth natural increase can explain, officially.

    With resident urbanization ``u`` (year-end, the published series) and the national natural
    growth rate ``n`` (per 1000), and the population growing by natural increase alone
    (``P[t] = P[t-1] (1 + n[t])``; net international migration is negligible for China), the
    urban population grows by ``P[t-1] (u[t] (1 + n[t]) - u[t-1])`` and urban natural increase
    at the national rate is ``P[t-1] u[t-1] n[t]``; the population cancels in the share. Urban
    fertility is below the national, so the urban natural increase is smaller and the share an
    upper bound; the rest of urban growth (at least ``1 - bound``) is migration and
    reclassification, which no official series separates.

    Parameters
    ----------
    official
        The official series (:func:`urbsim.analysis.targets.read_official`): rows
        ``urbanization_rate_resident_original`` (percent) and ``natural_growth_rate``
        (per 1000).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``urban_growth_share_of_population`` (``u[t](1 + n[t]) - u[t-1]``, the year's
        urban growth over the previous year's population), ``natural_share_bound``: for every
        year with both urbanization rates and the natural growth rate.
    """
    _require(official, ("indicator", "year", "value"), "official_natural_share_bound")

    def series(indicator: str, scale: float) -> pd.Series:
        rows = official[official["indicator"] == indicator]
        return rows.set_index("year")["value"].astype(float) / scale

    u = series("urbanization_rate_resident_original", 100.0)
    n = series("natural_growth_rate", 1000.0)
    rows = []
    for year in sorted(set(u.index) & set(n.index)):
        if year - 1 not in u.index:
            continue
        growth = u[year] * (1.0 + n[year]) - u[year - 1]
        rows.append((year, growth, u[year - 1] * n[year] / growth))
    return pd.DataFrame(rows, columns=["year", "urban_growth_share_of_population",
                                       "natural_share_bound"])  # fmt: skip


def mobility(national: pd.DataFrame) -> pd.DataFrame:
    """Moves and returns per run and year.

    Parameters
    ----------
    national
        One row per run and year: ``run``, ``year`` and :data:`MOBILITY_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``year``, ``moves`` (households per year), ``province_share`` and
        ``return_share`` (of the year's moves), ``return_migrants`` (persons per year),
        ``households_formed``, ``interprovince_floating_share`` (of the floating persons whose
        hukou is in another county-level place); shares NaN where their total is 0.
    """
    _require(national, ("run", "year", *MOBILITY_COLUMNS), "mobility")
    d = national
    moves = d["moves"].where(d["moves"] != 0)
    floating = d["interprovince_floating_population"] + d["intraprovince_floating_population"]
    return pd.DataFrame(
        {
            "run": d["run"].to_numpy(),
            "year": d["year"].to_numpy(),
            "moves": d["moves"].to_numpy(),
            "province_share": (d["province_moves"] / moves).to_numpy(),
            "return_share": (d["return_moves"] / moves).to_numpy(),
            "return_migrants": d["return_migrants"].to_numpy(),
            "households_formed": d["households_formed"].to_numpy(),
            "interprovince_floating_share": (
                d["interprovince_floating_population"] / floating.where(floating != 0)
            ).to_numpy(),
        }
    )


def age_profile(places: pd.DataFrame) -> pd.DataFrame:
    """The distribution of migrant households over the head's age bands, per run and year.

    Parameters
    ----------
    places
        One row per run, year and place: ``run``, ``year`` and :data:`AGE_COLUMNS` (migrants of
        the place by the head's age band).

    Returns
    -------
    pandas.DataFrame
        ``run``, ``year``, ``band`` (one of :data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`),
        ``migrants`` (national sum) and ``share`` (of the run-year's migrants; NaN when none).
    """
    _require(places, ("run", "year", *AGE_COLUMNS), "age_profile")
    sums = places.groupby(["run", "year"])[list(AGE_COLUMNS)].sum()
    sums.columns = list(HEAD_AGE_BANDS)
    long = sums.stack().rename("migrants").rename_axis(["run", "year", "band"]).reset_index()
    total = long.groupby(["run", "year"])["migrants"].transform("sum")
    long["share"] = long["migrants"] / total.where(total != 0)
    return long


def across_runs(
    frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """Ensemble mean and central range over runs of each column, per group.

    Parameters
    ----------
    frame
        One row per run and group (a ``run`` column and the ``by`` columns).
    by
        Columns that define a group (a year, a band); each group's rows are its runs.
    columns
        The values summarised.
    level
        Central share of the runs between ``lo`` and ``hi`` (0.95: the 2.5 and 97.5 %
        quantiles).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``; per column, ``<column>``, ``<column>_lo``, ``<column>_hi`` (NaN
        values, such as a share of zero moves, are left out) and ``runs``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level {level} is not between 0 and 1")
    tail = (1.0 - level) / 2.0
    g = frame.groupby(list(by))
    parts = {"runs": g["run"].nunique()}
    for c in columns:
        parts[c] = g[c].mean()
        parts[f"{c}_lo"] = g[c].quantile(tail)
        parts[f"{c}_hi"] = g[c].quantile(1.0 - tail)
    out = pd.DataFrame(parts)
    return out[[*(k for c in columns for k in (c, f"{c}_lo", f"{c}_hi")), "runs"]]


def weighted_mean_share(shares: pd.Series, weights: pd.Series) -> float:
    """A share over several years weighted by each year's total (a ratio of sums), NaN when
    the weights sum to 0."""
    w = np.asarray(weights, dtype=float)
    s = np.asarray(shares, dtype=float)
    ok = ~np.isnan(s)
    total = w[ok].sum()
    return float((s[ok] * w[ok]).sum() / total) if total else float("nan")


__all__ = [
    "AGE_COLUMNS",
    "COMPONENTS",
    "GROWTH_COLUMNS",
    "MOBILITY_COLUMNS",
    "across_runs",
    "age_profile",
    "growth_decomposition",
    "mobility",
    "official_natural_share_bound",
    "weighted_mean_share",
]
