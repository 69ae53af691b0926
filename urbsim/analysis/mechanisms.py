"""Mechanism diagnostics of simulated histories: where urban growth comes from, who moves.

A calibrated model can meet national targets for the wrong reasons (in-situ reclassification
alone can produce the urbanization series), so the runs of the calibrated ensemble are read for
the mechanisms behind the targets:

* :func:`growth_decomposition`: each year's change of urban residents split into natural
  increase, net migration into urban zones and in-situ reclassification (the model's identity,
  :func:`urbsim.dynamics.indicators.urban_growth_decomposition`), per run and over a period;
* :func:`official_natural_share`: the share of urban growth natural increase explains in the
  official series if the urban population grew naturally at the national rate, by the residual
  method (urban growth minus urban natural increase is migration plus reclassification; United
  Nations 1974, *Manual VIII: Methods for Projections of Urban and Rural Population*,
  Population Studies 55). No official series gives the urban rate or splits the rest into
  migration and reclassification;
* :func:`mobility`: moves per year, the share of them that cross a province border, return
  migrants and their rate, households formed, the inter-province share of the floating
  population;
* :func:`age_profile`: the floating persons by the age band of their household's head (and
  the national column :data:`MEAN_AGE_COLUMN`, the floating heads' mean age);
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
    "return_migrants",
    "floating_population",
    "households_formed",
    "interprovince_floating_population",
    "intraprovince_floating_population",
)
#: National column of the floating heads' mean age (heads aged 15-59, one per household), the
#: analogue of the migrant survey's mean age of working-age migrants.
MEAN_AGE_COLUMN: Final = "floating_head_mean_age"
#: Place columns :func:`age_profile` reads: floating persons by the head's age band.
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
    if national.duplicated(["run", "year"]).any():
        raise ValueError("a run has a year twice")
    years = national[national["year"].between(first_year, last_year)]
    want = last_year - first_year + 1
    counts = years.groupby("run")["year"].count().reindex(national["run"].unique(), fill_value=0)
    short = counts[counts != want]
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


def official_natural_share(official: pd.DataFrame) -> pd.DataFrame:
    """The share of each year's official urban growth that natural increase at the national
    rate explains.

    With resident urbanization ``u`` (year-end, the published series) and the national natural
    growth rate ``n`` (per 1000, over the year's mean population), and the population growing
    by natural increase alone (``P[t] = P[t-1] (1 + n[t])``; net international migration is
    negligible for China), the urban population grows by ``P[t-1] (u[t] (1 + n[t]) - u[t-1])``
    and, if it grew naturally at the national rate, by ``n[t]`` times its mean over the year,
    ``P[t-1] (u[t-1] + u[t] (1 + n[t])) / 2``; the population cancels in the share. The urban
    natural growth rate itself is not published: lower urban fertility and a younger urban age
    structure pull it in opposite directions, so this share is the official series' figure under
    that stated assumption, not a bound. The rest of urban growth is migration and
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
        urban growth over the previous year's population), ``natural_share`` (NaN where urban
        growth is not positive): for every year with both urbanization rates and the natural
        growth rate.
    """
    _require(official, ("indicator", "year", "value"), "official_natural_share")

    def series(indicator: str, scale: float) -> pd.Series:
        rows = official[official["indicator"] == indicator]
        return rows.set_index("year")["value"].astype(float) / scale

    u = series("urbanization_rate_resident_original", 100.0)
    n = series("natural_growth_rate", 1000.0)
    rows = []
    for year in sorted(set(u.index) & set(n.index)):
        if year - 1 not in u.index:
            continue
        end = u[year] * (1.0 + n[year])
        growth = end - u[year - 1]
        natural = n[year] * 0.5 * (u[year - 1] + end)
        rows.append((year, growth, natural / growth if growth > 0 else float("nan")))
    return pd.DataFrame(rows, columns=["year", "urban_growth_share_of_population",
                                       "natural_share"])  # fmt: skip


def mobility(national: pd.DataFrame) -> pd.DataFrame:
    """Moves and returns per run and row (a year, or a period's sums: the shares are then
    ratios of the sums).

    Parameters
    ----------
    national
        One row per run and year (or period): ``run``, ``year`` and :data:`MOBILITY_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``year``, ``moves`` (households per year: changes of place or of zone),
        ``province_share`` (of the moves), ``return_migrants`` (persons per year moving back
        to their hukou place from elsewhere), ``return_rate`` (return migrants over the
        floating persons), ``households_formed``, ``interprovince_floating_share`` (of the
        floating persons whose hukou is in another county-level place); shares NaN where
        their total is 0.
    """
    _require(national, ("run", "year", *MOBILITY_COLUMNS), "mobility")
    d = national

    def ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
        return (a / b.where(b != 0)).to_numpy()

    floating = d["interprovince_floating_population"] + d["intraprovince_floating_population"]
    return pd.DataFrame(
        {
            "run": d["run"].to_numpy(),
            "year": d["year"].to_numpy(),
            "moves": d["moves"].to_numpy(),
            "province_share": ratio(d["province_moves"], d["moves"]),
            "return_migrants": d["return_migrants"].to_numpy(),
            "return_rate": ratio(d["return_migrants"], d["floating_population"]),
            "households_formed": d["households_formed"].to_numpy(),
            "interprovince_floating_share": ratio(d["interprovince_floating_population"], floating),
        }
    )


def age_profile(places: pd.DataFrame) -> pd.DataFrame:
    """The distribution of floating persons over their household head's age bands, per run and
    year.

    Parameters
    ----------
    places
        One row per run, year and place: ``run``, ``year`` and :data:`AGE_COLUMNS` (the place's
        floating persons by the age band of their household's head).

    Returns
    -------
    pandas.DataFrame
        ``run``, ``year``, ``band`` (one of :data:`urbsim.kernels.migrants.HEAD_AGE_BANDS`),
        ``migrants`` (national sum, persons) and ``share`` (of the run-year's floating persons;
        NaN when none).
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
        values, such as a share of zero moves, are left out) and ``runs`` (the group's runs).
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
    """A share over several years weighted by each year's total (a ratio of sums when the
    weights are the totals), NaN when the weights of the years with a share sum to 0."""
    w = np.asarray(weights, dtype=float)
    s = np.asarray(shares, dtype=float)
    ok = ~np.isnan(s)
    total = w[ok].sum()
    return float((s[ok] * w[ok]).sum() / total) if total else float("nan")


__all__ = [
    "AGE_COLUMNS",
    "COMPONENTS",
    "GROWTH_COLUMNS",
    "MEAN_AGE_COLUMN",
    "MOBILITY_COLUMNS",
    "across_runs",
    "age_profile",
    "growth_decomposition",
    "mobility",
    "official_natural_share",
    "weighted_mean_share",
]
