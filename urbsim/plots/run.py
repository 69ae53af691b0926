"""The standard figures of a run, drawn from its two output tables alone.

Every figure is a seaborn figure-level plot drawn and saved with the shared conventions of
:mod:`urbsim.plots.style` (fixed size and resolution, no software tag in the PNG metadata), so
the same tables give the same bytes and a redrawn figure can be checked against the one in a
run folder. Nothing is drawn at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from urbsim.analysis.indicators import ZIPF_MIN_SIZE, ZipfFit, gabaix_ibragimov, zipf_sample
from urbsim.analysis.services import GAP_COLUMNS, gaps_by_size_class
from urbsim.plots.style import (
    FIGSIZE,
    PlotDataError,
    check_formats,
    figure_style,
    integer_years,
    legend_right,
    plain_log_ticks,
    require_columns,
    save_figure,
)
from urbsim.world.base import SIZE_CLASSES

#: File names, in the order :func:`draw_all` draws them.
FIGURES: Final[tuple[str, ...]] = (
    "urbanization.png",
    "rank_size.png",
    "map.png",
    "service_gap.png",
)

_NATIONAL_COLUMNS: Final[tuple[str, ...]] = ("year", "urbanization_rate", "hukou_urbanization_rate")
_PLACES_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "place_id",
    "prefecture_code",
    "kind",
    "size_class",
    "lon",
    "lat",
    "urban_residents",
    "service_capacity",
    "service_demand",
)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def draw_urbanization(
    national: pd.DataFrame, folder: Path, formats: Sequence[str] = ("png",)
) -> Path:
    """Resident and hukou urbanization rates over the years (``urbanization.png``).

    One file per format of ``formats`` (``"png"``, ``"svg"``, ``"pdf"``); returns the first.
    """
    import seaborn as sns

    require_columns(national, _NATIONAL_COLUMNS, "national")
    labels = {"urbanization_rate": "Resident", "hukou_urbanization_rate": "Hukou"}
    long = national.melt(
        id_vars="year", value_vars=list(labels), var_name="measure", value_name="share"
    )
    long["measure"] = long["measure"].map(labels)
    long["share"] = long["share"].astype(float) * 100.0
    with figure_style():
        g = sns.relplot(
            data=long,
            x="year",
            y="share",
            hue="measure",
            style="measure",
            hue_order=list(labels.values()),
            style_order=list(labels.values()),
            kind="line",
            markers=True,
            dashes=False,
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        g.set_axis_labels("Year", "Share of residents (%)")
        g.figure.suptitle(
            "Resident urbanization (urban residents) and hukou urbanization\n"
            "(residents with non-agricultural hukou)"
        )
        integer_years(g.ax)
        legend_right(g, "Urbanization")
        return save_figure(g.figure, Path(folder) / "urbanization.png", formats=formats)


def _zipf_points(places: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, ZipfFit]]:
    """Cities of the Zipf fit in the first and last year, and each year's fit."""
    years = sorted({int(places["year"].min()), int(places["year"].max())})
    sample = zipf_sample(places[places["year"].isin(years)], ZIPF_MIN_SIZE)
    fits = {
        int(year): gabaix_ibragimov(group["urban_residents"].to_numpy(), ZIPF_MIN_SIZE)
        for year, group in sample.groupby("year", sort=True)
    }
    sample = sample.assign(
        millions=sample["urban_residents"] / 1e6, shifted_rank=sample["rank"] - 0.5
    )
    return sample, fits


def _fit_label(year: int, fit: ZipfFit) -> str:
    """Legend entry of a year: exponent, standard error and number of cities."""
    if np.isnan(fit.zeta):
        return f"{year}: too few ({fit.n})"
    return f"{year}: {fit.zeta:.2f} ± {fit.se:.2f} ({fit.n})"


def draw_rank_size(places: pd.DataFrame, folder: Path, formats: Sequence[str] = ("png",)) -> Path:
    """Rank-size plot of prefecture cities in the first and last year (``rank_size.png``).

    A city is the sum of the urban residents of the prefecture's urban districts; cities of at
    least :data:`~urbsim.analysis.indicators.ZIPF_MIN_SIZE` (0.5 million) are drawn, as
    ``rank - 1/2`` against size on log scales, with the Gabaix-Ibragimov fit of each year
    (:func:`~urbsim.analysis.indicators.gabaix_ibragimov`, the estimator of the
    ``zipf_exponent`` indicator): the legend gives the exponent ζ and its standard error.
    Returns the file of the first of ``formats``.
    """
    import seaborn as sns

    require_columns(places, _PLACES_COLUMNS, "places")
    sample, fits = _zipf_points(places)
    if sample.empty:
        raise PlotDataError(
            f"places table has no prefecture city of at least {ZIPF_MIN_SIZE / 1e6:g} million "
            "urban residents"
        )
    labels = {year: _fit_label(year, fit) for year, fit in fits.items()}
    sample["year_label"] = sample["year"].astype(int).map(labels)
    order = [labels[y] for y in sorted(labels)]
    palette = dict(zip(order, sns.color_palette("deep", len(order)), strict=True))
    with figure_style():
        g = sns.relplot(
            data=sample,
            x="millions",
            y="shifted_rank",
            hue="year_label",
            hue_order=order,
            style="year_label",
            style_order=order,
            kind="scatter",
            s=40,
            palette=palette,
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1],
        )
        for year, fit in fits.items():
            if np.isnan(fit.zeta):
                continue
            # ln(rank - 1/2) = a - zeta ln(size): a straight line on log-log axes.
            sizes = sample.loc[sample["year"] == year, "urban_residents"]
            x = np.array([sizes.min(), sizes.max()])
            y = np.exp(fit.intercept - fit.zeta * np.log(x))
            g.ax.plot(x / 1e6, y, color=palette[labels[year]], linewidth=1.2)
        g.set(xscale="log", yscale="log")
        plain_log_ticks(g.ax, "x")
        plain_log_ticks(g.ax, "y")
        g.set_axis_labels(
            "Urban residents of districts (millions, log scale)", "Rank − 1/2 (log scale)"
        )
        g.figure.suptitle(
            f"Rank-size of prefecture cities of at least {ZIPF_MIN_SIZE / 1e6:g} million urban "
            "residents\n(lines: Gabaix-Ibragimov fit; ζ = 1 is Zipf's law)"
        )
        # Inside the axes, top right: the large cities leave that corner empty, and the labels
        # are wider than the legend column of the other figures.
        sns.move_legend(
            g,
            "upper right",
            bbox_to_anchor=(0.97, 0.86),
            title="Year: ζ ± s.e. (cities)",
            frameon=True,
        )
        return save_figure(
            g.figure, Path(folder) / "rank_size.png", legend_share=0.0, formats=formats
        )


def _growth_norm(growth: pd.Series) -> Any:
    """Symmetric colour scale centred on 0 %, saturating at the 98th percentile of |growth|.

    Symmetric so that a loss and a gain of the same size get the same depth of colour; the
    98th percentile keeps a few small units with huge rates from washing out the rest.
    """
    import matplotlib as mpl

    rates = np.abs(growth.dropna().to_numpy())
    top = float(np.percentile(rates, 98)) if len(rates) else 1.0
    top = max(top, 1.0)
    return mpl.colors.Normalize(vmin=-top, vmax=top)


def draw_map(places: pd.DataFrame, folder: Path, formats: Sequence[str] = ("png",)) -> Path:
    """Choropleth of the growth of urban residents over the run (``map.png``).

    Colour is the growth of the urban residents of each prefecture (all its places) from the
    first to the last year, in %, on a diverging scale centred on 0 (red: gained, blue: lost);
    the country's growth is marked on the colour bar. Census-world runs are drawn by
    prefecture (2010 codes on the 2020 outlines, :mod:`urbsim.geo`); runs whose prefecture
    codes are not the census's (the synthetic world) by province. Outlines without data (Hong
    Kong and Macao; Taiwan is not in the data) are light grey.

    Parameters
    ----------
    places
        Places table of the run.
    folder
        Existing folder to write into.
    formats
        File formats (``"png"``, ``"svg"``, ``"pdf"``); one file per format.

    Returns
    -------
    Path
        The file of the first format.
    """
    import matplotlib as mpl

    from urbsim.plots.maps import draw_choropleth, map_level, map_values

    require_columns(places, _PLACES_COLUMNS, "places")
    level = map_level(places)
    growth, first, last, national = map_values(places, level)
    if level == "prefecture":
        title = f"Growth of urban residents {first}-{last} by prefecture"
    else:
        title = (
            f"Growth of urban residents {first}-{last} by province\n"
            "(the run's prefectures are synthetic, not the census's)"
        )
    with figure_style():
        fig = draw_choropleth(
            growth,
            level,
            cmap=mpl.colormaps["RdBu_r"],
            norm=_growth_norm(growth),
            label=f"Growth of urban residents {first}-{last} (%)",
            title=title,
            marks={f"China {national:+.0f} %": national},
            lowest=-100.0,  # a unit cannot lose more than all its urban residents
        )
        return save_figure(fig, Path(folder) / "map.png", legend_share=0.0, formats=formats)


def service_gap_by_size_class(places: pd.DataFrame) -> pd.DataFrame:
    """Urban-resident-weighted service gap per size class and year, in %.

    A place's gap is its ``service_gap`` column (the share of its users' service needs not
    served: entitlement plus capacity gap, as in the national table), weighted here by urban
    residents. Tables without that column fall back to ``1 - service_capacity /
    service_demand`` clipped to [0, 1]. :func:`urbsim.analysis.services.gaps_by_size_class`
    gives the two gaps weighted by service users.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``size_class`` and ``gap_pct``; size classes without urban residents
        in a year are left out.
    """
    if "service_gap" in places.columns:
        gap = places["service_gap"].astype(float).to_numpy()
    else:
        demand = places["service_demand"].astype(float).to_numpy()
        capacity = places["service_capacity"].astype(float).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(demand > 0, 1.0 - capacity / demand, 0.0)
    weight = places["urban_residents"].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "year": places["year"].to_numpy(),
            "size_class": places["size_class"].astype(str).to_numpy(),
            "weighted": np.clip(np.nan_to_num(gap, nan=0.0), 0.0, 1.0) * weight,
            "weight": weight,
        }
    )
    sums = frame.groupby(["year", "size_class"], as_index=False)[["weighted", "weight"]].sum()
    sums = sums[sums["weight"] > 0]
    sums["gap_pct"] = sums["weighted"] / sums["weight"] * 100.0
    return sums[["year", "size_class", "gap_pct"]].reset_index(drop=True)


def _gap_frame(places: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Gaps by size class to draw: entitlement and capacity gaps (long, column ``gap``) when
    the table has them, else the single service gap; and the facet column (or None)."""
    if all(c in places.columns for c in (*GAP_COLUMNS, "service_users")):
        wide = gaps_by_size_class(places)
        long = wide.melt(
            id_vars=["year", "size_class"],
            value_vars=["entitlement_gap_pct", "capacity_gap_pct"],
            var_name="gap",
            value_name="gap_pct",
        )
        long["gap"] = long["gap"].map(
            {"entitlement_gap_pct": "Entitlement gap", "capacity_gap_pct": "Capacity gap"}
        )
        return long, "gap"
    return service_gap_by_size_class(places), None


def draw_service_gap(places: pd.DataFrame, folder: Path, formats: Sequence[str] = ("png",)) -> Path:
    """Service gaps by city size class over the years (``service_gap.png``): the entitlement
    and the capacity gap side by side where the table has them, else the service gap.

    One file per format of ``formats`` (``"png"``, ``"svg"``, ``"pdf"``); returns the first.
    """
    import seaborn as sns

    require_columns(places, _PLACES_COLUMNS, "places")
    gaps, facet = _gap_frame(places)
    if gaps.empty:
        raise PlotDataError("places table has no urban residents to weight the service gap")
    # One colour per size class across all runs, whichever classes a run happens to have.
    palette = dict(zip(SIZE_CLASSES, sns.color_palette("viridis", len(SIZE_CLASSES)), strict=True))
    present = [c for c in SIZE_CLASSES if c in set(gaps["size_class"])]
    present += sorted(set(gaps["size_class"]) - set(SIZE_CLASSES))  # unknown: shown, greyed
    palette.update({c: (0.5, 0.5, 0.5) for c in present if c not in palette})
    with figure_style():
        g = sns.relplot(
            data=gaps,
            x="year",
            y="gap_pct",
            hue="size_class",
            hue_order=present,
            palette={c: palette[c] for c in present},
            col=facet,
            kind="line",
            marker="o",
            height=FIGSIZE[1],
            aspect=FIGSIZE[0] / FIGSIZE[1] / (2.0 if facet else 1.0),
        )
        g.set_axis_labels("Year", "Service needs not served (%)")
        if facet:
            g.set_titles("{col_name}")
        g.figure.suptitle(
            "Public-service gaps by city size class\n(entitlement: status; capacity: entitled "
            "but not served; weighted by users)"
            if facet
            else "Public-service gap by city size class\n(weighted by urban residents)"
        )
        for ax in g.axes.flat:
            integer_years(ax)
        legend_right(g, "City size class")
        return save_figure(g.figure, Path(folder) / "service_gap.png", formats=formats)


def draw_all(
    national: pd.DataFrame,
    places: pd.DataFrame,
    folder: Path,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """Draw every standard figure into ``folder``.

    Parameters
    ----------
    national
        National table (one row per year).
    places
        Places table (one row per place and year).
    folder
        Existing folder to write the files into.
    formats
        File formats, any of ``"png"``, ``"svg"``, ``"pdf"``: each figure is written once per
        format, under the name of :data:`FIGURES` with the format's suffix.

    Returns
    -------
    list of Path
        The files written: the figures in the order of :data:`FIGURES`, each in the order of
        ``formats``.

    Raises
    ------
    urbsim.errors.InputError
        If ``formats`` names an unknown format (checked before anything is drawn).
    """
    folder = Path(folder)
    formats = check_formats(formats)
    drawers: list[Callable[[], Path]] = [
        lambda: draw_urbanization(national, folder, formats),
        lambda: draw_rank_size(places, folder, formats),
        lambda: draw_map(places, folder, formats),
        lambda: draw_service_gap(places, folder, formats),
    ]
    first = [draw() for draw in drawers]
    return [path.with_suffix(f".{fmt}") for path in first for fmt in formats]
